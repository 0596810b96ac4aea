//! The hub layer of hub, PyTorch Hub for Rust: repo specs, `hubconf.toml` manifests, a verified
//! shared cache, downloads with mirrors, resume and cross-process locks, lockfiles and offline mode.
//!
//! No burn and no models here: `hub-models` builds on this crate.
//!
//! - [`RepoSpec`]: `owner/repo[:ref]`, a base URL or a local directory, parsed at the edge.
//! - [`Manifest`]: a repo's declarative `hubconf.toml` (entrypoints, weights, preprocessing).
//! - [`Hub`]: resolves specs to manifests and [`Artifact`]s to verified files in the [`Cache`].
//! - [`HubOptions`]: `HUB_HOME`, `HUB_OFFLINE`, `HUB_MIRRORS`, the lockfile, timeouts, retries.
#![warn(missing_docs)]

pub mod archive;
mod artifact;
mod bounded;
pub mod cache;
mod choice;
pub mod download;
pub mod error;
pub mod hash;
mod hub;
pub mod lock;
pub mod lockfile;
pub mod manifest;
pub mod mirrors;
pub mod model_ids;
pub mod options;
pub mod progress;
pub mod spec;

pub use artifact::{Artifact, ExpectedHash};
pub use cache::Cache;
pub use choice::WeightsChoice;
pub use error::{Error, Result};
pub use hub::fetch::FetchedWeights;
pub use hub::repos::{RepoSource, ResolvedRepo};
pub use hub::Hub;
pub use lockfile::Lockfile;
pub use manifest::{Entrypoint, Manifest, Preprocessing, WeightFormat, Weights};
pub use mirrors::Mirrors;
pub use model_ids::{ModelIds, ModelRef};
pub use options::{HubOptions, Limits};
pub use progress::{NoProgress, Progress};
pub use spec::{GitRef, RepoSpec};
