//! `hubconf.toml`: the declarative counterpart of torch.hub's `hubconf.py`.
//!
//! A manifest lists entrypoints; each names an architecture, its config values, its published
//! weights (URLs with hashes) and how to prepare inputs. Nothing in it is executed. The format is
//! documented in `docs/manifest.md`; unknown keys are errors so that typos never pass silently.
//!
//! This file holds the types and the questions asked of them (an entrypoint by name or alias,
//! weights by name, the preprocessing and config for given weights); `parse.rs` reads and
//! validates the TOML text.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model_ids::ModelIds;

pub use crate::artifact::{file_name_of, hash_prefix, Artifact, ExpectedHash};

mod parse;

/// The manifest format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// The file name of a repo's manifest.
pub const MANIFEST_FILE: &str = "hubconf.toml";

/// A parsed and validated `hubconf.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Manifest format version; must be [`FORMAT_VERSION`].
    pub format: u32,
    /// Display name of the repo (e.g. `pytorch/vision`).
    #[serde(default)]
    pub name: Option<String>,
    /// One-paragraph description of the repo.
    #[serde(default)]
    pub description: Option<String>,
    /// Architectures and features the manifest needs (checked before loading).
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// The entrypoints, by name.
    #[serde(default)]
    pub entrypoints: BTreeMap<String, Entrypoint>,
}

/// One loadable model: `hub.load(repo, NAME)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entrypoint {
    /// Architecture id understood by the model registry (e.g. `resnet50`).
    pub architecture: String,
    /// Task (e.g. `image-classification`, `semantic-segmentation`, `fill-mask`).
    pub task: String,
    /// One-line summary.
    #[serde(default)]
    pub summary: String,
    /// Long documentation (Markdown).
    #[serde(default)]
    pub docs: Option<String>,
    /// Paper link.
    #[serde(default)]
    pub paper: Option<String>,
    /// Reference code link.
    #[serde(default)]
    pub code: Option<String>,
    /// Other names this entrypoint answers to (e.g. 2019 hub names).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Architecture config values (e.g. `num_classes`), passed to the model builder.
    #[serde(default)]
    pub config: toml::Table,
    /// Category list id (e.g. `imagenet-1k`, `voc-21`), unless the weights say otherwise.
    #[serde(default)]
    pub categories: Option<String>,
    /// Input preparation, unless the weights say otherwise.
    #[serde(default)]
    pub preprocessing: Option<Preprocessing>,
    /// The weight variant used for `DEFAULT` (required when there are several).
    #[serde(default)]
    pub default_weights: Option<String>,
    /// Published weights by variant name (e.g. `IMAGENET1K_V1`).
    #[serde(default)]
    pub weights: BTreeMap<String, Weights>,
    /// Weights named by any model id of a model-id hub, with an optional `@revision`
    /// (see [`crate::model_ids`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_ids: Option<ModelIds>,
}

/// One published set of weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// The checkpoint file.
    #[serde(flatten)]
    pub artifact: Artifact,
    /// An architecture that replaces the entrypoint's for these weights (model-id hubs such as
    /// transformers' `model` entrypoint, where `gpt2` and `bert-base-uncased` differ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// File format of the checkpoint.
    #[serde(default)]
    pub format: WeightFormat,
    /// Key of the state dict inside the checkpoint (`state_dict`, `netG_state_dict`, …).
    #[serde(default)]
    pub key: Option<String>,
    /// License of the weights (SPDX id or name).
    #[serde(default)]
    pub license: Option<String>,
    /// Number of parameters.
    #[serde(default)]
    pub params: Option<u64>,
    /// Approximate file size in MB, for display (the exact `size`, when given, is checked).
    #[serde(default)]
    pub size_mb: Option<f64>,
    /// Config values these weights fix (e.g. `num_classes = 1000`); a conflicting override is an error.
    #[serde(default)]
    pub config: toml::Table,
    /// Category list id for these weights.
    #[serde(default)]
    pub categories: Option<String>,
    /// Input preparation fields that differ from the entrypoint's (merged field by field).
    #[serde(default)]
    pub preprocessing: Option<Preprocessing>,
    /// Published metrics (`acc@1`, `acc@5`, `miou`, …).
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Further files these weights need (config.json, tokenizer.json, …), by name.
    #[serde(default)]
    pub files: BTreeMap<String, Artifact>,
}

/// The file format of a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum WeightFormat {
    /// A `torch.save` file (zip or legacy pickle); read without executing code.
    #[default]
    Pytorch,
    /// A safetensors file.
    Safetensors,
    /// burn's native format (a converted checkpoint).
    Burnpack,
}

impl fmt::Display for WeightFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WeightFormat::Pytorch => "pytorch",
            WeightFormat::Safetensors => "safetensors",
            WeightFormat::Burnpack => "burnpack",
        })
    }
}

