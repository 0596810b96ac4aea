//! One resolution step for every task: a [`Plan`] says what to build, with which config, what to
//! load into it (a checked converted copy, a published file or a local checkpoint) and how to
//! feed it; [`Plan::build`] builds the model once and loads it once.

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use hub_core::{Hub, RepoSpec, WeightFormat};

use super::options::LoadOptions;
use crate::tasks::Loaded;
use crate::error::{Error, Result};
use crate::import::ImportReport;
use crate::preprocess::{Interpolation, Preprocess};
use crate::registry::{self, Architecture, ConfiguredBy, Model, Task};
use crate::text::tokenizer::TextTokenizer;

/// Where an architecture's configuration comes from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PlannedConfig {
    /// The manifest's (and the weights') config values, overrides applied.
    Manifest(toml::Table),
    /// A Hugging Face `config.json`, with a label-count override for classification heads.
    ConfigJson {
        /// The file.
        path: PathBuf,
        /// `num_labels` override.
        num_labels: Option<usize>,
    },
    /// Nothing to configure: a tokenizer entrypoint has no model.
    None,
}

/// What is loaded into the built model.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WeightSource {
    /// Nothing: the random initialisation stays.
    RandomInit,
    /// A checkpoint file (published and verified, or local).
    File {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: WeightFormat,
        /// The dictionary inside it that holds the state dict.
        key: Option<String>,
    },
    /// A burnpack written by `hub convert` from `file`, whose recorded size and sha256 matched
    /// when planned; `file` loads instead if applying it fails.
    Converted {
        /// The burnpack.
        burnpack: PathBuf,
        /// The checkpoint it was converted from.
        file: Box<WeightSource>,
    },
}

impl WeightSource {
    /// The checkpoint file that will be read (for a converted copy: the one it came from).
    pub fn checkpoint(&self) -> Option<&Path> {
        match self {
            WeightSource::RandomInit => None,
            WeightSource::File { path, .. } => Some(path),
            WeightSource::Converted { file, .. } => file.checkpoint(),
        }
    }
}

/// A resolved load: everything [`Plan::build`] needs, already fetched and verified.
#[derive(Debug)]
#[non_exhaustive]
pub struct Plan {
    /// The repo.
    pub repo: RepoSpec,
    /// The entrypoint's name.
    pub entry: String,
    /// The architecture to build (for text models: the one `config.json`'s `model_type` picks).
    pub architecture: Architecture,
    /// Its configuration.
    pub config: PlannedConfig,
    /// What to load into it.
    pub source: WeightSource,
    /// The name of the weights loaded (`None`: random init or a local checkpoint).
    pub weights: Option<String>,
    /// The local checkpoint, if one was given.
    pub checkpoint: Option<PathBuf>,
    /// The input preparation (image tasks).
    pub preprocess: Option<Preprocess>,
    /// Category names by class index.
    pub categories: Vec<String>,
    /// The tokenizer (text models).
    pub tokenizer: Option<TextTokenizer>,
}

/// Resolves `entry` of `spec`: reads the manifest, picks the weights and architecture, fetches
/// and verifies the files, and checks the config — everything before a model is built.
pub fn plan(hub: &Hub, spec: &RepoSpec, entry: &str, options: &LoadOptions) -> Result<Plan> {
    let repo = hub.repo(spec)?;
    let manifest = &repo.manifest;
    manifest.check_dependencies(&spec.to_string(), registry::provides)?;
    let (name, ep) = manifest.entry(entry)?;
    let family = registry::find(&ep.architecture).map(|a| a.family.spec().configured_by);
    match family {
        Some(ConfiguredBy::ConfigJson { .. } | ConfiguredBy::TokenizerFiles) => plan_text(hub, spec, name, ep, options),
        Some(ConfiguredBy::Manifest) | None => plan_manifest(hub, spec, name, ep, options),
    }
}

