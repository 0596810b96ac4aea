//! Placeholder: the efficientnet family is being written.
