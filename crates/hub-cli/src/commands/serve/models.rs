//! The served repos, the names of their models, and each model's load state.
//!
//! A model is one `(repo, entrypoint, weights)`; its name is `ENTRY` in the default repo (the
//! first one) and `REPO/ENTRY` in the others, its version the weights' name. It loads once, on
//! its first use or at start (`--model`), and then stays loaded ([`Slot`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use hub_core::{Hub, Manifest, RepoSpec};

use super::batch::{self, Source};
use super::error::ApiError;
use super::metrics::Metrics;
use super::slot::{Key, Slot};

/// How models are loaded and run.
#[derive(Debug, Clone)]
pub struct Options {
    pub random_init: bool,
    pub seed: u64,
    pub batch: batch::Config,
}

/// A served repo.
pub struct Repo {
    pub spec: RepoSpec,
    /// The spec as written (`pytorch/vision`, `./dir`): the prefix of its models' names.
    pub name: String,
    pub manifest: Manifest,
}

/// All served repos and the models loaded so far.
pub struct Models {
    pub hub: Arc<Hub>,
    pub repos: Vec<Repo>,
    explicit: Vec<Key>,
    pub options: Options,
    metrics: Arc<Metrics>,
    slots: Mutex<BTreeMap<Key, Arc<Slot>>>,
}

impl Models {
    /// Resolves the repos (positional ones, then those of `--model`s; the built-in ones when
    /// none is given) and checks every `--model` names an entrypoint and weights they have.
    pub fn new(hub: Arc<Hub>, repos: &[RepoSpec], explicit: &[(RepoSpec, String, Option<String>)], options: Options, metrics: Arc<Metrics>) -> anyhow::Result<Models> {
        let mut specs: Vec<RepoSpec> = repos.to_vec();
        for (spec, _, _) in explicit {
            if !specs.iter().any(|s| s.to_string() == spec.to_string()) {
                specs.push(spec.clone());
            }
        }
        if specs.is_empty() {
            for (spec, _) in hub_models::builtin::MANIFESTS {
                specs.push(spec.parse()?);
            }
        }
        let mut resolved = Vec::new();
        for spec in specs {
            let repo = hub.repo(&spec)?;
            resolved.push(Repo { name: spec.to_string(), spec, manifest: repo.manifest });
        }
        let mut models = Models { hub, repos: resolved, explicit: Vec::new(), options, metrics, slots: Mutex::new(BTreeMap::new()) };
        for (spec, entry, weights) in explicit {
            let repo = models.repos.iter().position(|r| r.name == spec.to_string()).expect("every --model's repo was added above");
            let (canonical, ep) = models.repos[repo].manifest.entry(entry)?;
            let default = ep.weights(canonical, None)?.map(|(n, _)| n.to_owned());
            let weights = weights.clone().filter(|w| Some(w) != default.as_ref() && w != "DEFAULT");
            if let Some(w) = &weights {
                // A model id (text entrypoints) is checked when it loads; a weights name now.
                if ep.model_ids.is_none() {
                    ep.weights(canonical, Some(w))?;
                }
            }
            models.explicit.push(Key { repo, entry: canonical.to_owned(), weights });
        }
        Ok(models)
    }

    /// The `--model`s, to load at start.
    pub fn explicit_keys(&self) -> Vec<Key> {
        self.explicit.clone()
    }

