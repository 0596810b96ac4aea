//! Placeholder: the inception family is being written.
