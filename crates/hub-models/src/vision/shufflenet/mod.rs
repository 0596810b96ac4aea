//! Placeholder: the shufflenet family is being written.
