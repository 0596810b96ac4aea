//! Artifacts to verified local files: from the cache (no network), from a torch.hub cache by
//! hash, or downloaded (mirrors first) under a cross-process lock, as the lockfile pins them.

use std::fs;
use std::path::PathBuf;

use super::{most_relevant, Hub};
use crate::artifact::{Artifact, ExpectedHash};
use crate::cache::copy_new;
use crate::error::{Error, Result};
use crate::hash::sha256_file;
use crate::lockfile::LockedArtifact;

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
}
