//! The on-disk cache: pure file-system logic, no network (see `docs/cache.md`).
//!
//! ```text
//! $HUB_HOME/
//!   config.toml                         optional settings (mirrors, offline, timeouts)
//!   artifacts/<sha256>/<file name>      verified files, keyed by content, with their published name
//!   urls/<key>.json                     what a URL resolved to: {url, sha256, size, file}
//!   repos/<owner>_<repo>/<commit>/      extracted repo snapshots, keyed by resolved commit
//!   refs/<owner>_<repo>/<ref>           the commit a branch or tag resolved to (remembered)
//!   manifests/<key>.toml                manifests fetched from base URLs
//!   locks/<key>.lock                    cross-process locks (empty files, locked with flock)
//!   tmp/<key>.partial                   downloads in progress; never read as artifacts
//! ```
//!
//! A file appears under `artifacts/` only by an atomic rename after its hash was checked, so a
//! crash or a kill never leaves a partial file where a reader would take it for complete.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::artifact::{Artifact, ExpectedHash};
use crate::error::{Error, Result};
use crate::hash::{sha256_bytes, sha256_file};
use crate::spec::sanitize;

/// The cache rooted at a directory. Cheap to clone; holds no open files.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// What a URL resolved to, as recorded in `urls/<key>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlRecord {
    /// The canonical URL.
    pub url: String,
    /// sha256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// The file name under `artifacts/<sha256>/`.
    pub file: String,
}

/// A file in `artifacts/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedArtifact {
    /// Its path.
    pub path: PathBuf,
    /// Its sha256 (as recorded by its directory name).
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// The outcome of re-hashing a cached file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The content matches the hash it is stored under.
    Ok(CachedArtifact),
    /// The content does not match: `actual` is its real sha256.
    Corrupt {
        /// The file.
        artifact: CachedArtifact,
        /// Its real sha256.
        actual: String,
    },
}

