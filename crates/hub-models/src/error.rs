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

    /// These weights cannot be converted to burnpack ([`crate::convert::convert_published`]):
    /// not an image classifier, no published weights, or not a download in the cache.
    #[error("{entry}: {reason}")]
    NotConvertible {
        /// The entrypoint.
        entry: String,
        /// Why not.
        reason: String,
    },

    /// A checkpoint file given by the user does not exist.
    #[error("checkpoint {path} does not exist")]
    NoCheckpoint {
        /// The path.
        path: PathBuf,
    },

    /// A checkpoint path given by the user names a directory or another non-file.
    #[error("checkpoint {path} is {kind}, not a checkpoint file; give the .pth, .bin or .safetensors file itself")]
    CheckpointNotAFile {
        /// The path.
        path: PathBuf,
        /// What it is (`a directory`, `not a regular file`).
        kind: &'static str,
    },

    /// A size from a manifest, a `config.json` or an option is beyond what hub builds (checked
    /// before anything is allocated).
    #[error("{source_name}: {key} = {value} is larger than hub accepts ({limit}); {hint}")]
    TooLarge {
        /// Where the value comes from (entrypoint, `config.json` path, option).
        source_name: String,
        /// The key.
        key: String,
        /// The value asked for.
        value: String,
        /// The limit, in words.
        limit: String,
        /// What to do.
        hint: String,
    },

    /// A model's `config.json` asks for something hub does not implement or accept.
    #[error("{}: {source}", file.display())]
    ModelConfig {
        /// The `config.json`.
        file: PathBuf,
        /// What is wrong.
        source: crate::text::ConfigError,
    },

    /// A converted burnpack (`hub convert`) does not match the record written with it: it was
    /// damaged, truncated or replaced after conversion.
    #[error("converted burnpack {path} is damaged: {reason}; it is not used. Run `hub cache verify --delete` to remove it and `hub convert` to write it again")]
    BurnpackIntegrity {
        /// The burnpack file.
        path: PathBuf,
        /// What does not match (size, sha256, missing record).
        reason: String,
    },
}

/// `Result` with hub-models' [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
