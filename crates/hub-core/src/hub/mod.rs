//! [`Hub`]: resolves repo specs to manifests and artifacts to verified files in the cache.
//!
//! This file holds the hub and what its two jobs share (the lockfile, mirror candidates,
//! cross-process locks, the offline error); `repos.rs` resolves repo specs to manifests and
//! `fetch.rs` fetches files. Both extend [`Hub`] from below; nothing here uses them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::cache::Cache;
use crate::download::Downloader;
use crate::error::{Error, Result};
use crate::lock::FileLock;
use crate::lockfile::LockState;
use crate::manifest::Manifest;
use crate::options::HubOptions;
use crate::spec::RepoSpec;

pub(crate) mod fetch;
pub(crate) mod repos;

/// A built-in manifest and the spec it answers for.
struct Builtin {
    spec: RepoSpec,
    manifest: Manifest,
}

/// The hub: cache, network, mirrors, offline mode, lockfile and built-in manifests.
///
/// ```no_run
/// use hub_core::{Hub, RepoSpec};
/// let hub = Hub::from_env()?;
/// let repo = hub.repo(&"owner/models:v1.0".parse::<RepoSpec>()?)?;
/// let (_, entry) = repo.manifest.entry("resnet50")?;
/// if let Some((_, weights)) = entry.weights("resnet50", None)? {
///     let path = hub.fetch(&weights.artifact)?; // verified file in the cache
///     println!("{}", path.display());
/// }
/// # Ok::<(), hub_core::Error>(())
/// ```
pub struct Hub {
    options: HubOptions,
    cache: Cache,
    downloader: Downloader,
    builtins: BTreeMap<String, Builtin>,
    lock: Mutex<Option<LockState>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("options", &self.options).field("builtins", &self.builtins.keys().collect::<Vec<_>>()).finish()
    }
}

impl Hub {
    /// A hub with these options.
    pub fn new(options: HubOptions) -> Result<Hub> {
        options.validate("HubOptions")?;
        let lock = match &options.lockfile {
            Some(path) => Some(LockState::open(path.clone(), options.locked)?),
            None if options.locked => {
                return Err(Error::Locked { lockfile: PathBuf::from("hub.lock"), message: "--locked needs a lockfile".into() })
            }
            None => None,
        };
        Ok(Hub {
            cache: Cache::new(&options.root),
            downloader: Downloader::new(&options),
            options,
            builtins: BTreeMap::new(),
            lock: Mutex::new(lock),
        })
    }

    /// A hub configured from the environment (`HUB_HOME`, `HUB_OFFLINE`, `HUB_MIRRORS`, config file).
    pub fn from_env() -> Result<Hub> {
        Hub::new(HubOptions::from_env()?)
    }

    /// The options in use.
    pub fn options(&self) -> &HubOptions {
        &self.options
    }

    /// The cache.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    fn with_lock<T: Default>(&self, f: impl FnOnce(&mut LockState) -> Result<T>) -> Result<T> {
        let mut guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_mut() {
            Some(l) => {
                let out = f(l)?;
                l.save()?;
                Ok(out)
            }
            None => Ok(T::default()),
        }
    }

    /// The URLs to try for `url` and its extra mirrors, rewritten by the mirror rules; offline,
    /// only `file://` ones.
    fn candidates(&self, url: &str, extra: &[String]) -> Vec<String> {
        let mut all: Vec<String> = std::iter::once(url).chain(extra.iter().map(String::as_str)).flat_map(|u| self.options.mirrors.candidates(u)).collect();
        let mut seen = std::collections::HashSet::new();
        all.retain(|u| seen.insert(u.clone()));
        if self.options.offline {
            all.retain(|u| u.starts_with("file://"));
        }
        all
    }

    /// GETs an input the user named by URL (`hub run --image https://…`) into memory, through the
    /// mirror rules: at most [`Limits::max_input_bytes`](crate::Limits::max_input_bytes) (else
    /// [`Error::TooLarge`], never a shortened file).
    /// Inputs are not cached; offline, only a `file://` URL (or a mirror rewriting to one) is read,
    /// anything else is an [`Error::Offline`].
    pub fn get_input(&self, url: &str) -> Result<Vec<u8>> {
        let candidates = self.candidates(url, &[]);
        if candidates.is_empty() {
            return Err(self.offline_error(url, "download it yourself and give the file's path, or run without --offline"));
        }
        let mut errors = Vec::new();
        for c in candidates {
            match self.downloader.get_bytes(&c, self.options.limits.max_input_bytes, "max_input_mb") {
                Ok(bytes) => return Ok(bytes),
                Err(e) => errors.push(e),
            }
        }
        Err(most_relevant(errors))
    }

    /// Takes the cross-process lock guarding `what`, waiting at most the lock timeout.
    fn lock(&self, what: &str) -> Result<FileLock> {
        FileLock::acquire(&self.cache.lock_path(what), self.options.limits.lock_timeout, self.options.progress.as_ref())
    }

    fn offline_error(&self, what: &str, hint: &str) -> Error {
        Error::Offline { what: what.to_owned(), cache: self.cache.root().to_path_buf(), hint: hint.to_owned() }
    }
}

/// Of the failures of several candidate URLs, the one to report: an integrity failure first (it
/// is the one to act on), then an HTTP answer (a mirror said "not found"), else the first.
fn most_relevant(mut errors: Vec<Error>) -> Error {
    let rank = |e: &Error| match e {
        Error::HashMismatch { .. } | Error::SizeMismatch { .. } => 0,
        Error::HttpStatus { .. } => 1,
        _ => 2,
    };
    let best = (0..errors.len()).min_by_key(|&i| rank(&errors[i])).expect("at least one candidate was tried");
    errors.swap_remove(best)
}
