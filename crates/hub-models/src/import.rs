//! Loading PyTorch (`.pth`/`.pt`) and safetensors weights into burn modules.
//!
//! Every model family loads its weights through [`load_pytorch`] or [`load_safetensors`]. Both read
//! the file through burn-store (`PytorchStore` reads zip and legacy pickle checkpoints without
//! executing any code from them; `SafetensorsStore` reads safetensors), rename the keys with the
//! family's regex remaps, and then **check the file against the model before anything is applied**:
//!
//! - *missing*: a parameter of the model that the file does not have;
//! - *unexpected*: a tensor of the file that the model does not use, except the harmless ones
//!   ([`ImportOptions::ignore`], by default BatchNorm's `num_batches_tracked` counter);
//! - *mismatched*: a tensor whose shape differs from the parameter's, or whose element type cannot
//!   be converted to the parameter's (floats are converted to floats, e.g. an f16 checkpoint loads
//!   into an f32 model).
//!
//! A strict load (the default) fails with [`ImportError::Mismatch`] naming the file and those keys,
//! and leaves the model untouched. A non-strict load applies what matches and returns the
//! [`ImportReport`]. Validating first matters: a panic inside burn-store's apply aborts the process.
//!
//! Layout conventions follow PyTorch, through burn-store's `PyTorchToBurnAdapter`: `nn.Linear`
//! weights are transposed (`[out, in]` → burn's `[in, out]`), and BatchNorm/LayerNorm/GroupNorm
//! `weight`/`bias` are loaded into burn's `gamma`/`beta`. Index numbering of `nn.Sequential` keys is
//! kept as in the file (`features.3.weight` stays `features.3.weight`): our models mirror torch's
//! indices, so no contiguous renumbering happens.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, DType, Element, Int, Shape, Tensor};
use burn_store::{
    ApplyError, BurnToPyTorchAdapter, KeyRemapper, ModuleAdapter, ModuleSnapshot, ModuleStore,
    PathFilter, PyTorchToBurnAdapter, PytorchStore, PytorchStoreError, SafetensorsStore,
    SafetensorsStoreError, TensorSnapshot, TensorSnapshotError,
};

/// The pattern that marks BatchNorm's step counter, which burn's `BatchNorm` does not keep.
pub const NUM_BATCHES_TRACKED: &str = r"(^|\.)num_batches_tracked$";

/// How a checkpoint is read and matched against a model.
///
/// ```
/// use hub_models::import::ImportOptions;
/// let options = ImportOptions::new()
///     .with_top_level_key("state_dict")
///     .with_remaps([(r"^fc\.", "head.")])
///     .strict(true);
/// assert_eq!(options.top_level_key.as_deref(), Some("state_dict"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportOptions {
    /// Regex `(pattern, replacement)` pairs renaming file keys to module paths, applied in order
    /// after the prefix is stripped (replacement syntax of the `regex` crate: `$1`, `${name}`).
    pub remaps: Vec<(String, String)>,
    /// Key of the nested dictionary that holds the tensors (`state_dict`, `model`,
    /// `netG_state_dict`, ...); `None` reads the top-level dictionary. PyTorch files only.
    pub top_level_key: Option<String>,
    /// A prefix removed from every key that starts with it; `Some("module.")` by default, the
    /// prefix `nn.DataParallel` / `DistributedDataParallel` checkpoints carry.
    pub strip_prefix: Option<String>,
    /// Fail on any missing, unexpected or mismatched key (default `true`).
    pub strict: bool,
    /// Regex patterns of file keys that are harmless when the model has no use for them
    /// (checked on the key after remapping); default: [`NUM_BATCHES_TRACKED`].
    pub ignore: Vec<String>,
    /// Regex patterns of model parameters (PyTorch names) that the file may lack, e.g. a task
    /// head on top of a pre-trained encoder: they keep their random initial values and are
    /// listed in [`ImportReport::initialized`] instead of failing a strict load.
    pub optional: Vec<String>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            remaps: Vec::new(),
            top_level_key: None,
            strip_prefix: Some("module.".to_string()),
            strict: true,
            ignore: vec![NUM_BATCHES_TRACKED.to_string()],
            optional: Vec::new(),
        }
    }
}

