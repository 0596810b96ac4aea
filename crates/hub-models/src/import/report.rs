//! What a load matched and found wrong: the report of a lenient load, the errors of a strict one.

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;

use burn::tensor::DType;
use burn_store::{ApplyError, PytorchStoreError, SafetensorsStoreError};

#[cfg(doc)]
use super::{load_pytorch, load_safetensors, ImportOptions};

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

/// The first path segments of torchvision's auxiliary classifiers (GoogLeNet's `aux1`/`aux2`,
/// Inception v3's `AuxLogits`, hub's `aux_logits`).
const AUX_HEADS: &[&str] = &["aux1", "aux2", "AuxLogits", "aux_logits"];

/// Suggests the `aux_logits` config value when the only difference is the auxiliary heads: all
/// unexpected keys under them (the checkpoint has them, the model does not) or all missing ones.
pub(super) fn aux_hint(missing: &[String], unexpected: &[String]) -> Option<String> {
    let aux = |keys: &[String]| !keys.is_empty() && keys.iter().all(|k| AUX_HEADS.contains(&k.split('.').next().unwrap_or("")));
    match (missing.is_empty(), unexpected.is_empty()) {
        (true, false) if aux(unexpected) => Some("the checkpoint has the auxiliary classifiers: load it with `--config aux_logits=true` (LoadOptions config `aux_logits = true`)".into()),
        (false, true) if aux(missing) => Some("the checkpoint has no auxiliary classifiers: load it with `--config aux_logits=false` (LoadOptions config `aux_logits = false`)".into()),
        _ => None,
    }
}

/// Suggests a top-level key when every unexpected key sits under one first segment that, once
/// removed, names missing parameters.
pub(super) fn nesting_hint(missing: &[String], unexpected: &[String]) -> Option<String> {
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
