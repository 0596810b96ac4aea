//! Model architectures in burn, PyTorch weight import, the registry and pre/post-processing.
#![warn(missing_docs)]

pub use hub_core;

pub mod imagenet;
pub mod import;
pub mod preprocess;
pub mod text;
pub mod vision;
