//! The one-line load API: `hub_models::load("pytorch/vision", "resnet50", LoadOptions::default())`.
//!
//! A load is two steps: [`plan`] resolves the entrypoint (architecture, config, the weight file
//! — a checked converted copy when there is one —, preprocessing, categories, tokenizer),
//! fetching and verifying what it names; [`Plan::build`] then builds the model once and loads
//! the weights into it once. The task methods of [`Loaded`] are in [`crate::tasks`].

mod options;
mod plan;

use burn::tensor::backend::Backend;
use hub_core::{Hub, HubOptions, RepoSpec};

use crate::error::Result;
use crate::registry;

pub use crate::tasks::{GeneratedText, Loaded, Prediction, TokenPrediction};
pub use options::LoadOptions;
pub use plan::{plan, to_preprocess, Plan, PlannedConfig, WeightSource};

/// The CPU backend (burn's flex, with SIMD and rayon) that [`load`] uses.
pub type Cpu = burn::backend::Flex;

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

