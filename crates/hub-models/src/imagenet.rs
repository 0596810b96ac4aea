//! Placeholder: ImageNet categories are being written.
