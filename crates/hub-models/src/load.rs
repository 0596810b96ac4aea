//! The one-line load API: `hub_models::load("pytorch/vision", "resnet50", LoadOptions::default())`.

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use hub_core::{Hub, HubOptions, RepoSpec, WeightFormat};
use image::RgbImage;

use crate::error::{Error, Result};
use crate::import::ImportReport;
use crate::preprocess::{Interpolation, Preprocess};
use crate::registry::{self, Architecture, Generator, ImageClassifier, Model, TextModel};
use crate::text::bert::BertInput;
use crate::text::generation::{self, GenerationConfig};
use crate::text::gpt2::Gpt2Input;
use crate::text::tokenizer::{BatchOptions, TextTokenizer};

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
    /// The input preparation the weights expect.
    pub preprocess: Preprocess,
    /// Category names, by class index (empty when the manifest names none that hub knows).
    pub categories: Vec<String>,
    /// What the import found (unused keys of a non-strict load).
    pub report: Option<ImportReport>,
    /// The tokenizer of a text model.
    pub tokenizer: Option<TextTokenizer>,
    /// The device the model lives on.
    pub device: B::Device,
}

/// One predicted class.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Prediction {
    /// Class index.
    pub index: usize,
    /// Class name (`class N` when unknown).
    pub label: String,
    /// Softmax probability.
    pub probability: f32,
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
    if let Some(arch) = registry::find(&ep.architecture) {
        text.push_str(&format!("\n{}\n", arch.signature()));
    }
    Ok(text)
}

/// Generated text (text generation).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GeneratedText {
    /// The new text, special tokens dropped.
    pub text: String,
    /// The new token ids (an end-of-text token that stopped generation included).
    pub ids: Vec<u32>,
}

/// One predicted token (fill-mask).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TokenPrediction {
    /// Token id.
    pub id: u32,
    /// The token's text.
    pub token: String,
    /// Softmax probability.
    pub probability: f32,
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

/// Loads an entrypoint through an existing [`Hub`].
pub fn load_with<B: Backend>(hub: &Hub, spec: &RepoSpec, entry: &str, options: &LoadOptions, device: &B::Device) -> Result<Loaded<B>> {
    let repo = hub.repo(spec)?;
    let manifest = &repo.manifest;
    manifest.check_dependencies(&spec.to_string(), registry::provides)?;
    let (name, ep) = manifest.entry(entry)?;
    if registry::find(&ep.architecture).is_some_and(|a| a.family.is_text()) {
        return load_text(hub, spec, name, ep, options, device);
    }
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
    let mut model = architecture.build_model::<B>(name, &config, device)?;
    let mut report = None;
    let preprocessing = ep.preprocessing_for(weights.map(|(_, w)| w));
    if let Some(path) = &options.checkpoint {
        check_checkpoint(path)?;
        // By content, not by name: a safetensors file called model.pth loads as safetensors.
        let format = match crate::import::sniff_checkpoint(path)? {
            crate::import::CheckpointKind::Safetensors => WeightFormat::Safetensors,
            _ => WeightFormat::Pytorch,
        };
        let (m, r) = load_file(model, &architecture, path, format, options.checkpoint_key.as_deref())?;
        model = m;
        report = Some(r);
    } else if let Some((_, w)) = weights.filter(|_| options.pretrained) {
        let path = hub.fetch(&w.artifact)?;
        // A checked burnpack conversion of this very file (`hub convert`) loads without pickle parsing.
        let converted = crate::convert::cached_sha256(&path)
            .map(|sha| crate::convert::converted_path(hub.cache().root(), sha, architecture.id))
            .filter(|p| p.is_file());
        if let (Some(bpk), Model::Classifier(_)) = (converted, &model) {
            // Only a burnpack that matches the size and sha256 recorded when it was written is
            // used; a damaged one is reported and the checkpoint itself loads instead.
            match crate::convert::verify_converted(&bpk) {
                Ok(()) => {
                    if let Model::Classifier(fresh) = architecture.build_model::<B>(name, &config, device)? {
                        match fresh.load_burnpack(&bpk) {
                            Ok(m) => return finish(spec, name, ep, weights, options, architecture, Model::Classifier(m), None, preprocessing.as_ref(), device),
                            Err(e) => eprintln!("hub: warning: {e}; loading {} instead", path.display()),
                        }
                    }
                }
                Err(e) => eprintln!("hub: warning: {e}; loading {} instead", path.display()),
            }
        }
        let (m, r) = load_file(model, &architecture, &path, w.format, w.key.as_deref())?;
        model = m;
        report = Some(r);
    }
    finish(spec, name, ep, weights, options, architecture, model, report, preprocessing.as_ref(), device)
}