impl ImportOptions {
    /// Strict defaults: no remaps, top-level dictionary, strip `module.`, ignore
    /// `num_batches_tracked`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends regex `(pattern, replacement)` key remaps (a family's `weights::remaps()`).
    pub fn with_remaps<I, P, R>(mut self, remaps: I) -> Self
    where
        I: IntoIterator<Item = (P, R)>,
        P: Into<String>,
        R: Into<String>,
    {
        self.remaps
            .extend(remaps.into_iter().map(|(p, r)| (p.into(), r.into())));
        self
    }

    /// Reads the tensors from the nested dictionary under `key`.
    pub fn with_top_level_key(mut self, key: impl Into<String>) -> Self {
        self.top_level_key = Some(key.into());
        self
    }

    /// Sets the prefix stripped from keys (`None` keeps keys as they are).
    pub fn with_strip_prefix(mut self, prefix: Option<&str>) -> Self {
        self.strip_prefix = prefix.map(str::to_string);
        self
    }

    /// Strict (error on any difference) or lenient (apply what matches, report the rest).
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Adds a regex pattern of file keys that may go unused without complaint.
    pub fn with_ignored(mut self, pattern: impl Into<String>) -> Self {
        self.ignore.push(pattern.into());
        self
    }

    /// Adds a regex pattern of model parameters that may be missing from the file (see
    /// [`Self::optional`]).
    pub fn with_optional(mut self, pattern: impl Into<String>) -> Self {
        self.optional.push(pattern.into());
        self
    }

    /// All key remaps in the order they run: the prefix strip first, then [`Self::remaps`].
    fn all_remaps(&self) -> Vec<(String, String)> {
        let mut remaps = Vec::with_capacity(self.remaps.len() + 1);
        if let Some(prefix) = self.strip_prefix.as_deref().filter(|p| !p.is_empty()) {
            remaps.push((format!("^{}", regex_escape(prefix)), String::new()));
        }
        remaps.extend(self.remaps.iter().cloned());
        remaps
    }
}

/// Escapes regex metacharacters so that `text` matches literally.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A tensor that exists on both sides but cannot be loaded.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Mismatch {
    /// The shapes differ (both in PyTorch layout, i.e. `nn.Linear` weights as `[out, in]`).
    Shape {
        /// File key (after remapping).
        key: String,
        /// Shape the model's parameter has.
        expected: Vec<usize>,
        /// Shape the file's tensor has.
        found: Vec<usize>,
    },
    /// The element types cannot be converted (e.g. an integer tensor for a float parameter).
    DType {
        /// File key (after remapping).
        key: String,
        /// Element type of the model's parameter.
        expected: DType,
        /// Element type of the file's tensor.
        found: DType,
    },
}

impl Mismatch {
    /// The file key (after remapping) of the mismatched tensor.
    pub fn key(&self) -> &str {
        match self {
            Self::Shape { key, .. } | Self::DType { key, .. } => key,
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shape {
                key,
                expected,
                found,
            } => write!(
                f,
                "{key}: model expects shape {expected:?}, file has {found:?}"
            ),
            Self::DType {
                key,
                expected,
                found,
            } => write!(f, "{key}: model expects {expected:?}, file has {found:?}"),
        }
    }
}

/// What a load matched, skipped and found wrong. Key names are PyTorch-style (file keys after
/// remapping; BatchNorm parameters as `weight`/`bias`).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ImportReport {
    /// Keys loaded into the model.
    pub applied: Vec<String>,
    /// Parameters of the model that the file does not have (they keep their initial values).
    pub missing: Vec<String>,
    /// Tensors of the file that the model does not use (not counting [`Self::ignored`]).
    pub unexpected: Vec<String>,
    /// Tensors of the file skipped as harmless ([`ImportOptions::ignore`]).
    pub ignored: Vec<String>,
    /// Tensors present on both sides that could not be loaded (not applied).
    pub mismatched: Vec<Mismatch>,
    /// Keys whose element type was converted to the parameter's, with the file's type.
    pub converted: Vec<(String, DType)>,
    /// Parameters the file lacks that [`ImportOptions::optional`] allows: they keep their
    /// random initial values (a new task head, say) and need training before use.
    pub initialized: Vec<String>,
}

impl ImportReport {
    /// `true` when every parameter was loaded and every file tensor was used or harmless.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.mismatched.is_empty()
    }
}

