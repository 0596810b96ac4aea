//! `hub.lock`: what every spec resolved to and what every artifact hashed to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cache::write_atomic;
use crate::error::{Error, Result};

/// Lockfile format version.
pub const LOCK_VERSION: u32 = 1;

/// The contents of `hub.lock`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lockfile {
    /// Format version.
    pub version: u32,
    /// Repo specs (as written by the user) → what they resolved to.
    #[serde(default)]
    pub repos: BTreeMap<String, LockedRepo>,
    /// Artifact URLs → their content.
    #[serde(default)]
    pub artifacts: BTreeMap<String, LockedArtifact>,
}

/// A resolved repo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedRepo {
    /// The commit (GitHub), or `builtin`/`local`/`url` for other sources.
    pub commit: String,
    /// sha256 of the manifest text that was used.
    pub manifest_sha256: String,
}

/// A fetched artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedArtifact {
    /// sha256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

impl Lockfile {
    /// An empty lockfile.
    pub fn new() -> Self {
        Lockfile { version: LOCK_VERSION, ..Default::default() }
    }

    /// Reads `path`; a missing file is an empty lockfile.
    pub fn load(path: &Path) -> Result<Self> {
        let src = match std::fs::read_to_string(path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lockfile::new()),
            Err(e) => return Err(Error::io("reading", path, e)),
        };
        let lock: Lockfile =
            toml::from_str(&src).map_err(|e| Error::Lockfile { path: path.to_path_buf(), message: e.message().to_owned() })?;
        if lock.version != LOCK_VERSION {
            return Err(Error::Lockfile {
                path: path.to_path_buf(),
                message: format!("version {} is not supported (this hub writes version {LOCK_VERSION})", lock.version),
            });
        }
        Ok(lock)
    }

    /// Writes the lockfile atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string_pretty(self).map_err(|e| Error::Lockfile { path: path.to_path_buf(), message: e.to_string() })?;
        let text = format!("# Written by hub. Records what each repo spec and artifact resolved to.\n{text}");
        write_atomic(path, text.as_bytes())
    }
}

/// A lockfile in use: records changes, or, when `locked`, refuses them.
#[derive(Debug)]
pub struct LockState {
    path: PathBuf,
    locked: bool,
    lock: Lockfile,
    dirty: bool,
}

impl LockState {
    /// Loads the lockfile at `path` (missing means empty).
    pub fn open(path: PathBuf, locked: bool) -> Result<Self> {
        let lock = Lockfile::load(&path)?;
        if locked && !path.exists() {
            return Err(Error::Locked { lockfile: path, message: "--locked was given but there is no lockfile".into() });
        }
        Ok(LockState { path, locked, lock, dirty: false })
    }

    /// The lockfile contents.
    pub fn lockfile(&self) -> &Lockfile {
        &self.lock
    }

    /// The commit a spec is locked to, if any.
    pub fn repo(&self, spec: &str) -> Option<&LockedRepo> {
        self.lock.repos.get(spec)
    }

    /// The content an artifact URL is locked to, if any.
    pub fn artifact(&self, url: &str) -> Option<&LockedArtifact> {
        self.lock.artifacts.get(url)
    }

    /// Records a repo resolution; when locked, it must equal the recorded one.
    pub fn record_repo(&mut self, spec: &str, repo: LockedRepo) -> Result<()> {
        let short = |r: &LockedRepo| r.manifest_sha256[..12.min(r.manifest_sha256.len())].to_owned();
        let conflict = |old: &LockedRepo, new: &LockedRepo| {
            format!("{spec} resolves to {} (manifest {}), but is locked to {} (manifest {})", new.commit, short(new), old.commit, short(old))
        };
        self.record(|lock| &mut lock.repos, spec, repo, conflict)
    }

    /// Records an artifact; when locked, it must equal the recorded one.
    pub fn record_artifact(&mut self, url: &str, artifact: LockedArtifact) -> Result<()> {
        let conflict = |old: &LockedArtifact, new: &LockedArtifact| {
            format!("{url} has sha256 {} ({} bytes) but is locked to {} ({} bytes)", new.sha256, new.size, old.sha256, old.size)
        };
        self.record(|lock| &mut lock.artifacts, url, artifact, conflict)
    }

    /// Records `value` under `key` of the lockfile's table `table`; when locked, a value that is
    /// absent or differs from the recorded one is an error (`conflict(old, new)` says how).
    fn record<T: PartialEq>(
        &mut self,
        table: fn(&mut Lockfile) -> &mut BTreeMap<String, T>,
        key: &str,
        value: T,
        conflict: impl FnOnce(&T, &T) -> String,
    ) -> Result<()> {
        let entries = table(&mut self.lock);
        match entries.get(key) {
            Some(old) if *old == value => Ok(()),
            old if self.locked => Err(Error::Locked {
                lockfile: self.path.clone(),
                message: match old {
                    Some(old) => conflict(old, &value),
                    None => format!("{key} is not in the lockfile"),
                },
            }),
            _ => {
                entries.insert(key.to_owned(), value);
                self.dirty = true;
                Ok(())
            }
        }
    }

    /// When locked, errors unless `url` is in the lockfile.
    pub fn require_artifact(&self, url: &str) -> Result<Option<&LockedArtifact>> {
        match self.lock.artifacts.get(url) {
            None if self.locked => Err(Error::Locked { lockfile: self.path.clone(), message: format!("{url} is not in the lockfile") }),
            found => Ok(found),
        }
    }

    /// Writes the lockfile if anything changed.
    pub fn save(&mut self) -> Result<()> {
        if self.dirty && !self.locked {
            self.lock.save(&self.path)?;
            self.dirty = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_saves_and_enforces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.lock");
        let repo = LockedRepo { commit: "abc".into(), manifest_sha256: "0".repeat(64) };
        let art = LockedArtifact { sha256: "1".repeat(64), size: 3 };
        let mut s = LockState::open(path.clone(), false).unwrap();
        s.record_repo("a/b", repo.clone()).unwrap();
        s.record_artifact("https://x/y", art.clone()).unwrap();
        s.save().unwrap();
        let mut s = LockState::open(path.clone(), true).unwrap();
        assert_eq!(s.repo("a/b"), Some(&repo));
        s.record_repo("a/b", repo.clone()).unwrap();
        let e = s.record_repo("a/b", LockedRepo { commit: "def".into(), ..repo }).unwrap_err().to_string();
        assert!(e.contains("locked to abc") && e.contains("hub.lock"), "{e}");
        let e = s.record_artifact("https://x/z", art).unwrap_err().to_string();
        assert!(e.contains("not in the lockfile"), "{e}");
        assert!(s.require_artifact("https://x/y").unwrap().is_some());
        assert!(s.require_artifact("https://x/q").is_err());
    }

    #[test]
    fn locked_without_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(LockState::open(dir.path().join("hub.lock"), true).is_err());
        std::fs::write(dir.path().join("bad.lock"), "version = 9\n").unwrap();
        let e = Lockfile::load(&dir.path().join("bad.lock")).unwrap_err().to_string();
        assert!(e.contains("version 9"), "{e}");
    }
}