impl Cache {
    /// A cache at `root` (created lazily).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Cache { root: root.into() }
    }

    /// The cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A stable short key for a string (used for URL records, locks and partial files).
    pub fn key(s: &str) -> String {
        sha256_bytes(s.as_bytes())[..32].to_owned()
    }

    /// Where a verified artifact with this content and name lives.
    pub fn artifact_path(&self, sha256: &str, file_name: &str) -> PathBuf {
        self.root.join("artifacts").join(sha256).join(sanitize(file_name))
    }

    /// The partial file of an in-progress download of `url` (guarded by the lock of `url`).
    pub fn partial_path(&self, url: &str) -> PathBuf {
        self.root.join("tmp").join(format!("{}.partial", Cache::key(url)))
    }

    /// A temporary file guarded by the lock of `lock_what` (see [`Cache::lock_path`]):
    /// `tmp/<key>.<tag>.partial`. `cache gc` removes it only while that lock is free.
    pub fn temp_path(&self, lock_what: &str, tag: &str) -> PathBuf {
        self.root.join("tmp").join(format!("{}.{}.partial", Cache::key(lock_what), sanitize(tag)))
    }

    /// A fresh staging directory for extracting a repo, guarded by the lock of `lock_what`:
    /// `repos/.staging/<key>.<unique>`. `cache gc` removes it only while that lock is free.
    pub fn staging_dir(&self, lock_what: &str) -> PathBuf {
        self.root.join("repos").join(".staging").join(format!("{}.{}", Cache::key(lock_what), unique()))
    }

    /// The lock file guarding `what` (a URL or a repo).
    pub fn lock_path(&self, what: &str) -> PathBuf {
        self.root.join("locks").join(format!("{}.lock", Cache::key(what)))
    }

    fn url_record_path(&self, url: &str) -> PathBuf {
        self.root.join("urls").join(format!("{}.json", Cache::key(url)))
    }

    /// The record of what `url` resolved to, if any.
    pub fn url_record(&self, url: &str) -> Option<UrlRecord> {
        let bytes = fs::read(self.url_record_path(url)).ok()?;
        serde_json::from_slice::<UrlRecord>(&bytes).ok().filter(|r| r.url == url)
    }

    /// Finds a cached file for `artifact` without touching the network or re-hashing:
    /// by its full sha256 when known, else by what its URL resolved to last time (which must
    /// still satisfy the file name's hash prefix). The size must match the record.
    pub fn lookup(&self, artifact: &Artifact) -> Option<CachedArtifact> {
        let expected = artifact.expected_hash();
        let record = self.url_record(&artifact.url);
        let sha256 = match (&expected, &record) {
            (ExpectedHash::Full(h), _) => h.clone(),
            (_, Some(r)) if expected.matches(&r.sha256) => r.sha256.clone(),
            _ => return None,
        };
        let dir = self.root.join("artifacts").join(&sha256);
        let preferred = dir.join(sanitize(artifact.file_name()));
        let path = if preferred.is_file() {
            preferred
        } else {
            // The same content published under another name.
            fs::read_dir(&dir).ok()?.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| p.is_file())?
        };
        let size = fs::metadata(&path).ok()?.len();
        if artifact.size.is_some_and(|s| s != size) || record.as_ref().is_some_and(|r| r.sha256 == sha256 && r.size != size) {
            return None;
        }
        Some(CachedArtifact { path, sha256, size })
    }

    /// Moves a verified file into `artifacts/` (atomically, replacing any older copy) and records
    /// that `url` resolved to it.
    pub fn insert(&self, verified: &Path, sha256: &str, url: &str, file_name: &str) -> Result<CachedArtifact> {
        let dest = self.artifact_path(sha256, file_name);
        let dir = dest.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        fs::rename(verified, &dest).map_err(|e| Error::io("moving a verified download to", &dest, e))?;
        let size = fs::metadata(&dest).map_err(|e| Error::io("reading", &dest, e))?.len();
        self.record_url(url, sha256, size, &dest)?;
        Ok(CachedArtifact { path: dest, sha256: sha256.to_owned(), size })
    }

    /// Records that `url` resolved to the artifact at `path`.
    pub fn record_url(&self, url: &str, sha256: &str, size: u64, path: &Path) -> Result<()> {
        let record = UrlRecord {
            url: url.to_owned(),
            sha256: sha256.to_owned(),
            size,
            file: path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        };
        let json = serde_json::to_vec_pretty(&record).unwrap_or_default();
        write_atomic(&self.url_record_path(url), &json)
    }

    /// Every file under `artifacts/`, sorted by path.
    pub fn artifacts(&self) -> Result<Vec<CachedArtifact>> {
        let base = self.root.join("artifacts");
        let mut out = Vec::new();
        let dirs = match fs::read_dir(&base) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::io("listing", base, e)),
        };
        for dir in dirs.filter_map(|e| e.ok()) {
            let sha256 = dir.file_name().to_string_lossy().into_owned();
            let Ok(files) = fs::read_dir(dir.path()) else { continue };
            for f in files.filter_map(|e| e.ok()) {
                let path = f.path();
                if let Ok(meta) = fs::metadata(&path) {
                    if meta.is_file() {
                        out.push(CachedArtifact { path, sha256: sha256.clone(), size: meta.len() });
                    }
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Re-hashes every artifact.
    pub fn verify(&self) -> Result<Vec<Verified>> {
        self.artifacts()?
            .into_iter()
            .map(|a| {
                let actual = sha256_file(&a.path)?;
                Ok(if actual == a.sha256 { Verified::Ok(a) } else { Verified::Corrupt { artifact: a, actual } })
            })
            .collect()
    }

    /// Removes one artifact file (and its directory when empty).
    pub fn remove(&self, artifact: &CachedArtifact) -> Result<()> {
        fs::remove_file(&artifact.path).map_err(|e| Error::io("removing", &artifact.path, e))?;
        if let Some(dir) = artifact.path.parent() {
            let _ = fs::remove_dir(dir); // only succeeds when empty
        }
        Ok(())
    }

    /// What interrupted work left behind: partial downloads in `tmp/`, staging directories of
    /// extractions in `repos/.staging/`, and temporary files of atomic writes. `in_use` tells
    /// those whose lock is held (a download or extraction in progress elsewhere).
    pub fn leftovers(&self) -> Result<Vec<Leftover>> {
        let mut out = Vec::new();
        for (dir, kind) in [(self.root.join("tmp"), LeftoverKind::Partial), (self.root.join("repos").join(".staging"), LeftoverKind::Staging)] {
            let Ok(entries) = fs::read_dir(&dir) else { continue };
            for e in entries.filter_map(|e| e.ok()) {
                let path = e.path();
                let in_use = match self.guarding_lock(&path) {
                    Some(lock) => crate::lock::FileLock::try_acquire(&lock)?.is_none(),
                    None => false,
                };
                out.push(Leftover { size: tree_size(&path), path, kind, in_use });
            }
        }
        let mut dirs = vec![self.root.join("urls"), self.root.join("manifests")];
        if let Ok(refs) = fs::read_dir(self.root.join("refs")) {
            dirs.extend(refs.filter_map(|e| e.ok()).map(|e| e.path()));
        }
        for dir in dirs {
            let Ok(entries) = fs::read_dir(&dir) else { continue };
            for e in entries.filter_map(|e| e.ok()) {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && name.ends_with(".tmp") {
                    let path = e.path();
                    // An atomic write takes milliseconds: a young one may be in progress.
                    let young = e.metadata().ok().and_then(|m| m.modified().ok()).and_then(|t| t.elapsed().ok()).is_none_or(|age| age < TEMP_GRACE);
                    out.push(Leftover { size: tree_size(&path), path, kind: LeftoverKind::Temp, in_use: young });
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// The lock guarding a file in `tmp/` or `repos/.staging/`, from the key its name starts
    /// with (`<32 hex>.…`); `None` for names that are not hub's.
    fn guarding_lock(&self, path: &Path) -> Option<PathBuf> {
        let name = path.file_name()?.to_str()?;
        let key = name.split('.').next()?;
        (key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit())).then(|| self.root.join("locks").join(format!("{key}.lock")))
    }

    /// Removes what interrupted work left behind ([`Cache::leftovers`] not in use) and URL
    /// records that point at nothing. Returns the number of bytes freed. Partial files and
    /// staging directories of work in progress elsewhere are skipped (their lock is held).
    pub fn gc(&self) -> Result<u64> {
        let mut freed = 0;
        for l in self.leftovers()? {
            if l.in_use {
                continue;
            }
            // Hold the lock while removing, so that no download or extraction starts meanwhile.
            let _guard = match self.guarding_lock(&l.path) {
                Some(lock) => match crate::lock::FileLock::try_acquire(&lock)? {
                    Some(g) => Some(g),
                    None => continue,
                },
                None => None,
            };
            let removed = if l.path.is_dir() { fs::remove_dir_all(&l.path) } else { fs::remove_file(&l.path) };
            if removed.is_ok() {
                freed += l.size;
            }
        }
        if let Ok(entries) = fs::read_dir(self.root.join("urls")) {
            for e in entries.filter_map(|e| e.ok()) {
                if e.path().extension().is_none_or(|x| x != "json") {
                    continue;
                }
                let keep = fs::read(e.path())
                    .ok()
                    .and_then(|b| serde_json::from_slice::<UrlRecord>(&b).ok())
                    .is_some_and(|r| self.root.join("artifacts").join(&r.sha256).join(&r.file).is_file());
                if !keep {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        Ok(freed)
    }

    /// The directory of a repo snapshot at a commit.
    pub fn repo_dir(&self, repo_key: &str, commit: &str) -> PathBuf {
        self.root.join("repos").join(sanitize(repo_key)).join(sanitize(commit))
    }

    /// The commit a ref of a repo resolved to earlier, if remembered and still extracted.
    pub fn resolved_ref(&self, repo_key: &str, reference: &str) -> Option<String> {
        let commit = fs::read_to_string(self.ref_path(repo_key, reference)).ok()?;
        let commit = commit.trim().to_owned();
        self.repo_dir(repo_key, &commit).is_dir().then_some(commit)
    }

    /// Remembers that a ref of a repo resolved to `commit`.
    pub fn record_ref(&self, repo_key: &str, reference: &str, commit: &str) -> Result<()> {
        write_atomic(&self.ref_path(repo_key, reference), commit.as_bytes())
    }

    fn ref_path(&self, repo_key: &str, reference: &str) -> PathBuf {
        self.root.join("refs").join(sanitize(repo_key)).join(sanitize(reference))
    }
}

/// How old a temporary file of an atomic write must be before `cache gc` removes it.
const TEMP_GRACE: std::time::Duration = std::time::Duration::from_secs(600);

/// What interrupted work left in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// The file or directory.
    pub path: PathBuf,
    /// Its size in bytes (a directory: its files).
    pub size: u64,
    /// What it is.
    pub kind: LeftoverKind,
    /// Whether work in progress still owns it (`cache gc` keeps it).
    pub in_use: bool,
}

/// The kinds of [`Leftover`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeftoverKind {
    /// A partial download in `tmp/`.
    Partial,
    /// A staging directory of a repo extraction in `repos/.staging/`.
    Staging,
    /// A temporary file of an atomic write (`.NAME.….tmp`).
    Temp,
}

/// The bytes of the files under `path` (symbolic links are not followed).
fn tree_size(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else { return 0 };
    if !meta.is_dir() {
        return meta.len();
    }
    fs::read_dir(path).map(|d| d.filter_map(|e| e.ok()).map(|e| tree_size(&e.path())).sum()).unwrap_or(0)
}

/// Copies `from` into a new file `to` (with the mode of new files, not `from`'s).
pub(crate) fn copy_new(from: &Path, to: &Path) -> Result<u64> {
    let mut src = fs::File::open(from).map_err(|e| Error::io("opening", from, e))?;
    let _ = fs::remove_file(to);
    let mut dst = fs::File::create(to).map_err(|e| Error::io("creating", to, e))?;
    let n = std::io::copy(&mut src, &mut dst).map_err(|e| Error::io("copying", from, e))?;
    dst.sync_all().map_err(|e| Error::io("syncing", to, e))?;
    Ok(n)
}

/// Writes `bytes` to `path` through a temporary file and a rename, creating parent directories.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let tmp = dir.join(format!(".{}.{}.tmp", path.file_name().map(|f| f.to_string_lossy()).unwrap_or_default(), unique()));
    fs::write(&tmp, bytes).map_err(|e| Error::io("writing", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io("renaming into", path, e)
    })
}

/// A string unique to this process and call.
pub(crate) fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed), nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_then_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let content = b"weights";
        let sha = sha256_bytes(content);
        let url = format!("https://x/models/net-{}.pth", &sha[..8]);
        let a = Artifact::new(&url);
        assert_eq!(cache.lookup(&a), None);
        let tmp = dir.path().join("dl");
        fs::write(&tmp, content).unwrap();
        let c = cache.insert(&tmp, &sha, &url, a.file_name()).unwrap();
        assert!(!tmp.exists());
        assert_eq!(cache.lookup(&a), Some(c.clone()));
        // By full hash, even under another URL and name.
        let other = Artifact::new("https://mirror/other.bin").with_sha256(&sha);
        assert_eq!(cache.lookup(&other).unwrap().path, c.path);
        // A contradicting size is a miss.
        assert_eq!(cache.lookup(&Artifact::new(&url).with_size(3)), None);
        assert!(matches!(cache.verify().unwrap()[0], Verified::Ok(_)));
        fs::write(&c.path, b"corrupted").unwrap();
        assert!(matches!(cache.verify().unwrap()[0], Verified::Corrupt { .. }));
        // A record whose size no longer matches is a miss, not a corrupt hit.
        assert_eq!(cache.lookup(&a), None);
        cache.remove(&c).unwrap();
        assert!(cache.artifacts().unwrap().is_empty());
    }

    #[test]
    fn refs_are_remembered_only_while_extracted() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        cache.record_ref("a/b", "main", "abc").unwrap();
        assert_eq!(cache.resolved_ref("a/b", "main"), None);
        fs::create_dir_all(cache.repo_dir("a/b", "abc")).unwrap();
        assert_eq!(cache.resolved_ref("a/b", "main").as_deref(), Some("abc"));
    }
}