/// How to turn a user's input into the model's input. Every field is optional so that weights can
/// override just the fields that differ from their entrypoint's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preprocessing {
    /// The kind of transform (`image-classification`, `semantic-segmentation`, `text`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Resize the shorter image side to this many pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize: Option<u32>,
    /// Centre-crop a square of this many pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crop: Option<u32>,
    /// Resampling filter for the resize.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpolation: Option<Interpolation>,
    /// How the resize computes: `float` (torchvision's v1 `resize`, one rounding at the end; the
    /// default) or `uint8` (torchvision v2 on uint8 images: PyTorch's fixed-point kernel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize_kernel: Option<ResizeKernel>,
    /// Per-channel mean subtracted after scaling pixels to [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<Vec<f32>>,
    /// Per-channel standard deviation divided by after the mean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<Vec<f32>>,
}

impl Preprocessing {
    /// `self` with every field that `over` sets replaced by `over`'s.
    pub fn merged(&self, over: &Preprocessing) -> Preprocessing {
        Preprocessing {
            kind: over.kind.clone().or_else(|| self.kind.clone()),
            resize: over.resize.or(self.resize),
            crop: over.crop.or(self.crop),
            interpolation: over.interpolation.or(self.interpolation),
            resize_kernel: over.resize_kernel.or(self.resize_kernel),
            mean: over.mean.clone().or_else(|| self.mean.clone()),
            std: over.std.clone().or_else(|| self.std.clone()),
        }
    }
}

/// The arithmetic of the antialiased resize (both are torchvision's, on different code paths).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResizeKernel {
    /// float32 interpolation, rounded once (torchvision `transforms.functional.resize`).
    Float,
    /// PyTorch's uint8 fixed-point kernel (torchvision `transforms.v2` on uint8 images).
    Uint8,
}

/// Image resampling filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// Nearest neighbour.
    Nearest,
    /// Bilinear (triangle filter, antialiased when downscaling).
    Bilinear,
    /// Bicubic (Keys a = -0.5, antialiased when downscaling).
    Bicubic,
}

impl Manifest {
    /// Calls `f` with the place (`entrypoints.a.weights.V1.url`) and a mutable reference of every
    /// URL the manifest names: weights and file URLs, their mirrors, and model-id templates.
    pub fn visit_urls(&mut self, mut f: impl FnMut(&str, &mut String) -> Result<()>) -> Result<()> {
        fn artifact(place: &str, a: &mut Artifact, f: &mut impl FnMut(&str, &mut String) -> Result<()>) -> Result<()> {
            f(&format!("{place}.url"), &mut a.url)?;
            for (i, m) in a.mirrors.iter_mut().enumerate() {
                f(&format!("{place}.mirrors[{i}]"), m)?;
            }
            Ok(())
        }
        for (name, entry) in &mut self.entrypoints {
            for (wname, w) in &mut entry.weights {
                let at = format!("entrypoints.{name}.weights.{wname}");
                artifact(&at, &mut w.artifact, &mut f)?;
                for (file, a) in &mut w.files {
                    artifact(&format!("{at}.files.{file:?}"), a, &mut f)?;
                }
            }
            if let Some(ids) = &mut entry.model_ids {
                f(&format!("entrypoints.{name}.model_ids.url"), &mut ids.url)?;
            }
        }
        Ok(())
    }

    /// The entrypoint called `name` (or aliased so), or an error listing the available ones.
    pub fn entry(&self, name: &str) -> Result<(&str, &Entrypoint)> {
        if let Some((k, e)) = self.entrypoints.get_key_value(name) {
            return Ok((k, e));
        }
        self.entrypoints
            .iter()
            .find(|(_, e)| e.aliases.iter().any(|a| a == name))
            .map(|(k, e)| (k.as_str(), e))
            .ok_or_else(|| Error::UnknownEntry {
                repo: self.name.clone().unwrap_or_default(),
                entry: name.to_owned(),
                available: join_keys(&self.entrypoints),
            })
    }

    /// The dependencies that `provides` says are not available.
    pub fn missing_dependencies(&self, provides: impl Fn(&str) -> bool) -> Vec<String> {
        self.dependencies.iter().filter(|d| !provides(d)).cloned().collect()
    }

    /// Errors with [`Error::MissingDependencies`] if anything the manifest needs is not provided.
    pub fn check_dependencies(&self, repo: &str, provides: impl Fn(&str) -> bool) -> Result<()> {
        let missing = self.missing_dependencies(provides);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::MissingDependencies { repo: repo.to_owned(), missing })
        }
    }
}

impl Entrypoint {
    /// Resolves a weights name (`None` or `DEFAULT` → the default) to its name and spec.
    /// Returns `Ok(None)` when the entrypoint publishes no weights and none were asked for.
    pub fn weights(&self, entry: &str, name: Option<&str>) -> Result<Option<(&str, &Weights)>> {
        let wanted = match name {
            None | Some("DEFAULT") | Some("default") => match (&self.default_weights, self.weights.len()) {
                (Some(d), _) => d.as_str(),
                (None, 0) => return Ok(None),
                (None, _) => match self.weights.keys().next() {
                    Some(k) => k.as_str(),
                    None => return Ok(None),
                },
            },
            Some(n) => n,
        };
        self.weights
            .get_key_value(wanted)
            .map(|(k, w)| Some((k.as_str(), w)))
            .ok_or_else(|| Error::UnknownWeights {
                entry: entry.to_owned(),
                weights: wanted.to_owned(),
                available: join_keys(&self.weights),
            })
    }