    /// The model a name (`ENTRY` or `REPO/ENTRY`, an alias allowed) and version (weights) mean.
    pub fn resolve(&self, name: &str, version: Option<&str>) -> Result<Key, ApiError> {
        let not_found = |m: String| ApiError::new(StatusCode::NOT_FOUND, m);
        let (repo, entry) = self.split_name(name).ok_or_else(|| not_found(format!("unknown model {name:?}: models are ENTRY (of {}) or REPO/ENTRY of a served repo ({})", self.repos[0].name, self.repo_names())))?;
        let manifest = &self.repos[repo].manifest;
        let (canonical, ep) = manifest.entry(entry).map_err(|e| not_found(format!("unknown model {name:?}: {e}")))?;
        let default = ep.weights(canonical, None).ok().flatten().map(|(n, _)| n);
        let weights = match version.filter(|v| !v.is_empty()) {
            None => self.explicit.iter().find(|k| k.repo == repo && k.entry == canonical).and_then(|k| k.weights.clone()),
            Some(v) if Some(v) == default || v == "DEFAULT" => None,
            Some(v) => {
                let explicit = self.explicit.iter().any(|k| k.repo == repo && k.entry == canonical && k.weights.as_deref() == Some(v));
                if !explicit && !ep.weights.contains_key(v) {
                    let names: Vec<&str> = ep.weights.keys().map(String::as_str).collect();
                    return Err(not_found(format!(
                        "unknown version {v:?} of {name}: versions are the weights the manifest lists ({}); other model ids are served with --model",
                        if names.is_empty() { "none".to_owned() } else { names.join(", ") }
                    )));
                }
                Some(v.to_owned())
            }
        };
        Ok(Key { repo, entry: canonical.to_owned(), weights })
    }

    /// `(repo index, entry)` of a name: `REPO/ENTRY` for the longest served repo name that
    /// prefixes it, else `ENTRY` of the default repo.
    fn split_name<'a>(&self, name: &'a str) -> Option<(usize, &'a str)> {
        let prefixed = self
            .repos
            .iter()
            .enumerate()
            .filter_map(|(i, r)| name.strip_prefix(r.name.as_str()).and_then(|rest| rest.strip_prefix('/')).map(|entry| (i, r.name.len(), entry)))
            .filter(|(_, _, entry)| !entry.is_empty() && !entry.contains('/'))
            .max_by_key(|(_, len, _)| *len)
            .map(|(i, _, entry)| (i, entry));
        prefixed.or_else(|| (!name.contains('/') && !name.is_empty()).then_some((0, name)))
    }

    fn repo_names(&self) -> String {
        self.repos.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// The model's name: `ENTRY` in the default repo, `REPO/ENTRY` elsewhere.
    pub fn name_of(&self, repo: usize, entry: &str) -> String {
        if repo == 0 {
            entry.to_owned()
        } else {
            format!("{}/{entry}", self.repos[repo].name)
        }
    }

    /// The model's version: its weights' name (`default` when the entrypoint has none).
    pub fn version_of(&self, key: &Key) -> String {
        if let Some(w) = &key.weights {
            return w.clone();
        }
        let manifest = &self.repos[key.repo].manifest;
        manifest.entry(&key.entry).ok().and_then(|(n, e)| e.weights(n, None).ok().flatten().map(|(w, _)| w.to_owned())).unwrap_or_else(|| "default".to_owned())
    }

    /// The model's slot (created, not loaded, on first sight).
    pub fn slot(&self, key: &Key) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots
            .entry(key.clone())
            .or_insert_with(|| {
                let repo = &self.repos[key.repo];
                let source = Source {
                    hub: self.hub.clone(),
                    spec: repo.spec.clone(),
                    repo: repo.name.clone(),
                    entry: key.entry.clone(),
                    weights: key.weights.clone(),
                    random_init: self.options.random_init,
                    seed: self.options.seed,
                    config: self.options.batch,
                    metrics: self.metrics.clone(),
                };
                Arc::new(Slot::new(key.clone(), self.name_of(key.repo, &key.entry), self.version_of(key), source))
            })
            .clone()
    }

    /// Every slot, loaded or not.
    pub fn slots(&self) -> Vec<Arc<Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    /// The names of the loaded models.
    pub fn loaded_names(&self) -> Vec<String> {
        self.slots().iter().filter(|s| s.worker().is_some()).map(|s| format!("{}@{}", s.name, s.version)).collect()
    }
}
