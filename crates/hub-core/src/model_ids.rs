//! Weights named by a model id of a model-id hub (the Hugging Face hub): `bert-base-uncased`,
//! `textattack/bert-base-uncased-SST-2@5f1d…`, resolved to file URLs through a template.
//!
//! An entrypoint with a `[entrypoints.X.model_ids]` table accepts any such id as its weights
//! name, not only the ones it lists: the files come from
//! `url = "https://huggingface.co/{id}/resolve/{revision}/{file}"` with the id, the revision
//! (after `@`, else the table's default, `main`) and each file name filled in. Nothing about the
//! files is known in advance, so their hashes are trusted on first download and pinned by the
//! lockfile (`hub lock`, `--locked`), as for any file a manifest publishes without a sha256; a
//! commit revision makes the URLs themselves immutable.
//!
//! This module is the data: the template table and the parsed id. Which weights a name stands
//! for is [`WeightsChoice`](crate::WeightsChoice) (`Entrypoint::choose_weights`), and fetching
//! their files is [`Hub::fetch_weights`](crate::Hub::fetch_weights).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::artifact::Artifact;
use crate::error::{Error, Result};

/// The `model_ids` table of an entrypoint: how a model id becomes file URLs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelIds {
    /// URL template with `{id}`, `{revision}` and `{file}`.
    pub url: String,
    /// The revision (branch, tag or commit) when the weights name gives none.
    #[serde(default = "default_revision")]
    pub revision: String,
    /// Checkpoint file names, in order of preference: the first one the hub has is loaded
    /// (e.g. `model.safetensors`, then `pytorch_model.bin`); empty for entrypoints without a
    /// checkpoint (tokenizers).
    #[serde(default)]
    pub weights: Vec<String>,
    /// Files every model must have (e.g. `config.json`).
    #[serde(default)]
    pub files: Vec<String>,
    /// Alternative groups of files: the first group the hub has in full is fetched (tokenizers:
    /// `[["tokenizer.json"], ["vocab.txt"], ["vocab.json", "merges.txt"]]`); none is an error.
    #[serde(default)]
    pub one_of: Vec<Vec<String>>,
}

fn default_revision() -> String {
    "main".to_owned()
}

impl ModelIds {
    /// Checks the template (used when a manifest is parsed).
    pub fn validate(&self) -> std::result::Result<(), String> {
        for field in ["{id}", "{revision}", "{file}"] {
            if !self.url.contains(field) {
                return Err(format!("model_ids.url {:?} must contain {field}", self.url));
            }
        }
        if !(self.url.starts_with("https://") || self.url.starts_with("http://") || self.url.starts_with("file://")) {
            return Err(format!("model_ids.url {:?} must start with https://, http:// or file://", self.url));
        }
        check_revision(&self.revision).map_err(|m| format!("model_ids.revision: {m}"))?;
        for f in self.weights.iter().chain(&self.files).chain(self.one_of.iter().flatten()) {
            if f.is_empty() || f.starts_with('/') || f.split('/').any(|s| s.is_empty() || s == "..") {
                return Err(format!("model_ids file name {f:?} must be a relative path without '..'"));
            }
        }
        Ok(())
    }

    /// The artifact of one file of a model at a revision (`None`: the table's default).
    pub fn artifact(&self, model: &ModelRef, file: &str) -> Artifact {
        let revision = model.revision.as_deref().unwrap_or(&self.revision);
        Artifact::new(
            self.url
                .replace("{id}", &model.id)
                // A revision such as `refs/pr/1` is one path segment in the URL.
                .replace("{revision}", &revision.replace('/', "%2F"))
                .replace("{file}", file),
        )
    }

    /// The revision `model` resolves to.
    pub fn revision_of<'a>(&'a self, model: &'a ModelRef) -> &'a str {
        model.revision.as_deref().unwrap_or(&self.revision)
    }
}

/// A model id with an optional revision: `owner/name[@revision]` or `name[@revision]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelRef {
    /// The model id (`bert-base-uncased`, `textattack/bert-base-uncased-SST-2`).
    pub id: String,
    /// The revision asked for, if any.
    pub revision: Option<String>,
}

