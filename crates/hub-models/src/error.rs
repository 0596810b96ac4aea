//! The error type of hub-models.

use std::path::PathBuf;

/// Everything that can go wrong while loading or running a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The hub layer failed (spec, manifest, download, cache, lockfile, offline).
    #[error(transparent)]
    Hub(#[from] hub_core::Error),

    /// A checkpoint could not be imported.
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),

    /// An input could not be prepared.
    #[error(transparent)]
    Preprocess(#[from] crate::preprocess::PreprocessError),

    /// A Hugging Face `config.json` could not be read or is not supported.
    #[error(transparent)]
    TextConfig(#[from] crate::text::ConfigError),

    /// A tokenizer could not be loaded or failed.
    #[error(transparent)]
    Tokenizer(#[from] crate::text::tokenizer::TokenizerError),

    /// Text generation failed.
    #[error(transparent)]
    Generation(#[from] crate::text::generation::GenerationError),

    /// An input does not fit the task (e.g. no `[MASK]` in a fill-mask text).
    #[error("{entry}: {message}")]
    BadInput {
        /// The entrypoint.
        entry: String,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// The manifest names an architecture this build does not implement.
    #[error("architecture {architecture:?} is not implemented by this build of hub; `hub list` marks which entrypoints can run")]
    UnknownArchitecture {
        /// The architecture id.
        architecture: String,
    },

    /// A config value is malformed or unknown.
    #[error("{entry}: config key {key:?}: {message}")]
    Config {
        /// The entrypoint.
        entry: String,
        /// The key.
        key: String,
        /// What was wrong.
        message: String,
    },

    /// A requested config value contradicts the one the weights fix.
    #[error("{entry}: the weights {weights} fix {key} = {fixed}, but {requested} was asked for; drop the override or load without weights")]
    ConflictingConfig {
        /// The entrypoint.
        entry: String,
        /// The weights.
        weights: String,
        /// The config key.
        key: String,
        /// The value the weights fix.
        fixed: String,
        /// The value requested.
        requested: String,
    },

    /// The model's task does not support the operation asked for.
    #[error("{entry} is a {task} model; {operation} is not available for it")]
    WrongTask {
        /// The entrypoint.
        entry: String,
        /// Its task.
        task: String,
        /// What was asked.
        operation: &'static str,
    },

    /// A burnpack (converted checkpoint) could not be written or read.
    #[error("burnpack {path}: {message}")]
    Burnpack {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// A converted checkpoint does not hold the same tensors as its source.
    #[error("conversion check failed for {path}: tensor {key} differs from the PyTorch checkpoint; the converted file was discarded")]
    ConversionMismatch {
        /// The converted file.
        path: PathBuf,
        /// The first differing tensor.
        key: String,
    },

    /// A checkpoint file given by the user does not exist.
    #[error("checkpoint {path} does not exist")]
    NoCheckpoint {
        /// The path.
        path: PathBuf,
    },
}

/// `Result` with hub-models' [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
