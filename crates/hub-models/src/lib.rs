//! Model architectures in burn, PyTorch weight import, the registry and pre/post-processing.
//!
//! ```no_run
//! use hub_models::{load, LoadOptions};
//! let model = load("pytorch/vision", "resnet50", LoadOptions::default())?;
//! for p in &model.classify_files(&["cat.jpg"], 5)?[0] {
//!     println!("{:>6.2}%  {}", p.probability * 100.0, p.label);
//! }
//! # Ok::<(), hub_models::Error>(())
//! ```
#![warn(missing_docs)]

pub use hub_core;

pub mod builtin;
pub mod convert;
pub mod error;
pub mod gan;
pub mod imagenet;
pub mod import;
pub mod kernels;
pub mod load;
pub mod preprocess;
pub mod registry;
pub mod segmentation;
pub mod tasks;
pub mod text;
pub mod tts;
pub mod vision;

pub use error::{Error, Result};
pub use load::{fetch_weights, help, list, load, load_on, load_with, plan, Cpu, LoadOptions, Loaded, Plan};
pub use tasks::{GeneratedText, Prediction};