impl ModelRef {
    /// The same model at another revision.
    pub fn at(mut self, revision: impl Into<String>) -> Result<Self> {
        let revision = revision.into();
        check_revision(&revision).map_err(|reason| Error::InvalidModelId { input: format!("{}@{revision}", self.id), reason })?;
        self.revision = Some(revision);
        Ok(self)
    }
}

impl FromStr for ModelRef {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidModelId { input: input.to_owned(), reason: reason.to_owned() };
        let (id, revision) = match input.split_once('@') {
            Some((id, rev)) => (id, Some(rev)),
            None => (input, None),
        };
        let segments: Vec<&str> = id.split('/').collect();
        if segments.len() > 2 {
            return Err(bad("a model id is `name` or `owner/name`"));
        }
        for s in &segments {
            let ok = !s.is_empty()
                && s.len() <= 96
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
                && !s.starts_with(['.', '-'])
                && !s.contains("..");
            if !ok {
                return Err(bad("each part must be letters, digits, '_', '-' or '.', not start with '.' or '-', and not contain '..'"));
            }
        }
        let revision = match revision {
            Some(r) => {
                check_revision(r).map_err(|m| bad(&m))?;
                Some(r.to_owned())
            }
            None => None,
        };
        Ok(ModelRef { id: id.to_owned(), revision })
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.revision {
            Some(r) => write!(f, "{}@{r}", self.id),
            None => f.write_str(&self.id),
        }
    }
}

fn check_revision(r: &str) -> std::result::Result<(), String> {
    let ok = !r.is_empty()
        && r.len() <= 200
        && r.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-./".contains(&b))
        && !r.split('/').any(|s| s.is_empty() || s == "." || s == "..");
    if ok {
        Ok(())
    } else {
        Err(format!("revision {r:?} must be a branch, tag or commit (letters, digits, '_', '-', '.', '/')"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> ModelIds {
        ModelIds {
            url: "https://huggingface.co/{id}/resolve/{revision}/{file}".into(),
            revision: "main".into(),
            weights: vec!["model.safetensors".into(), "pytorch_model.bin".into()],
            files: vec!["config.json".into()],
            one_of: vec![vec!["tokenizer.json".into()], vec!["vocab.json".into(), "merges.txt".into()]],
        }
    }

    #[test]
    fn parses_ids_and_revisions() {
        let m: ModelRef = "bert-base-uncased".parse().unwrap();
        assert_eq!((m.id.as_str(), m.revision.as_deref()), ("bert-base-uncased", None));
        let m: ModelRef = "textattack/bert-base-uncased-SST-2@refs/pr/1".parse().unwrap();
        assert_eq!(m.id, "textattack/bert-base-uncased-SST-2");
        assert_eq!(m.revision.as_deref(), Some("refs/pr/1"));
        assert_eq!(m.to_string(), "textattack/bert-base-uncased-SST-2@refs/pr/1");
        for bad in ["", "a/b/c", "../x", "a/..", "x@", "x@../y", "x@a//b", "a b", "/x", "x/", "-x"] {
            let e = bad.parse::<ModelRef>().unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
        }
    }

    #[test]
    fn builds_urls_from_the_template() {
        let t = table();
        t.validate().unwrap();
        let m: ModelRef = "gpt2".parse().unwrap();
        assert_eq!(t.artifact(&m, "config.json").url, "https://huggingface.co/gpt2/resolve/main/config.json");
        let m = m.at("0123456789abcdef0123456789abcdef01234567").unwrap();
        assert_eq!(
            t.artifact(&m, "model.safetensors").url,
            "https://huggingface.co/gpt2/resolve/0123456789abcdef0123456789abcdef01234567/model.safetensors"
        );
        let m: ModelRef = "o/n@refs/pr/3".parse().unwrap();
        assert_eq!(t.artifact(&m, "config.json").url, "https://huggingface.co/o/n/resolve/refs%2Fpr%2F3/config.json");
        assert_eq!(t.revision_of(&m), "refs/pr/3");
    }

    #[test]
    fn rejects_bad_templates() {
        let mut t = table();
        t.url = "https://huggingface.co/{id}/resolve/main/{file}".into();
        assert!(t.validate().unwrap_err().contains("{revision}"));
        let mut t = table();
        t.one_of.push(vec!["../etc/passwd".into()]);
        assert!(t.validate().is_err());
    }
}