fn plan_manifest(hub: &Hub, spec: &RepoSpec, name: &str, ep: &hub_core::Entrypoint, options: &LoadOptions) -> Result<Plan> {
    if let Some(r) = &options.revision {
        return Err(hub_core::Error::InvalidModelId { input: r.clone(), reason: format!("entrypoint {name} publishes fixed files; a revision applies only to entrypoints that take model ids") }.into());
    }
    // The weights fix the architecture's config even for a random initialisation.
    // A local checkpoint replaces published weights.
    let weights = if options.checkpoint.is_none() { ep.weights(name, options.weights.as_deref())? } else { None };
    let arch_id = ep.architecture_for(weights.map(|(_, w)| w));
    let architecture = registry::find(arch_id).ok_or_else(|| Error::UnknownArchitecture { architecture: arch_id.to_owned() })?;
    // The weights fix their config values; an override may only repeat them.
    let mut config = ep.config_for(weights.map(|(_, w)| w));
    if let Some((wname, w)) = weights {
        for (key, requested) in &options.config {
            if let Some(fixed) = w.config.get(key) {
                if fixed != requested {
                    return Err(Error::ConflictingConfig {
                        entry: name.to_owned(),
                        weights: wname.to_owned(),
                        key: key.clone(),
                        fixed: fixed.to_string(),
                        requested: requested.to_string(),
                    });
                }
            }
        }
    }
    config.extend(options.config.clone());
    let source = if let Some(path) = &options.checkpoint {
        check_checkpoint(path)?;
        // By content, not by name: a safetensors file called model.pth loads as safetensors.
        let format = match crate::import::sniff_checkpoint(path)? {
            crate::import::CheckpointKind::Safetensors => WeightFormat::Safetensors,
            _ => WeightFormat::Pytorch,
        };
        WeightSource::File { path: path.clone(), format, key: options.checkpoint_key.clone() }
    } else if let Some((_, w)) = weights.filter(|_| options.pretrained) {
        let path = hub.fetch(&w.artifact)?;
        let file = WeightSource::File { path: path.clone(), format: w.format, key: w.key.clone() };
        converted(hub, &path, &architecture).map_or(file.clone(), |burnpack| WeightSource::Converted { burnpack, file: Box::new(file) })
    } else {
        WeightSource::RandomInit
    };
    let preprocessing = ep.preprocessing_for(weights.map(|(_, w)| w));
    let preprocess = image_preprocess(name, &architecture, preprocessing.as_ref())?;
    let categories = match ep.categories_for(weights.map(|(_, w)| w)) {
        Some("imagenet-1k") => crate::imagenet::categories().into_iter().map(str::to_owned).collect(),
        Some("voc-21") => crate::segmentation::voc::CATEGORIES.iter().map(|c| c.to_string()).collect(),
        _ => Vec::new(),
    };
    Ok(Plan {
        repo: spec.clone(),
        entry: name.to_owned(),
        architecture,
        config: PlannedConfig::Manifest(config),
        source,
        weights: weights.filter(|_| options.pretrained).map(|(n, _)| n.to_owned()),
        checkpoint: options.checkpoint.clone(),
        preprocess,
        categories,
        tokenizer: None,
    })
}

/// A checked burnpack conversion of `path` (`hub convert`), which loads without pickle parsing:
/// only one that matches the size and sha256 recorded when it was written; a damaged one is
/// reported and the checkpoint itself loads instead.
fn converted(hub: &Hub, path: &Path, architecture: &Architecture) -> Option<PathBuf> {
    if architecture.task != Task::ImageClassification {
        return None;
    }
    let sha = crate::convert::store::cached_sha256(path)?;
    let bpk = crate::convert::store::converted_path(hub.cache().root(), sha, architecture.id);
    if !bpk.is_file() {
        return None;
    }
    match crate::convert::store::verify_converted(&bpk) {
        Ok(()) => Some(bpk),
        Err(e) => {
            eprintln!("hub: warning: {e}; loading {} instead", path.display());
            None
        }
    }
}

