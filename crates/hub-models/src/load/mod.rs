//! The one-line load API: `hub_models::load("pytorch/vision", "resnet50", LoadOptions::default())`.
//!
//! A load is two steps: [`plan`] resolves the entrypoint (architecture, config, the weight file
//! — a checked converted copy when there is one —, preprocessing, categories, tokenizer),
//! fetching and verifying what it names; [`Plan::build`] then builds the model once and loads
//! the weights into it once. The task methods of [`Loaded`] are in [`crate::tasks`].

mod plan;

use std::path::PathBuf;

use burn::tensor::backend::Backend;
use hub_core::{Hub, HubOptions, RepoSpec};

use crate::error::Result;
use crate::import::ImportReport;
use crate::preprocess::Preprocess;
use crate::registry::{self, Architecture, Model};
use crate::text::tokenizer::TextTokenizer;

pub use plan::{plan, to_preprocess, Plan, PlannedConfig, WeightSource};
pub use crate::tasks::{GeneratedText, Prediction, TokenPrediction};

/// The CPU backend (burn's flex, with SIMD and rayon) that [`load`] uses.
pub type Cpu = burn::backend::Flex;

/// How to load an entrypoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Weight variant (`IMAGENET1K_V1`, …); `None` or `DEFAULT` means the default.
    pub weights: Option<String>,
    /// Load published weights (`true`) or keep the random initialisation (`false`).
    pub pretrained: bool,
    /// A local checkpoint (`.pth`/`.pt`/`.bin` or `.safetensors`) to load instead of the published weights.
    pub checkpoint: Option<PathBuf>,
    /// The dictionary inside `checkpoint` that holds the state dict (`state_dict`, `model`, …).
    pub checkpoint_key: Option<String>,
    /// Config overrides (e.g. `num_classes`); contradicting the weights' fixed values is an error.
    pub config: toml::Table,
    /// Hub settings; `None` reads the environment ([`HubOptions::from_env`]).
    pub hub: Option<HubOptions>,
    /// Revision (branch, tag or commit) of a model id's files (entrypoints with `model_ids`);
    /// the same as `weights = "id@revision"`.
    pub revision: Option<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { weights: None, pretrained: true, checkpoint: None, checkpoint_key: None, config: toml::Table::new(), hub: None, revision: None }
    }
}

impl LoadOptions {
    /// Selects a weight variant.
    pub fn weights(mut self, name: impl Into<String>) -> Self {
        self.weights = Some(name.into());
        self
    }

    /// Random initialisation, no download.
    pub fn random_init(mut self) -> Self {
        self.pretrained = false;
        self
    }

    /// Loads a local checkpoint instead of the published weights.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }

    /// Loads a model id's files at this revision (branch, tag or commit).
    pub fn revision(mut self, revision: impl Into<String>) -> Self {
        self.revision = Some(revision.into());
        self
    }

    /// Uses these hub settings instead of the environment's.
    pub fn hub(mut self, options: HubOptions) -> Self {
        self.hub = Some(options);
        self
    }
}

/// A loaded entrypoint: the model and everything needed to use it.
#[derive(Debug)]
pub struct Loaded<B: Backend> {
    /// The repo it came from.
    pub repo: RepoSpec,
    /// The entrypoint's name.
    pub entry: String,
    /// The weights loaded (`None`: random init or a local checkpoint).
    pub weights: Option<String>,
    /// The local checkpoint loaded, if any.
    pub checkpoint: Option<PathBuf>,
    /// The architecture.
    pub architecture: Architecture,
    /// The burn module.
    pub model: Model<B>,
    /// The input preparation the weights expect (image tasks; `None` for the others).
    pub preprocess: Option<Preprocess>,
    /// Category names, by class index (empty when the manifest names none that hub knows).
    pub categories: Vec<String>,
    /// What the import found (unused keys of a non-strict load).
    pub report: Option<ImportReport>,
    /// The tokenizer of a text model.
    pub tokenizer: Option<TextTokenizer>,
    /// The device the model lives on.
    pub device: B::Device,
}

fn env_hub() -> Result<Hub> {
    Ok(crate::builtin::hub(HubOptions::from_env()?)?)
}

/// The entrypoint names of a repo (torch.hub's `list`), using the environment's hub settings.
pub fn list(repo: &str) -> Result<Vec<String>> {
    let spec: RepoSpec = repo.parse()?;
    Ok(env_hub()?.repo(&spec)?.manifest.entrypoints.keys().cloned().collect())
}

/// An entrypoint's documentation (torch.hub's `help`): summary, docs, and what `forward` takes.
pub fn help(repo: &str, entry: &str) -> Result<String> {
    let spec: RepoSpec = repo.parse()?;
    let manifest = env_hub()?.repo(&spec)?.manifest;
    let (name, ep) = manifest.entry(entry)?;
    let mut text = format!("{name}: {}\n", ep.summary);
    if let Some(docs) = &ep.docs {
        text.push_str(&format!("\n{}\n", docs.trim()));
    }
    Ok(text)
}

/// Loads an entrypoint on the CPU (flex backend), resolving the repo and weights through the hub.
pub fn load(repo: &str, entry: &str, options: LoadOptions) -> Result<Loaded<Cpu>> {
    load_on::<Cpu>(repo, entry, options, &Default::default())
}

/// Loads an entrypoint on any backend and device.
pub fn load_on<B: Backend>(repo: &str, entry: &str, options: LoadOptions, device: &B::Device) -> Result<Loaded<B>> {
    let spec: RepoSpec = repo.parse()?;
    let hub = match &options.hub {
        Some(o) => crate::builtin::hub(o.clone())?,
        None => env_hub()?,
    };
    load_with(&hub, &spec, entry, &options, device)
}

/// Loads an entrypoint through an existing [`Hub`]: [`plan`], then [`Plan::build`].
pub fn load_with<B: Backend>(hub: &Hub, spec: &RepoSpec, entry: &str, options: &LoadOptions, device: &B::Device) -> Result<Loaded<B>> {
    plan(hub, spec, entry, options)?.build(device)
}

/// Fetches (and verifies) the files that loading `choice` of `entry` reads: the checkpoint and
/// the files that come with it, or only the files for a tokenizer entrypoint (they are the
/// tokenizer; there is no checkpoint). `hub download` and `hub lock` use it.
pub fn fetch_weights(hub: &Hub, entry: &hub_core::Entrypoint, choice: &hub_core::WeightsChoice) -> Result<hub_core::FetchedWeights> {
    let tokenizer_only = registry::find(&entry.architecture).is_some_and(|a| a.family.spec().configured_by == registry::ConfiguredBy::TokenizerFiles);
    Ok(hub.fetch_weights(choice, !tokenizer_only)?)
}