/// Fetches (and verifies) the files that loading `choice` of `entry` reads: the checkpoint and
/// the files that come with it, or only the files for a tokenizer entrypoint (they are the
/// tokenizer; there is no checkpoint). `hub download` and `hub lock` use it.
pub fn fetch_weights(hub: &Hub, entry: &hub_core::Entrypoint, choice: &hub_core::WeightsChoice) -> Result<hub_core::FetchedWeights> {
    let tokenizer_only = registry::find(&entry.architecture).is_some_and(|a| a.family == registry::Family::Tokenizer);
    Ok(hub.fetch_weights(choice, !tokenizer_only)?)
}

/// The parts of a Hugging Face `config.json` that choose the architecture and name the labels.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct HfHead {
    model_type: Option<String>,
    vocab_size: Option<usize>,
    id2label: Option<std::collections::BTreeMap<String, String>>,
}

/// Loads a text entrypoint: its weights are a model id (listed in the manifest, or any id
/// through the entrypoint's `model_ids`), whose `config.json` configures the model and picks
/// BERT or GPT-2, and whose tokenizer files come along.
fn load_text<B: Backend>(hub: &Hub, spec: &RepoSpec, name: &str, ep: &hub_core::Entrypoint, options: &LoadOptions, device: &B::Device) -> Result<Loaded<B>> {
    let entry_arch = registry::find(&ep.architecture).ok_or_else(|| Error::UnknownArchitecture { architecture: ep.architecture.clone() })?;
    let choice = ep.choose_weights(name, options.weights.as_deref(), options.revision.as_deref())?.ok_or_else(|| Error::Config {
        entry: name.to_owned(),
        key: "weights".into(),
        message: "a text model needs a model id (e.g. bert-base-uncased) for its config.json and tokenizer".into(),
    })?;
    let tokenizer_only = entry_arch.family == registry::Family::Tokenizer;
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
    let mut loaded = Loaded {
        repo: spec.clone(),
        entry: name.to_owned(),
        // As for other models: the weights loaded (a tokenizer's files are its weights).
        weights: (tokenizer_only || (options.pretrained && options.checkpoint.is_none())).then(|| fetched.name.clone()),
        checkpoint: options.checkpoint.clone(),
        architecture: entry_arch,
        model: Model::Tokenizer,
        preprocess: Preprocess::imagenet(),
        categories: Vec::new(),
        report: None,
        tokenizer: Some(tokenizer),
        device: device.clone(),
    };
    if tokenizer_only {
        return Ok(loaded);
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
    if let (Some(vocab), Some(tok)) = (head.vocab_size, &loaded.tokenizer) {
        if tok.vocab_size() > vocab {
            return Err(Error::Config {
                entry: name.to_owned(),
                key: format!("{} vocab_size", config_json.display()),
                message: format!(
                    "the tokenizer has {} tokens but the model's vocab_size is {vocab}: ids past it have no embedding (the model id's tokenizer and config.json do not belong together)",
                    tok.vocab_size()
                ),
            });
        }
    }
    let mut model = architecture.build_text::<B>(config_json, num_labels, device)?;
    let source = match &options.checkpoint {
        Some(path) => {
            check_checkpoint(path)?;
            Some(path.clone())
        }
        None => fetched.checkpoint.clone(),
    };
    if let Some(path) = source {
        // Text models read safetensors or PyTorch files by the file's extension.
        let (m, r) = model.load_pytorch(&architecture, &path, None)?;
        model = m;
        loaded.report = Some(r);
    }
    loaded.categories = match (num_labels, head.id2label) {
        (None, Some(map)) => {
            let mut labels: Vec<(usize, String)> = map.into_iter().filter_map(|(k, v)| Some((k.parse().ok()?, v))).collect();
            labels.sort();
            labels.into_iter().map(|(_, v)| v).collect()
        }
        _ => Vec::new(),
    };
    loaded.architecture = architecture;
    loaded.model = model;
    Ok(loaded)
}

#[allow(clippy::too_many_arguments)]
fn finish<B: Backend>(
    spec: &RepoSpec,
    name: &str,
    ep: &hub_core::Entrypoint,
    weights: Option<(&str, &hub_core::Weights)>,
    options: &LoadOptions,
    architecture: Architecture,
    model: Model<B>,
    report: Option<ImportReport>,
    preprocessing: Option<&hub_core::Preprocessing>,
    device: &B::Device,
) -> Result<Loaded<B>> {
    let preprocess = to_preprocess(name, preprocessing)?;
    // The convolutions and poolings need a minimum input: refuse a smaller one here, not with a
    // panic (or empty feature maps) inside the model.
    match architecture.task {
        registry::Task::ImageClassification => crate::preprocess::check_min_input(&architecture, "preprocessing.crop", preprocess.crop_size)?,
        registry::Task::SemanticSegmentation => crate::preprocess::check_min_input(&architecture, "preprocessing.resize", preprocess.resize_size)?,
        _ => {}
    }
    let categories = match ep.categories_for(weights.map(|(_, w)| w)) {
        Some("imagenet-1k") => crate::imagenet::categories().into_iter().map(str::to_owned).collect(),
        Some("voc-21") => crate::segmentation::voc::CATEGORIES.iter().map(|c| c.to_string()).collect(),
        _ => Vec::new(),
    };
    Ok(Loaded {
        repo: spec.clone(),
        entry: name.to_owned(),
        weights: weights.filter(|_| options.pretrained).map(|(n, _)| n.to_owned()),
        checkpoint: options.checkpoint.clone(),
        architecture,
        model,
        preprocess,
        categories,
        report,
        tokenizer: None,
        device: device.clone(),
    })
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

fn load_file<B: Backend>(model: Model<B>, architecture: &Architecture, path: &Path, format: WeightFormat, key: Option<&str>) -> Result<(Model<B>, ImportReport)> {
    match format {
        WeightFormat::Safetensors => model.load_safetensors(architecture, path),
        _ => model.load_pytorch(architecture, path, key),
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

impl<B: Backend> Loaded<B> {
    /// The image classifier, or an error for models of other tasks.
    pub fn classifier(&self) -> Result<&ImageClassifier<B>> {
        match &self.model {
            Model::Classifier(m) => Ok(m),
            _ => Err(self.wrong_task("classification")),
        }
    }

    /// The image generator, or an error for models of other tasks.
    pub fn generator(&self) -> Result<&Generator<B>> {
        match &self.model {
            Model::Generator(g) => Ok(g),
            _ => Err(self.wrong_task("image generation")),
        }
    }

    pub(crate) fn wrong_task(&self, operation: &'static str) -> Error {
        Error::WrongTask { entry: self.entry.clone(), task: self.architecture.task.as_str().to_owned(), operation }
    }

    /// Logits for a preprocessed batch (classifiers).
    ///
    /// # Shapes
    /// - x: `[batch, 3, crop, crop]`
    /// - returns: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Result<Tensor<B, 2>> {
        let classifier = self.classifier()?;
        let [_, _, h, w] = x.dims();
        crate::preprocess::check_min_input(&self.architecture, "the input's height or width", h.min(w))?;
        Ok(classifier.forward(x))
    }

    /// `n` images from seeded noise (generators): the GAN zoo's `test(buildNoiseData(n))`.
    ///
    /// # Shapes
    /// - returns: `[n, channels, size, size]`, values in [-1, 1]
    pub fn generate(&self, n: usize, seed: u64) -> Result<Tensor<B, 4>> {
        let g = self.generator()?;
        Ok(g.test(g.build_noise_data(n, seed, &self.device)))
    }

    /// An error unless `tokens` fit the text model's positions (longer inputs are refused, not
    /// silently truncated).
    pub(crate) fn check_length(&self, tokens: usize) -> Result<()> {
        match &self.model {
            Model::Text(m) if tokens > m.max_positions() => Err(Error::BadInput {
                entry: self.entry.clone(),
                message: format!("the input is {tokens} tokens long; {} takes at most {} (shorten the text)", self.architecture.id, m.max_positions()),
            }),
            _ => Ok(()),
        }
    }

    pub(crate) fn text(&self, operation: &'static str) -> Result<(&TextModel<B>, &TextTokenizer)> {
        match (&self.model, &self.tokenizer) {
            (Model::Text(m), Some(t)) => Ok((m, t)),
            _ => Err(self.wrong_task(operation)),
        }
    }

    /// For each `[MASK]` of `text` (in order), the `k` likeliest tokens (fill-mask models).
    pub fn fill_mask(&self, text: &str, k: usize) -> Result<Vec<Vec<TokenPrediction>>> {
        let (model, tok) = self.text("fill-mask")?;
        if !matches!(model, TextModel::BertMaskedLm(_) | TextModel::BertPreTraining(_)) {
            return Err(self.wrong_task("fill-mask"));
        }
        let mask_id = tok.token_to_id("[MASK]").ok_or_else(|| Error::BadInput { entry: self.entry.clone(), message: "the tokenizer has no [MASK] token".into() })?;
        let batch = tok.encode_batch(&[text], &BatchOptions::new())?;
        self.check_length(batch.seq_len())?;
        let positions: Vec<usize> = batch.input_ids[0].iter().enumerate().filter(|(_, &id)| id == mask_id).map(|(i, _)| i).collect();
        if positions.is_empty() {
            return Err(Error::BadInput { entry: self.entry.clone(), message: format!("{text:?} has no [MASK] token to fill") });
        }
        let input = BertInput::new(batch.input_ids(&self.device))
            .with_attention_mask(batch.attention_mask(&self.device))
            .with_token_type_ids(batch.token_type_ids(&self.device));
        let logits = match model {
            TextModel::BertMaskedLm(m) => m.forward(input),
            TextModel::BertPreTraining(m) => m.forward(input).prediction_logits,
            _ => unreachable!("checked above"),
        };
        let [_, _, vocab] = logits.dims();
        let mut out = Vec::new();
        for p in positions {
            let row = logits.clone().slice([0..1, p..p + 1, 0..vocab]).reshape([1, vocab]);
            let top = &crate::imagenet::top_k_labeled(row, k, &[])[0];
            out.push(
                top.iter()
                    .map(|t| {
                        let id = t.index as u32;
                        Ok(TokenPrediction { id, token: tok.decode(&[id], false)?.trim().to_owned(), probability: t.prob })
                    })
                    .collect::<Result<Vec<_>>>()?,
            );
        }
        Ok(out)
    }

    /// The tokenizer of a text model (or of a tokenizer entrypoint).
    pub fn tokenizer(&self) -> Result<&TextTokenizer> {
        self.tokenizer.as_ref().ok_or_else(|| self.wrong_task("tokenization"))
    }

    /// Mean-pooled, L2-normalised sentence embeddings (feature-extraction models).
    ///
    /// # Shapes
    /// - returns: `[texts.len(), hidden]`
    pub fn embed(&self, texts: &[&str]) -> Result<Tensor<B, 2>> {
        let (model, tok) = self.text("feature extraction")?;
        let batch = tok.encode_batch(texts, &BatchOptions::new())?;
        self.check_length(batch.seq_len())?;
        let mask = batch.attention_mask(&self.device);
        let hidden = match model {
            TextModel::Bert(m) => {
                let input = BertInput::new(batch.input_ids(&self.device)).with_attention_mask(mask.clone()).with_token_type_ids(batch.token_type_ids(&self.device));
                m.forward(input).last_hidden_state
            }
            TextModel::Gpt2(m) => {
                let mut input = Gpt2Input::new(batch.input_ids(&self.device));
                input.attention_mask = Some(mask.clone());
                m.forward(input, None)
            }
            _ => return Err(self.wrong_task("feature extraction")),
        };
        Ok(crate::text::bert::mean_pooling_normalized(hidden, mask))
    }

    /// Continues `prompt` (text-generation models); `on_token` receives each new token's text as
    /// it is generated. Returns the generated text and token ids.
    pub fn generate_text(&self, prompt: &str, config: &GenerationConfig, mut on_token: impl FnMut(&str)) -> Result<GeneratedText> {
        let (model, tok) = self.text("text generation")?;
        let TextModel::Gpt2LmHead(m) = model else { return Err(self.wrong_task("text generation")) };
        let ids = tok.encode(prompt, false)?;
        // Stream whole characters: decode the growing sequence and emit what is new.
        let mut generated: Vec<u32> = Vec::new();
        let mut shown = 0;
        let mut decode_err = None;
        let all = generation::generate::<B, _>(m.as_ref(), &ids, config, |id| {
            generated.push(id);
            match tok.decode(&generated, true) {
                Ok(text) if text.len() > shown && !text.ends_with('\u{fffd}') => {
                    on_token(&text[shown..]);
                    shown = text.len();
                }
                Ok(_) => {}
                Err(e) => decode_err = Some(e),
            }
            true
        })?;
        if let Some(e) = decode_err {
            return Err(e.into());
        }
        Ok(GeneratedText { text: tok.decode(&all, true)?, ids: all })
    }

    /// Continues several prompts at once (text-generation models): one left-padded batch, so
    /// each step costs one batched forward pass. Returns each prompt's generated text and ids.
    pub fn generate_texts(&self, prompts: &[&str], config: &GenerationConfig) -> Result<Vec<GeneratedText>> {
        let (model, tok) = self.text("text generation")?;
        let TextModel::Gpt2LmHead(m) = model else { return Err(self.wrong_task("text generation")) };
        let ids = prompts.iter().map(|p| tok.encode(p, false)).collect::<std::result::Result<Vec<_>, _>>()?;
        // GPT-2 has no padding token: it pads with end-of-text, which the attention mask hides.
        let pad = generation::CausalLm::<B>::eos_token_ids(m.as_ref()).first().copied().or_else(|| tok.pad_token_id()).unwrap_or(0);
        let out = generation::generate_batch::<B, _>(m.as_ref(), &ids, pad, config, |_, _| true)?;
        out.into_iter().map(|ids| Ok(GeneratedText { text: tok.decode(&ids, true)?, ids })).collect()
    }

    /// Speech from text with a WaveGlow `vocoder` (Tacotron2 models): 22.05 kHz samples. The
    /// prenet dropout masks and WaveGlow's noise come from `seed`.
    pub fn speak(&self, vocoder: &Loaded<B>, text: &str, seed: u64, sigma: f32) -> Result<(Vec<f32>, u32)> {
        let Model::Tacotron2(t) = &self.model else { return Err(self.wrong_task("speech synthesis")) };
        let Model::WaveGlow(w) = &vocoder.model else { return Err(vocoder.wrong_task("vocoding")) };
        crate::tts::synthesize_with_sigma(t, w, text, seed, sigma).map_err(|e| Error::BadInput { entry: self.entry.clone(), message: e.to_string() })
    }

    /// Segments an image file: the per-pixel labels at the preprocessed size, the resized image
    /// they belong to (for overlays), and the raw class scores `[1, classes, h, w]`.
    pub fn segment_file(&self, path: &Path) -> Result<(crate::segmentation::voc::Mask, RgbImage, Tensor<B, 4>)> {
        let Model::Segmenter(m) = &self.model else { return Err(self.wrong_task("segmentation")) };
        let transform = crate::segmentation::preprocess::SemanticSegmentation {
            resize_size: Some(self.preprocess.resize_size),
            interpolation: self.preprocess.interpolation,
            mean: self.preprocess.mean,
            std: self.preprocess.std,
        };
        crate::preprocess::check_min_input(&self.architecture, "the resize size", self.preprocess.resize_size)?;
        if self.preprocess.resize_size > crate::preprocess::MAX_PREPROCESS_SIZE {
            return Err(crate::preprocess::PreprocessError::SizeTooLarge { key: "resize_size", value: self.preprocess.resize_size, limit: crate::preprocess::MAX_PREPROCESS_SIZE }.into());
        }
        // Checked from the header before decoding: the resized image must fit the pixel limit.
        let (w, h) = crate::preprocess::image_dimensions(path)?;
        crate::preprocess::check_resized(path, w, h, self.preprocess.resize_size, crate::preprocess::max_image_pixels()?)?;
        let (x, resized) = transform.from_file::<B>(path, &self.device)?;
        let scores = m.forward(x).out;
        let mask = crate::segmentation::voc::masks(scores.clone()).remove(0);
        Ok((mask, resized, scores))
    }

    /// The `k` most probable classes of each image, most probable first.
    pub fn classify(&self, images: &[RgbImage], k: usize) -> Result<Vec<Vec<Prediction>>> {
        Ok(self.classify_with_logits(images, k)?.0)
    }

    /// [`classify`](Self::classify), also returning the logits the classes were ranked by.
    ///
    /// # Shapes
    /// - returns: the predictions, and the logits `[images.len(), num_classes]`
    pub fn classify_with_logits(&self, images: &[RgbImage], k: usize) -> Result<(Vec<Vec<Prediction>>, Tensor<B, 2>)> {
        let batch = self.preprocess.batch_from_images::<B>(images, &self.device)?;
        let logits = self.forward(batch)?;
        Ok((self.top_k(logits.clone(), k), logits))
    }

    /// [`classify`](Self::classify) on image files (PNG or JPEG).
    pub fn classify_files<P: AsRef<Path>>(&self, paths: &[P], k: usize) -> Result<Vec<Vec<Prediction>>> {
        let images = paths.iter().map(|p| crate::preprocess::load_rgb8(p.as_ref())).collect::<Result<Vec<_>, _>>()?;
        self.classify(&images, k)
    }

    /// Top-k of logits with this model's category names.
    pub fn top_k(&self, logits: Tensor<B, 2>, k: usize) -> Vec<Vec<Prediction>> {
        let labels: Vec<&str> = self.categories.iter().map(String::as_str).collect();
        crate::imagenet::top_k_labeled(logits, k, &labels)
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|p| Prediction {
                        index: p.index,
                        label: if p.label == "?" { format!("class {}", p.index) } else { p.label.to_owned() },
                        probability: p.prob,
                    })
                    .collect()
            })
            .collect()
    }
}