/// The preprocessing of an image task, checked against the architecture's minimum input (the
/// convolutions and poolings need one: refused here, not with a panic inside the model).
fn image_preprocess(entry: &str, architecture: &Architecture, p: Option<&hub_core::Preprocessing>) -> Result<Option<Preprocess>> {
    match architecture.task {
        Task::ImageClassification => {
            let pre = to_preprocess(entry, p)?;
            crate::preprocess::check_min_input(architecture, "preprocessing.crop", pre.crop_size)?;
            Ok(Some(pre))
        }
        Task::SemanticSegmentation => {
            let pre = to_preprocess(entry, p)?;
            crate::preprocess::check_min_input(architecture, "preprocessing.resize", pre.resize_size)?;
            Ok(Some(pre))
        }
        Task::ImageGeneration
        | Task::FillMask
        | Task::TextGeneration
        | Task::FeatureExtraction
        | Task::TextToSpectrogram
        | Task::SpectrogramToAudio
        | Task::TextClassification
        | Task::TokenClassification
        | Task::QuestionAnswering
        | Task::NextSentencePrediction
        | Task::MultipleChoice
        | Task::PreTraining
        | Task::Tokenization => Ok(None),
    }
}

impl Plan {
    /// Builds the model once and loads the planned weights into it once.
    pub fn build<B: Backend>(self, device: &B::Device) -> Result<Loaded<B>> {
        let a = &self.architecture;
        let mut model = match &self.config {
            PlannedConfig::Manifest(table) => a.build_for::<B>(&self.entry, table, self.source.checkpoint(), device)?,
            PlannedConfig::ConfigJson { path, num_labels } => a.build_text::<B>(path, *num_labels, device)?,
            PlannedConfig::None => Model::Tokenizer,
        };
        let report = match &self.source {
            WeightSource::RandomInit => None,
            WeightSource::File { path, format, key } => {
                let (m, r) = load_file(model, a, path, *format, key.as_deref())?;
                model = m;
                Some(r)
            }
            WeightSource::Converted { burnpack, file } => match load_burnpack(&mut model, burnpack) {
                Ok(()) => None,
                Err(e) => {
                    let WeightSource::File { path, format, key } = file.as_ref() else { return Err(e) };
                    eprintln!("hub: warning: {e}; loading {} instead", path.display());
                    // Strict: every parameter is overwritten from the checkpoint.
                    let (m, r) = load_file(model, a, path, *format, key.as_deref())?;
                    model = m;
                    Some(r)
                }
            },
        };
        Ok(Loaded {
            repo: self.repo,
            entry: self.entry,
            weights: self.weights,
            checkpoint: self.checkpoint,
            architecture: self.architecture,
            model,
            preprocess: self.preprocess,
            categories: self.categories,
            report,
            tokenizer: self.tokenizer,
            device: device.clone(),
        })
    }
}

fn load_burnpack<B: Backend>(model: &mut Model<B>, path: &Path) -> Result<()> {
    match model {
        Model::Classifier(m) => m.load_burnpack(path),
        _ => Err(Error::Burnpack { path: path.to_path_buf(), message: "only image classifiers are converted".into() }),
    }
}

fn load_file<B: Backend>(model: Model<B>, architecture: &Architecture, path: &Path, format: WeightFormat, key: Option<&str>) -> Result<(Model<B>, ImportReport)> {
    match format {
        WeightFormat::Safetensors => model.load_safetensors(architecture, path),
        _ => model.load_pytorch(architecture, path, key),
    }
}

/// The parts of a Hugging Face `config.json` that choose the architecture and name the labels.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct HfHead {
    model_type: Option<String>,
    vocab_size: Option<usize>,
    id2label: Option<std::collections::BTreeMap<String, String>>,
}