    /// The preprocessing for the given weights: the entrypoint's, overridden by the weights'.
    pub fn preprocessing_for(&self, weights: Option<&Weights>) -> Option<Preprocessing> {
        match (&self.preprocessing, weights.and_then(|w| w.preprocessing.as_ref())) {
            (Some(base), Some(over)) => Some(base.merged(over)),
            (Some(base), None) => Some(base.clone()),
            (None, over) => over.cloned(),
        }
    }

    /// The config values for the given weights: the entrypoint's, with the weights' fixed values.
    pub fn config_for(&self, weights: Option<&Weights>) -> toml::Table {
        let mut config = self.config.clone();
        if let Some(w) = weights {
            config.extend(w.config.clone());
        }
        config
    }

    /// The architecture for the given weights: theirs when they name one, else the entrypoint's.
    pub fn architecture_for<'a>(&'a self, weights: Option<&'a Weights>) -> &'a str {
        weights.and_then(|w| w.architecture.as_deref()).unwrap_or(&self.architecture)
    }

    /// The categories id for the given weights.
    pub fn categories_for<'a>(&'a self, weights: Option<&'a Weights>) -> Option<&'a str> {
        weights.and_then(|w| w.categories.as_deref()).or(self.categories.as_deref())
    }
}

fn join_keys<V>(map: &BTreeMap<String, V>) -> String {
    if map.is_empty() {
        return "none".to_owned();
    }
    map.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
format = 1
name = "example/vision"
dependencies = ["resnet"]

[entrypoints.resnet50]
architecture = "resnet50"
task = "image-classification"
summary = "ResNet-50"
aliases = ["resnet_50"]
config = { num_classes = 1000 }
categories = "imagenet-1k"
default_weights = "IMAGENET1K_V2"
preprocessing = { kind = "image-classification", resize = 256, crop = 224, interpolation = "bilinear", mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225] }

[entrypoints.resnet50.weights.IMAGENET1K_V1]
url = "https://download.pytorch.org/models/resnet50-0676ba61.pth"
size = 102530333
license = "BSD-3-Clause"
params = 25557032
metrics = { "acc@1" = 76.13, "acc@5" = 92.862 }

[entrypoints.resnet50.weights.IMAGENET1K_V2]
url = "https://download.pytorch.org/models/resnet50-11ad3fa6.pth"
preprocessing = { resize = 232 }
metrics = { "acc@1" = 80.858 }

[entrypoints.random]
architecture = "resnet18"
task = "image-classification"
"#;

    #[test]
    fn parses_and_round_trips() {
        let m = Manifest::parse(GOOD, "hubconf.toml").unwrap();
        assert_eq!(m.entrypoints.len(), 2);
        let (name, e) = m.entry("resnet_50").unwrap();
        assert_eq!(name, "resnet50");
        let (wname, w) = e.weights("resnet50", None).unwrap().unwrap();
        assert_eq!(wname, "IMAGENET1K_V2");
        assert_eq!(w.artifact.expected_hash(), ExpectedHash::Prefix("11ad3fa6".into()));
        let p = e.preprocessing_for(Some(w)).unwrap();
        assert_eq!((p.resize, p.crop), (Some(232), Some(224)));
        let (_, v1) = e.weights("resnet50", Some("IMAGENET1K_V1")).unwrap().unwrap();
        assert_eq!(e.preprocessing_for(Some(v1)).unwrap().resize, Some(256));
        assert_eq!(v1.metrics["acc@1"], 76.13);
        assert!(m.entrypoints["random"].weights("random", None).unwrap().is_none());
        let again = Manifest::parse(&m.to_toml(), "again").unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn unknown_names_list_alternatives() {
        let m = Manifest::parse(GOOD, "hubconf.toml").unwrap();
        let e = m.entry("resnet51").unwrap_err().to_string();
        assert!(e.contains("resnet51") && e.contains("random, resnet50"), "{e}");
        let e = m.entrypoints["resnet50"].weights("resnet50", Some("V3")).unwrap_err().to_string();
        assert!(e.contains("IMAGENET1K_V1, IMAGENET1K_V2"), "{e}");
    }

    #[test]
    fn dependencies_are_checked() {
        let m = Manifest::parse(GOOD, "hubconf.toml").unwrap();
        assert!(m.check_dependencies("example/vision", |d| d == "resnet").is_ok());
        let e = m.check_dependencies("example/vision", |_| false).unwrap_err().to_string();
        assert!(e.contains("[\"resnet\"]") && e.contains("example/vision"), "{e}");
    }
}
