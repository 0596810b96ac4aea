//! Placeholder: the mobilenet family is being written.
