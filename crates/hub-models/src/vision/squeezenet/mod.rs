//! Placeholder: the squeezenet family is being written.
