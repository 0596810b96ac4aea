//! How a checkpoint is read: key remaps, the top-level key, strictness, ignored and optional keys.

use burn_store::{KeyRemapper, PathFilter};

use super::ImportError;

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
    /// listed in [`ImportReport::initialized`](super::ImportReport::initialized) instead of failing a strict load.
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

pub(super) fn key_remapper(options: &ImportOptions) -> Result<KeyRemapper, ImportError> {
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
pub(super) fn pattern_filter(patterns: &[String]) -> Result<PathFilter, ImportError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_escaped() {
        assert_eq!(regex_escape("module."), r"module\.");
        let remaps = ImportOptions::new().with_strip_prefix(None).all_remaps();
        assert!(remaps.is_empty());
    }
}