/// Errors of [`load_pytorch`] and [`load_safetensors`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The PyTorch file could not be opened or parsed (I/O, not a checkpoint, unknown
    /// top-level key, ...).
    #[error("cannot read PyTorch checkpoint {}", path.display())]
    ReadPytorch {
        /// The checkpoint.
        path: PathBuf,
        /// burn-store's error.
        #[source]
        source: PytorchStoreError,
    },
    /// The safetensors file could not be opened or parsed.
    #[error("cannot read safetensors file {}", path.display())]
    ReadSafetensors {
        /// The file.
        path: PathBuf,
        /// burn-store's error.
        #[source]
        source: SafetensorsStoreError,
    },
    /// A remap or ignore pattern is not a valid regex.
    #[error("invalid key pattern `{pattern}`: {message}")]
    InvalidPattern {
        /// The offending pattern.
        pattern: String,
        /// The regex compiler's message (burn-store builds `regex` without `std`, so its error
        /// type does not implement `std::error::Error` and cannot be kept as a source).
        message: String,
    },
    /// Strict load: the file does not match the model (nothing was applied).
    #[error("{} does not match the model:{}", path.display(), format_mismatch(missing, unexpected, mismatched, hint))]
    Mismatch {
        /// The weights file.
        path: PathBuf,
        /// Parameters of the model absent from the file.
        missing: Vec<String>,
        /// Tensors of the file the model does not use.
        unexpected: Vec<String>,
        /// Tensors with the wrong shape or element type.
        mismatched: Vec<Mismatch>,
        /// A guess at the fix (e.g. a top-level key to select), when one is evident.
        hint: Option<String>,
    },
    /// The weights file could not be opened or read.
    #[error("cannot read weights file {}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file's first bytes are those of no checkpoint format hub reads.
    #[error("{} is not a checkpoint hub can read: it is not a PyTorch zip (starts with PK\\x03\\x04), a legacy PyTorch pickle (\\x80\\x02), a TAR archive, nor a safetensors file (an 8-byte length, then a JSON header); its {size} bytes start with {head}", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// Its first bytes, escaped.
        head: String,
    },
    /// burn-store reported errors while applying tensors that had passed validation.
    #[error("applying {} failed: {}", path.display(), errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Apply {
        /// The weights file.
        path: PathBuf,
        /// burn-store's per-tensor errors.
        errors: Vec<ApplyError>,
    },
}

/// How many keys of each kind an error message lists before eliding.
const SHOWN_KEYS: usize = 12;

fn format_list(out: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    out.push_str(&format!("\n  {title} ({}):", items.len()));
    for item in items.iter().take(SHOWN_KEYS) {
        out.push_str(&format!("\n    {item}"));
    }
    if items.len() > SHOWN_KEYS {
        out.push_str(&format!("\n    ... and {} more", items.len() - SHOWN_KEYS));
    }
}

fn format_mismatch(
    missing: &[String],
    unexpected: &[String],
    mismatched: &[Mismatch],
    hint: &Option<String>,
) -> String {
    let mut out = String::new();
    format_list(&mut out, "missing from the file", missing);
    format_list(&mut out, "unexpected in the file", unexpected);
    let mismatched: Vec<String> = mismatched.iter().map(ToString::to_string).collect();
    format_list(&mut out, "mismatched", &mismatched);
    if let Some(hint) = hint {
        out.push_str(&format!("\n  hint: {hint}"));
    }
    out
}

/// What a weights file is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointKind {
    /// `torch.save`'s zip format (`PK\x03\x04`).
    TorchZip,
    /// The legacy (pre-1.6) `torch.save` format: pickles from the first byte (`\x80\x02`..`\x80\x05`).
    LegacyPickle,
    /// A TAR archive (the oldest `torch.save` format; `ustar` at offset 257).
    Tar,
    /// safetensors: an 8-byte little-endian header length, then a JSON object.
    Safetensors,
}

