//! Placeholder: image preprocessing is being written.
