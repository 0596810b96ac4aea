//! Model architectures in burn, PyTorch weight import, the registry and pre/post-processing.
#![warn(missing_docs)]

pub use hub_core;