/// Recognises a weights file by its content, not its name: PyTorch zip, legacy pickle, TAR or
/// safetensors; anything else is [`ImportError::UnknownFormat`] naming the first bytes.
pub fn sniff_checkpoint(path: &Path) -> Result<CheckpointKind, ImportError> {
    use std::io::Read;
    let open = |source| ImportError::Open { path: path.to_path_buf(), source };
    let mut file = std::fs::File::open(path).map_err(open)?;
    let size = file.metadata().map_err(open)?.len();
    let mut head = Vec::with_capacity(512);
    file.by_ref().take(512).read_to_end(&mut head).map_err(open)?;
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Ok(CheckpointKind::TorchZip);
    }
    if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
        return Ok(CheckpointKind::LegacyPickle);
    }
    if head.len() >= 262 && &head[257..262] == b"ustar" {
        return Ok(CheckpointKind::Tar);
    }
    if head.len() >= 9 && head[8] == b'{' {
        let mut len = [0u8; 8];
        len.copy_from_slice(&head[..8]);
        if u64::from_le_bytes(len) <= size.saturating_sub(8) {
            return Ok(CheckpointKind::Safetensors);
        }
    }
    let head: String = head.iter().take(16).flat_map(|b| std::ascii::escape_default(*b)).map(char::from).collect();
    Err(ImportError::UnknownFormat { path: path.to_path_buf(), size, head: format!("b\"{head}\"") })
}

/// Loads a PyTorch checkpoint (zip or legacy pickle `.pth`/`.pt`, a state dict or a dictionary
/// holding one under [`ImportOptions::top_level_key`]) into `model`.
///
/// The format is recognised by content ([`sniff_checkpoint`]): a safetensors file given here
/// loads as safetensors (without a top-level key), whatever its name.
///
/// Returns the loaded model and what was matched. With [`ImportOptions::strict`] any missing,
/// unexpected or mismatched key is an [`ImportError::Mismatch`]; otherwise the matching tensors
/// are applied and the rest is listed in the [`ImportReport`].
pub fn load_pytorch<B, M>(
    model: M,
    path: impl AsRef<Path>,
    options: &ImportOptions,
) -> Result<(M, ImportReport), ImportError>
where
    B: Backend,
    M: Module<B>,
{
    let path = path.as_ref();
    key_remapper(options)?; // a bad pattern is the caller's error, whatever the file holds
    match sniff_checkpoint(path)? {
        CheckpointKind::Safetensors => read_safetensors(model, path, options),
        _ => read_pytorch(model, path, options),
    }
}

fn read_pytorch<B, M>(model: M, path: &Path, options: &ImportOptions) -> Result<(M, ImportReport), ImportError>
where
    B: Backend,
    M: Module<B>,
{
    let remapper = key_remapper(options)?;
    let mut store = PytorchStore::from_file(path)
        .remap(remapper)
        .map_indices_contiguous(false)
        .allow_partial(true)
        .validate(false);
    if let Some(key) = &options.top_level_key {
        store = store.with_top_level_key(key.as_str());
    }
    let file = store
        .get_all_snapshots()
        .map_err(|source| ImportError::ReadPytorch {
            path: path.to_path_buf(),
            source,
        })?;
    load_snapshots(model, path, file, options)
}

/// Loads a safetensors file holding tensors in PyTorch layout (as written by
/// `safetensors.torch.save_file` or the Hugging Face hub) into `model`.
///
/// Same matching rules and result as [`load_pytorch`]; [`ImportOptions::top_level_key`] does not
/// apply (safetensors files are flat). The format is recognised by content: a PyTorch checkpoint
/// given here loads as one.
pub fn load_safetensors<B, M>(
    model: M,
    path: impl AsRef<Path>,
    options: &ImportOptions,
) -> Result<(M, ImportReport), ImportError>
where
    B: Backend,
    M: Module<B>,
{
    load_pytorch(model, path, options)
}

fn read_safetensors<B, M>(model: M, path: &Path, options: &ImportOptions) -> Result<(M, ImportReport), ImportError>
where
    B: Backend,
    M: Module<B>,
{
    let remapper = key_remapper(options)?;
    let mut store = SafetensorsStore::from_file(path)
        .remap(remapper)
        .map_indices_contiguous(false)
        .allow_partial(true)
        .validate(false);
    let file = store
        .get_all_snapshots()
        .map_err(|source| ImportError::ReadSafetensors {
            path: path.to_path_buf(),
            source,
        })?;
    load_snapshots(model, path, file, options)
}

