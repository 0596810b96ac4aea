//! Artifacts to verified local files: from the cache (no network), from a torch.hub cache by
//! hash, or downloaded (mirrors first) under a cross-process lock, as the lockfile pins them;
//! and the files of a [`WeightsChoice`] (a model id's files found by probing its template).

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use super::{most_relevant, Hub};
use crate::artifact::{Artifact, ExpectedHash};
use crate::cache::copy_new;
use crate::choice::WeightsChoice;
use crate::error::{Error, Result};
use crate::hash::sha256_file;
use crate::lockfile::LockedArtifact;
use crate::manifest::WeightFormat;

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
    /// Returns a verified local file for `artifact`: from the cache (no network), from a torch.hub
    /// cache by hash, or downloaded (mirrors first) under a cross-process lock.
    pub fn fetch(&self, artifact: &Artifact) -> Result<PathBuf> {
        let artifact = self.apply_lock(artifact)?;
        let expected = artifact.expected_hash();
        if !self.options.force_reload {
            if let Some(hit) = self.cache.lookup(&artifact) {
                self.record_artifact(&artifact.url, &hit.sha256, hit.size)?;
                return Ok(hit.path);
            }
            if let Some(path) = self.reuse_torch_cache(&artifact, &expected)? {
                return Ok(path);
            }
        }
        let candidates = self.candidates(&artifact.url, &artifact.mirrors);
        if candidates.is_empty() {
            return Err(self.offline_error(&artifact.url, "fetch it once with network access (`hub download REPO ENTRY`), or add a file:// mirror"));
        }
        let _guard = self.lock(&artifact.url)?;
        if !self.options.force_reload {
            // Another process may have finished it while we waited for the lock.
            if let Some(hit) = self.cache.lookup(&artifact) {
                self.record_artifact(&artifact.url, &hit.sha256, hit.size)?;
                return Ok(hit.path);
            }
        }
        let partial = self.cache.partial_path(&artifact.url);
        let mut errors = Vec::new();
        for c in &candidates {
            match self.downloader.download(c, &partial, &expected, artifact.size) {
                Ok(d) => {
                    let hit = self.cache.insert(&partial, &d.sha256, &artifact.url, artifact.file_name())?;
                    self.record_artifact(&artifact.url, &d.sha256, d.size)?;
                    return Ok(hit.path);
                }
                Err(e) => errors.push(e),
            }
        }
        Err(most_relevant(errors))
    }

    /// Whether `artifact` is in the cache (no network, no hashing).
    pub fn is_cached(&self, artifact: &Artifact) -> bool {
        self.apply_lock(artifact).ok().and_then(|a| self.cache.lookup(&a)).is_some()
    }

    fn reuse_torch_cache(&self, artifact: &Artifact, expected: &ExpectedHash) -> Result<Option<PathBuf>> {
        let Some(dir) = &self.options.torch_checkpoints else { return Ok(None) };
        let candidate = dir.join(artifact.file_name());
        if matches!(expected, ExpectedHash::None) || !candidate.is_file() {
            return Ok(None);
        }
        let sha256 = sha256_file(&candidate)?;
        if !expected.matches(&sha256) {
            return Ok(None);
        }
        if artifact.size.is_some_and(|s| fs::metadata(&candidate).map(|m| m.len()).ok() != Some(s)) {
            return Ok(None);
        }
        let _guard = self.lock(&artifact.url)?;
        let tmp = self.cache.temp_path(&artifact.url, "torch");
        if let Some(parent) = tmp.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
        }
        // A new file with the usual mode, not a copy of the source's permissions.
        copy_new(&candidate, &tmp)?;
        if sha256_file(&tmp)? != sha256 {
            let _ = fs::remove_file(&tmp);
            return Ok(None);
        }
        let hit = self.cache.insert(&tmp, &sha256, &artifact.url, artifact.file_name())?;
        self.record_artifact(&artifact.url, &sha256, hit.size)?;
        Ok(Some(hit.path))
    }

    /// The artifact as the lockfile pins it (full hash and size), or an error when locked and
    /// the lockfile disagrees or lacks it.
    fn apply_lock(&self, artifact: &Artifact) -> Result<Artifact> {
        let locked = self.with_lock(|l| Ok(l.require_artifact(&artifact.url)?.cloned()))?;
        let mut a = artifact.clone();
        if let Some(locked) = locked {
            if let Some(h) = &a.sha256 {
                if !h.eq_ignore_ascii_case(&locked.sha256) && self.options.locked {
                    return Err(Error::Locked {
                        lockfile: self.options.lockfile.clone().unwrap_or_default(),
                        message: format!("{} has sha256 {h} in the manifest but {} in the lockfile", a.url, locked.sha256),
                    });
                }
            }
            if self.options.locked || a.sha256.is_none() {
                a.sha256 = Some(locked.sha256);
                a.size = Some(locked.size);
            }
        }
        Ok(a)
    }

    fn record_artifact(&self, url: &str, sha256: &str, size: u64) -> Result<()> {
        self.with_lock(|l| {
            l.record_artifact(url, LockedArtifact { sha256: sha256.to_owned(), size })?;
            l.save()
        })
    }

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
