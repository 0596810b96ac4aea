//! Placeholder: the densenet family is being written.