fn key_remapper(options: &ImportOptions) -> Result<KeyRemapper, ImportError> {
    let mut remapper = KeyRemapper::new();
    for (pattern, replacement) in options.all_remaps() {
        remapper = remapper.add_pattern(&pattern, replacement).map_err(|e| {
            ImportError::InvalidPattern {
                pattern,
                message: e.to_string(),
            }
        })?;
    }
    Ok(remapper)
}

/// Compiled key patterns ([`ImportOptions::ignore`], [`ImportOptions::optional`]); an invalid one is an error naming it.
fn pattern_filter(patterns: &[String]) -> Result<PathFilter, ImportError> {
    // PathFilter silently drops patterns that don't compile: compile them once more to report.
    for pattern in patterns {
        KeyRemapper::new()
            .add_pattern(pattern, "")
            .map_err(|e| ImportError::InvalidPattern {
                pattern: pattern.clone(),
                message: e.to_string(),
            })?;
    }
    Ok(PathFilter::new().with_regexes(patterns))
}

/// One parameter of the model, as burn names it and as a PyTorch file would.
struct Expected {
    /// Path in the burn module (`bn.gamma`).
    burn_path: String,
    /// PyTorch name (`bn.weight`); equal to `burn_path` except for norm layers.
    torch_path: String,
    /// Shape in PyTorch layout (`nn.Linear` weights transposed back to `[out, in]`).
    torch_shape: Vec<usize>,
    dtype: DType,
}

/// Lists the model's parameters without initialising lazy ones (a `collect` would run every
/// random initialiser of, say, VGG's 140M parameters just to throw the values away).
struct ParamLister<B: Backend> {
    path: Vec<String>,
    containers: Vec<String>,
    found: Vec<Expected>,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> ModuleVisitor<B> for ParamLister<B> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.containers.push(container_type.to_string());
        // PyTorch paths never name enum variants (burn-store's `skip_enum_variants`).
        if !container_type.starts_with("Enum:") {
            self.path.push(name.to_string());
        }
    }

    fn exit_module(&mut self, _name: &str, container_type: &str) {
        self.containers.pop();
        if !container_type.starts_with("Enum:") {
            self.path.pop();
        }
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let dtype = if param.is_initialized() {
            param.val().dtype()
        } else {
            // Lazy parameters are created in the backend's default float type.
            <B::FloatElem as Element>::dtype()
        };
        self.push(param.lazy_shape(), dtype);
    }

    fn visit_int<const D: usize>(&mut self, param: &Param<Tensor<B, D, Int>>) {
        let dtype = if param.is_initialized() {
            param.val().dtype()
        } else {
            <B::IntElem as Element>::dtype()
        };
        self.push(param.lazy_shape(), dtype);
    }

    fn visit_bool<const D: usize>(&mut self, param: &Param<Tensor<B, D, Bool>>) {
        self.push(param.lazy_shape(), param.val().dtype());
    }
}

impl<B: Backend> ParamLister<B> {
    fn push(&mut self, shape: Shape, dtype: DType) {
        // A data-less snapshot run through burn-store's own Burn→PyTorch adapter gives the
        // PyTorch name and shape exactly as the loading adapter will expect them.
        let snapshot = TensorSnapshot::from_closure(
            Rc::new(|| {
                Err(TensorSnapshotError::DataError(
                    "shape-only snapshot".to_string(),
                ))
            }),
            dtype,
            shape,
            self.path.clone(),
            self.containers.clone(),
            ParamId::new(),
        );
        let torch = BurnToPyTorchAdapter.adapt(&snapshot);
        self.found.push(Expected {
            burn_path: snapshot.full_path(),
            torch_path: torch.full_path(),
            torch_shape: torch.shape.to_vec(),
            dtype,
        });
    }
}

fn expected_params<B: Backend, M: Module<B>>(model: &M) -> Vec<Expected> {
    let mut lister = ParamLister::<B> {
        path: Vec::new(),
        containers: Vec::new(),
        found: Vec::new(),
        _backend: core::marker::PhantomData,
    };
    model.visit(&mut lister);
    lister.found
}

/// The PyTorch state-dict keys and shapes that `model` loads from, in module order (BatchNorm
/// parameters as `weight`/`bias`, `nn.Linear` weights as `[out, in]`, running statistics
/// included). No lazy parameter is initialised, so this is cheap even for large models.
pub fn state_dict_shapes<B: Backend, M: Module<B>>(model: &M) -> Vec<(String, Vec<usize>)> {
    expected_params(model)
        .into_iter()
        .map(|p| (p.torch_path, p.torch_shape))
        .collect()
}