/// Plans a text entrypoint: its weights are a model id (listed in the manifest, or any id
/// through the entrypoint's `model_ids`), whose `config.json` configures the model and picks
/// BERT or GPT-2, and whose tokenizer files come along.
fn plan_text(hub: &Hub, spec: &RepoSpec, name: &str, ep: &hub_core::Entrypoint, options: &LoadOptions) -> Result<Plan> {
    let entry_arch = registry::find(&ep.architecture).ok_or_else(|| Error::UnknownArchitecture { architecture: ep.architecture.clone() })?;
    let choice = ep.choose_weights(name, options.weights.as_deref(), options.revision.as_deref())?.ok_or_else(|| Error::Config {
        entry: name.to_owned(),
        key: "weights".into(),
        message: "a text model needs a model id (e.g. bert-base-uncased) for its config.json and tokenizer".into(),
    })?;
    let tokenizer_only = entry_arch.family.spec().configured_by == ConfiguredBy::TokenizerFiles;
    // A local checkpoint replaces only the weights: config.json and the tokenizer still come
    // from the model id.
    let fetched = hub.fetch_weights(&choice, options.pretrained && options.checkpoint.is_none() && !tokenizer_only)?;
    let missing = |what: &str| Error::Config { entry: name.to_owned(), key: format!("weights {}", fetched.name), message: format!("{what} is missing") };
    let file = |f: &str| fetched.files.get(f);
    let lowercase = !fetched.name.contains("-cased");
    let mut tokenizer = match (file("tokenizer.json"), file("vocab.txt"), file("vocab.json"), file("merges.txt")) {
        (Some(t), ..) => TextTokenizer::from_file(t)?,
        (None, Some(v), ..) => TextTokenizer::wordpiece(v, lowercase)?,
        (None, None, Some(v), Some(m)) => TextTokenizer::byte_level_bpe(v, m)?,
        _ => return Err(missing("a tokenizer (tokenizer.json, vocab.txt, or vocab.json and merges.txt)")),
    };
    // Like transformers' tokenizers (truncation off unless asked): an input longer than the
    // model takes is an error naming its length, not silently cut (a tokenizer.json may carry
    // a truncation setting from when it was saved).
    tokenizer.set_max_length(None)?;
    let mut plan = Plan {
        repo: spec.clone(),
        entry: name.to_owned(),
        architecture: entry_arch,
        config: PlannedConfig::None,
        source: WeightSource::RandomInit,
        // As for other models: the weights loaded (a tokenizer's files are its weights).
        weights: (tokenizer_only || (options.pretrained && options.checkpoint.is_none())).then(|| fetched.name.clone()),
        checkpoint: options.checkpoint.clone(),
        preprocess: None,
        categories: Vec::new(),
        tokenizer: None,
    };
    if tokenizer_only {
        plan.tokenizer = Some(tokenizer);
        return Ok(plan);
    }
    let config_json = file("config.json").ok_or_else(|| missing("config.json"))?;
    let head: HfHead = crate::text::read_config(config_json)?;
    let base = match choice.listed().and_then(|w| w.architecture.as_deref()) {
        Some(id) => registry::find(id).ok_or_else(|| Error::UnknownArchitecture { architecture: id.to_owned() })?,
        None => entry_arch,
    };
    let architecture = base.for_model_type(name, head.model_type.as_deref())?;
    let mut num_labels = None;
    for (key, value) in &options.config {
        match (key.as_str(), value.as_integer()) {
            ("num_labels", Some(n)) if n as u64 > registry::limits::MAX_CLASSES as u64 => {
                return Err(Error::TooLarge {
                    source_name: name.to_owned(),
                    key: key.clone(),
                    value: n.to_string(),
                    limit: format!("at most {}", registry::limits::MAX_CLASSES),
                    hint: "check the value".into(),
                })
            }
            ("num_labels", Some(n)) if n > 0 => num_labels = Some(n as usize),
            _ => return Err(Error::Config { entry: name.to_owned(), key: key.clone(), message: format!("text models take only num_labels = N (a positive integer) as a config override, got {key} = {value}") }),
        }
    }
    // A token id past the embedding matrix would fail inside the model: the tokenizer and the
    // config must belong together.
    if let Some(vocab) = head.vocab_size {
        if tokenizer.vocab_size() > vocab {
            return Err(Error::Config {
                entry: name.to_owned(),
                key: format!("{} vocab_size", config_json.display()),
                message: format!(
                    "the tokenizer has {} tokens but the model's vocab_size is {vocab}: ids past it have no embedding (the model id's tokenizer and config.json do not belong together)",
                    tokenizer.vocab_size()
                ),
            });
        }
    }
    let source = match &options.checkpoint {
        Some(path) => {
            check_checkpoint(path)?;
            Some(path.clone())
        }
        None => fetched.checkpoint.clone(),
    };
    // Text models read safetensors or PyTorch files by the file's extension.
    plan.source = source.map_or(WeightSource::RandomInit, |path| WeightSource::File { path, format: WeightFormat::Pytorch, key: None });
    plan.categories = match (num_labels, head.id2label) {
        (None, Some(map)) => {
            let mut labels: Vec<(usize, String)> = map.into_iter().filter_map(|(k, v)| Some((k.parse().ok()?, v))).collect();
            labels.sort();
            labels.into_iter().map(|(_, v)| v).collect()
        }
        _ => Vec::new(),
    };
    plan.config = PlannedConfig::ConfigJson { path: config_json.clone(), num_labels };
    plan.architecture = architecture;
    plan.tokenizer = Some(tokenizer);
    Ok(plan)
}

