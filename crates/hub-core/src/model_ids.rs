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

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::artifact::Artifact;
use crate::manifest::{Entrypoint, WeightFormat, Weights};
use crate::Hub;

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

/// What a weights name of an entrypoint stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightsChoice<'a> {
    /// Weights the manifest lists (with their URLs and hashes).
    Listed(&'a str, &'a Weights),
    /// A model id resolved through the entrypoint's [`ModelIds`] template.
    Model(&'a ModelIds, ModelRef),
}

impl WeightsChoice<'_> {
    /// The name to show: the listed name, or `id@revision`.
    pub fn display_name(&self) -> String {
        match self {
            WeightsChoice::Listed(name, _) => (*name).to_owned(),
            WeightsChoice::Model(ids, m) => format!("{}@{}", m.id, ids.revision_of(m)),
        }
    }

    /// The listed weights' manifest entry, if any.
    pub fn listed(&self) -> Option<&Weights> {
        match self {
            WeightsChoice::Listed(_, w) => Some(w),
            WeightsChoice::Model(..) => None,
        }
    }
}

impl Entrypoint {
    /// Resolves a weights name and an optional revision: listed weights by name (`None` or
    /// `DEFAULT`: the default), otherwise, when the entrypoint has a [`ModelIds`] table, any
    /// model id (`owner/name[@revision]`). A revision always goes through the template, since
    /// listed URLs name one revision. `Ok(None)`: no weights published and none asked for.
    pub fn choose_weights(&self, entry: &str, name: Option<&str>, revision: Option<&str>) -> Result<Option<WeightsChoice<'_>>> {
        let name = match name {
            None | Some("DEFAULT") | Some("default") => match (&self.default_weights, self.weights.keys().next()) {
                (Some(d), _) => d.as_str(),
                (None, Some(first)) => first.as_str(),
                (None, None) if revision.is_some() => {
                    return Err(Error::UnknownWeights { entry: entry.to_owned(), weights: "DEFAULT".into(), available: "none: name a model id".into() })
                }
                (None, None) => return Ok(None),
            },
            Some(n) => n,
        };
        if revision.is_none() {
            if let Some((k, w)) = self.weights.get_key_value(name) {
                return Ok(Some(WeightsChoice::Listed(k, w)));
            }
        }
        let Some(ids) = &self.model_ids else {
            if let Some(r) = revision {
                return Err(Error::InvalidModelId {
                    input: format!("{name}@{r}"),
                    reason: format!("entrypoint {entry} publishes fixed files; a revision applies only to entrypoints that take model ids"),
                });
            }
            return self.weights(entry, Some(name)).map(|w| w.map(|(k, w)| WeightsChoice::Listed(k, w)));
        };
        let mut model: ModelRef = name.parse()?;
        if let Some(r) = revision {
            if model.revision.as_deref().is_some_and(|own| own != r) {
                return Err(Error::InvalidModelId { input: name.to_owned(), reason: format!("it names a revision and --revision {r} names another") });
            }
            model = model.at(r)?;
        }
        Ok(Some(WeightsChoice::Model(ids, model)))
    }
}

/// The local files of a [`WeightsChoice`], verified and cached.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedWeights {
    /// [`WeightsChoice::display_name`].
    pub name: String,
    /// The checkpoint (`None` when it was not asked for).
    pub checkpoint: Option<PathBuf>,
    /// The checkpoint's format.
    pub format: WeightFormat,
    /// The other files by name (`config.json`, `tokenizer.json`, …).
    pub files: BTreeMap<String, PathBuf>,
}

enum Probe {
    Found(PathBuf),
    Absent,
    OfflineMiss(Error),
}

impl Hub {
    fn probe(&self, artifact: &Artifact) -> Result<Probe> {
        match self.fetch(artifact) {
            Ok(path) => Ok(Probe::Found(path)),
            Err(Error::HttpStatus { status: 404 | 410, .. }) => Ok(Probe::Absent),
            Err(e @ Error::Offline { .. }) => Ok(Probe::OfflineMiss(e)),
            Err(e) => Err(e),
        }
    }

    /// Fetches the files of `choice`: the checkpoint when `checkpoint` is set, and every other
    /// file (listed `files`, or the template's `files` and first complete `one_of` group).
    pub fn fetch_weights(&self, choice: &WeightsChoice<'_>, checkpoint: bool) -> Result<FetchedWeights> {
        let name = choice.display_name();
        match choice {
            WeightsChoice::Listed(_, w) => {
                let mut files = BTreeMap::new();
                for (file, a) in &w.files {
                    files.insert(file.clone(), self.fetch(a)?);
                }
                let checkpoint = if checkpoint { Some(self.fetch(&w.artifact)?) } else { None };
                Ok(FetchedWeights { name, checkpoint, format: w.format, files })
            }
            WeightsChoice::Model(ids, model) => {
                let mut files = BTreeMap::new();
                for file in &ids.files {
                    files.insert(file.clone(), self.fetch(&ids.artifact(model, file))?);
                }
                let mut offline = None;
                let missing = |what: String, offline: Option<Error>| {
                    offline.unwrap_or_else(|| Error::ModelFilesMissing { model: name.clone(), files: what, url: ids.artifact(model, "").url })
                };
                if !ids.one_of.is_empty() {
                    let mut chosen = None;
                    'groups: for group in &ids.one_of {
                        let mut found = BTreeMap::new();
                        for file in group {
                            match self.probe(&ids.artifact(model, file))? {
                                Probe::Found(p) => {
                                    found.insert(file.clone(), p);
                                }
                                Probe::Absent => continue 'groups,
                                Probe::OfflineMiss(e) => {
                                    offline.get_or_insert(e);
                                    continue 'groups;
                                }
                            }
                        }
                        chosen = Some(found);
                        break;
                    }
                    let groups: Vec<String> = ids.one_of.iter().map(|g| g.join(" + ")).collect();
                    files.extend(chosen.ok_or_else(|| missing(format!("none of {}", groups.join(", or ")), offline.take()))?);
                }
                let mut found = None;
                if checkpoint {
                    for file in &ids.weights {
                        match self.probe(&ids.artifact(model, file))? {
                            Probe::Found(p) => {
                                found = Some((p, file));
                                break;
                            }
                            Probe::Absent => {}
                            Probe::OfflineMiss(e) => {
                                offline.get_or_insert(e);
                            }
                        }
                    }
                    if found.is_none() {
                        return Err(missing(format!("no checkpoint ({})", ids.weights.join(", ")), offline));
                    }
                }
                let format = match &found {
                    Some((_, f)) if f.ends_with(".safetensors") => WeightFormat::Safetensors,
                    _ => WeightFormat::Pytorch,
                };
                Ok(FetchedWeights { name, checkpoint: found.map(|(p, _)| p), format, files })
            }
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