/// The number of learnable parameters as PyTorch counts them (`sum(p.numel() for p in
/// model.parameters())`): BatchNorm running statistics are buffers, not parameters. Cheap: no
/// lazy parameter is initialised.
pub fn parameter_count<B: Backend, M: Module<B>>(model: &M) -> usize {
    state_dict_shapes(model)
        .into_iter()
        .filter(|(key, _)| !key.ends_with(".running_mean") && !key.ends_with(".running_var"))
        .map(|(_, shape)| shape.iter().product::<usize>())
        .sum()
}

/// Element types that convert without surprise: float to float, integer to integer.
fn convertible(from: DType, to: DType) -> bool {
    (from.is_float() && to.is_float())
        || ((from.is_int() || from.is_uint()) && (to.is_int() || to.is_uint()))
}

/// Suggests a top-level key when every unexpected key sits under one first segment that, once
/// removed, names missing parameters.
fn nesting_hint(missing: &[String], unexpected: &[String]) -> Option<String> {
    let first = unexpected.first()?.split_once('.')?.0;
    let prefix = format!("{first}.");
    if !unexpected.iter().all(|k| k.starts_with(&prefix)) {
        return None;
    }
    let missing: HashSet<&str> = missing.iter().map(String::as_str).collect();
    let hits = unexpected
        .iter()
        .filter(|k| missing.contains(&k[prefix.len()..]))
        .count();
    (hits > 0 && hits * 2 >= missing.len()).then(|| {
        format!("the tensors are nested under `{first}`: set the top-level key (or strip the prefix) `{first}`")
    })
}

fn load_snapshots<B: Backend, M: Module<B>>(
    mut model: M,
    path: &Path,
    file: &BTreeMap<String, TensorSnapshot>,
    options: &ImportOptions,
) -> Result<(M, ImportReport), ImportError> {
    let ignore = pattern_filter(&options.ignore)?;
    let optional = pattern_filter(&options.optional)?;
    let mut report = ImportReport::default();
    let mut used: HashSet<&str> = HashSet::new();
    let mut to_apply: Vec<TensorSnapshot> = Vec::new();
    let mut casts: HashMap<String, DType> = HashMap::new();

    for param in expected_params(&model) {
        // The applier looks up the burn path first, then the PyTorch name; mirror that order.
        let found = [&param.burn_path, &param.torch_path]
            .into_iter()
            .find_map(|key| file.get_key_value(key.as_str()));
        let Some((key, snapshot)) = found else {
            if optional.matches(&param.torch_path) {
                report.initialized.push(param.torch_path);
            } else {
                report.missing.push(param.torch_path);
            }
            continue;
        };
        used.insert(key.as_str());
        let shape = snapshot.shape.to_vec();
        if shape != param.torch_shape {
            report.mismatched.push(Mismatch::Shape {
                key: key.clone(),
                expected: param.torch_shape,
                found: shape,
            });
            continue;
        }
        if snapshot.dtype != param.dtype {
            if !convertible(snapshot.dtype, param.dtype) {
                report.mismatched.push(Mismatch::DType {
                    key: key.clone(),
                    expected: param.dtype,
                    found: snapshot.dtype,
                });
                continue;
            }
            report.converted.push((key.clone(), snapshot.dtype));
            casts.insert(param.burn_path.clone(), param.dtype);
        }
        report.applied.push(key.clone());
        to_apply.push(snapshot.clone());
    }
    for key in file.keys() {
        if used.contains(key.as_str()) {
            continue;
        }
        if ignore.matches(key) {
            report.ignored.push(key.clone());
        } else {
            report.unexpected.push(key.clone());
        }
    }

    if options.strict && !report.is_complete() {
        let hint = nesting_hint(&report.missing, &report.unexpected);
        return Err(ImportError::Mismatch {
            path: path.to_path_buf(),
            missing: report.missing,
            unexpected: report.unexpected,
            mismatched: report.mismatched,
            hint,
        });
    }

    let adapter = PyTorchToBurnAdapter.chain(CastAdapter {
        targets: Arc::new(casts),
    });
    let expected_count = to_apply.len();
    let result = model.apply(to_apply, None, Some(Box::new(adapter)), true);
    if !result.errors.is_empty() || result.applied.len() != expected_count {
        return Err(ImportError::Apply {
            path: path.to_path_buf(),
            errors: result.errors,
        });
    }
    Ok((model, report))
}