/// An error unless `path` is a regular file (or a link to one): a missing path and a directory
/// get their own messages.
fn check_checkpoint(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NoCheckpoint { path: path.to_path_buf() }),
        Err(e) => Err(hub_core::Error::io("reading", path, e).into()),
        Ok(m) if m.is_dir() => Err(Error::CheckpointNotAFile { path: path.to_path_buf(), kind: "a directory" }),
        Ok(m) if !m.is_file() => Err(Error::CheckpointNotAFile { path: path.to_path_buf(), kind: "not a regular file" }),
        Ok(_) => Ok(()),
    }
}

/// The manifest's preprocessing as a [`Preprocess`] pipeline (ImageNet defaults for missing fields).
pub fn to_preprocess(entry: &str, p: Option<&hub_core::Preprocessing>) -> Result<Preprocess> {
    let mut out = Preprocess::imagenet();
    let Some(p) = p else { return Ok(out) };
    let channels = |key: &str, v: &Option<Vec<f32>>, default: [f32; 3]| -> Result<[f32; 3]> {
        match v {
            None => Ok(default),
            Some(v) => <[f32; 3]>::try_from(v.as_slice()).map_err(|_| Error::Config {
                entry: entry.to_owned(),
                key: format!("preprocessing.{key}"),
                message: format!("expected 3 values (RGB), got {}", v.len()),
            }),
        }
    };
    for (key, value, field) in [("preprocessing.resize", p.resize, &mut out.resize_size), ("preprocessing.crop", p.crop, &mut out.crop_size)] {
        let Some(v) = value else { continue };
        if v == 0 {
            return Err(crate::preprocess::PreprocessError::ZeroSize(key).into());
        }
        if v as usize > crate::preprocess::MAX_PREPROCESS_SIZE {
            return Err(crate::preprocess::PreprocessError::SizeTooLarge { key, value: v as usize, limit: crate::preprocess::MAX_PREPROCESS_SIZE }.into());
        }
        *field = v as usize;
    }
    out.interpolation = match p.interpolation {
        None | Some(hub_core::manifest::Interpolation::Bilinear) => Interpolation::Bilinear,
        Some(hub_core::manifest::Interpolation::Bicubic) => Interpolation::Bicubic,
        Some(other) => {
            return Err(Error::Config {
                entry: entry.to_owned(),
                key: "preprocessing.interpolation".into(),
                message: format!("{other:?} is not supported for classification (bilinear or bicubic)"),
            })
        }
    };
    out.resize_path = match p.resize_kernel {
        None | Some(hub_core::manifest::ResizeKernel::Float) => crate::preprocess::ResizePath::Float,
        Some(hub_core::manifest::ResizeKernel::Uint8) => crate::preprocess::ResizePath::Uint8,
    };
    out.mean = channels("mean", &p.mean, out.mean)?;
    out.std = channels("std", &p.std, out.std)?;
    Ok(out)
}