/// Converts tensors to the element type of the parameter they load into (keyed by burn path).
#[derive(Clone)]
struct CastAdapter {
    targets: Arc<HashMap<String, DType>>,
}

impl ModuleAdapter for CastAdapter {
    fn adapt(&self, snapshot: &TensorSnapshot) -> TensorSnapshot {
        let Some(&target) = self.targets.get(&snapshot.full_path()) else {
            return snapshot.clone();
        };
        let data_fn = snapshot.clone_data_fn();
        TensorSnapshot::from_closure(
            Rc::new(move || data_fn().map(|data| data.convert_dtype(target))),
            target,
            snapshot.shape.clone(),
            snapshot.path_stack.clone().unwrap_or_default(),
            snapshot.container_stack.clone().unwrap_or_default(),
            snapshot.tensor_id.unwrap_or_default(),
        )
    }

    fn clone_box(&self) -> Box<dyn ModuleAdapter> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::nn::conv::{Conv2d, Conv2dConfig};
    use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
    use burn::tensor::{Distribution, Tensor, TensorData};
    use burn_store::ModuleSnapshot;

    type B = Flex;

    #[derive(Module, Debug)]
    struct Tiny<B: Backend> {
        conv: Conv2d<B>,
        bn: BatchNorm<B>,
        fc: Linear<B>,
    }

    fn tiny(fc_out: usize) -> Tiny<B> {
        let device = Default::default();
        Tiny {
            conv: Conv2dConfig::new([3, 4], [3, 3]).init(&device),
            bn: BatchNormConfig::new(4).init(&device),
            fc: LinearConfig::new(4, fc_out).init(&device),
        }
    }

    /// A `Tiny` with every parameter and running statistic random (so a load is visible).
    fn random_tiny() -> Tiny<B> {
        let device = Default::default();
        let mut model = tiny(2);
        let snapshots: Vec<TensorSnapshot> = model
            .collect(None, None, true)
            .into_iter()
            .map(|s| {
                let t = Tensor::<B, 1>::random(
                    [s.shape.num_elements()],
                    Distribution::Uniform(0.5, 1.5),
                    &device,
                );
                TensorSnapshot::from_data(
                    TensorData::new(t.into_data().to_vec::<f32>().unwrap(), s.shape.to_vec()),
                    s.path_stack.clone().unwrap_or_default(),
                    s.container_stack.clone().unwrap_or_default(),
                    s.tensor_id.unwrap_or_default(),
                )
            })
            .collect();
        let result = model.apply(snapshots, None, None, true);
        assert!(result.errors.is_empty() && result.missing.is_empty());
        model
    }

    /// Writes `model` as a PyTorch-layout safetensors file, keys renamed by `remap`.
    fn save(model: &Tiny<B>, path: &Path, remap: Option<(&str, &str)>) {
        let mut store = SafetensorsStore::from_file(path)
            .with_to_adapter(BurnToPyTorchAdapter)
            .overwrite(true);
        if let Some((from, to)) = remap {
            store = store.with_key_remapping(from, to);
        }
        model.save_into(&mut store).unwrap();
    }

    fn params(model: &Tiny<B>) -> Vec<(String, Vec<f32>)> {
        model
            .collect(None, None, true)
            .into_iter()
            .map(|s| (s.full_path(), s.to_data().unwrap().to_vec::<f32>().unwrap()))
            .collect()
    }

    #[test]
    fn safetensors_round_trip_with_module_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.safetensors");
        let source = random_tiny();
        // DataParallel-style keys: `module.conv.weight`, `module.bn.weight`, ...
        save(&source, &path, Some(("^", "module.")));

        let (loaded, report) = load_safetensors(tiny(2), &path, &ImportOptions::new()).unwrap();
        assert!(report.is_complete(), "{report:?}");
        assert!(report.applied.contains(&"bn.weight".to_string()));
        assert!(report.applied.contains(&"bn.running_var".to_string()));
        assert_eq!(params(&loaded), params(&source));
        assert_ne!(params(&tiny(2)), params(&source));
    }

    #[test]
    fn strict_load_names_the_bad_keys_and_lenient_load_reports_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.safetensors");
        let source = random_tiny();
        // `bn.*` renamed to `norm.*`: the model misses bn.*, the file has unexpected norm.*.
        save(&source, &path, Some((r"^bn\.", "norm.")));

        // fc is [out=3] in the target, [out=2] in the file.
        let err = load_safetensors(tiny(3), &path, &ImportOptions::new()).unwrap_err();
        let ImportError::Mismatch {
            path: err_path,
            missing,
            unexpected,
            mismatched,
            ..
        } = &err
        else {
            panic!("expected a mismatch, got {err}");
        };
        assert_eq!(err_path, &path);
        assert!(missing.contains(&"bn.weight".to_string()), "{missing:?}");
        assert!(missing.contains(&"bn.running_mean".to_string()));
        assert!(
            unexpected.contains(&"norm.bias".to_string()),
            "{unexpected:?}"
        );
        assert!(mismatched.iter().any(|m| matches!(m,
            Mismatch::Shape { key, expected, found }
                if key == "fc.weight" && expected == &vec![3, 4] && found == &vec![2, 4])));
        let message = err.to_string();
        assert!(message.contains("bn.weight") && message.contains("tiny.safetensors"));

        let (loaded, report) =
            load_safetensors(tiny(3), &path, &ImportOptions::new().strict(false)).unwrap();
        assert!(!report.is_complete());
        assert_eq!(
            report.applied,
            vec!["conv.weight".to_string(), "conv.bias".to_string()]
        );
        let conv = |m: &Tiny<B>| m.conv.weight.val().into_data().to_vec::<f32>().unwrap();
        assert_eq!(conv(&loaded), conv(&source));

        // The same file with the rename undone loads strictly.
        let options = ImportOptions::new().with_remaps([(r"^norm\.", "bn.")]);
        let (loaded, report) = load_safetensors(tiny(2), &path, &options).unwrap();
        assert!(report.is_complete());
        assert_eq!(params(&loaded), params(&source));
    }

    #[test]
    fn harmless_keys_are_ignored_and_nesting_is_hinted() {
        assert!(PathFilter::new()
            .with_regex(NUM_BATCHES_TRACKED)
            .matches("features.1.num_batches_tracked"));
        assert!(!PathFilter::new()
            .with_regex(NUM_BATCHES_TRACKED)
            .matches("features.1.running_mean"));
        let hint = nesting_hint(
            &["fc.weight".into(), "fc.bias".into()],
            &["state_dict.fc.weight".into(), "state_dict.fc.bias".into()],
        );
        assert!(hint.unwrap().contains("`state_dict`"));
        assert_eq!(nesting_hint(&["a.b".into()], &["x.y".into()]), None);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("absent.pth");
        let err = load_pytorch(tiny(2), &missing, &ImportOptions::new()).unwrap_err();
        assert!(matches!(err, ImportError::Open { ref path, .. } if path == &missing));

        let garbage = dir.path().join("garbage.pth");
        std::fs::write(&garbage, b"not a checkpoint").unwrap();
        let err = load_pytorch(tiny(2), &garbage, &ImportOptions::new()).unwrap_err();
        assert!(matches!(err, ImportError::UnknownFormat { size: 16, .. }), "{err}");
        assert!(err.to_string().contains(r#"start with b"not a checkpoint""#), "{err}");
        // A zip that is no checkpoint still gets burn-store's error.
        let zip = dir.path().join("zip.pth");
        std::fs::write(&zip, b"PK\x03\x04 broken").unwrap();
        let err = load_pytorch(tiny(2), &zip, &ImportOptions::new()).unwrap_err();
        assert!(matches!(err, ImportError::ReadPytorch { .. }), "{err}");

        let options = ImportOptions::new().with_remaps([("(", "x")]);
        let err = load_pytorch(tiny(2), &garbage, &options).unwrap_err();
        assert!(matches!(err, ImportError::InvalidPattern { ref pattern, .. } if pattern == "("));
    }

    #[test]
    fn errors_cross_threads() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<ImportError>();
    }

    #[test]
    fn prefix_is_escaped() {
        assert_eq!(regex_escape("module."), r"module\.");
        let remaps = ImportOptions::new().with_strip_prefix(None).all_remaps();
        assert!(remaps.is_empty());
    }
}
