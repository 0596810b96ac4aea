//! Repo specs to manifests: built-in, local, under a base URL, or a GitHub snapshot (cached,
//! or downloaded as a zipball), with the rule on `file://` URLs in remote manifests.

use std::fs;
use std::path::{Path, PathBuf};

use super::{most_relevant, Builtin, Hub};
use crate::archive::extract_zip_within;
use crate::artifact::ExpectedHash;
use crate::cache::{write_atomic, Cache};
use crate::error::{Error, Result};
use crate::hash::sha256_bytes;
use crate::lockfile::LockedRepo;
use crate::manifest::{Manifest, MANIFEST_FILE};
use crate::spec::{GitRef, RepoSpec};

/// Where a resolved manifest came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RepoSource {
    /// A manifest built into this program (the seed repos).
    Builtin,
    /// A GitHub archive, extracted in the cache.
    GitHub,
    /// `hubconf.toml` under a base URL.
    Url,
    /// A local directory.
    Local,
}

/// A repo spec resolved to a manifest.
#[derive(Debug, Clone)]
pub struct ResolvedRepo {
    /// The spec as asked.
    pub spec: RepoSpec,
    /// Where the manifest came from.
    pub source: RepoSource,
    /// The commit a GitHub ref resolved to.
    pub commit: Option<String>,
    /// The repo's files on disk (GitHub snapshot or local directory).
    pub dir: Option<PathBuf>,
    /// The manifest.
    pub manifest: Manifest,
}
impl Hub {
    /// Registers a built-in manifest for a repo spec (e.g. `facebookresearch/pytorch_GAN_zoo:hub`).
    /// It answers for that repo with no network access.
    pub fn add_builtin(&mut self, spec: &str, src: &'static str) -> Result<()> {
        let parsed: RepoSpec = spec.parse()?;
        let manifest = Manifest::parse(src, &format!("built-in manifest of {spec}"))?;
        self.builtins.insert(parsed.name().to_ascii_lowercase(), Builtin { spec: parsed, manifest });
        Ok(())
    }

    /// The specs of the built-in manifests.
    pub fn builtin_specs(&self) -> Vec<&RepoSpec> {
        self.builtins.values().map(|b| &b.spec).collect()
    }

    /// The built-in manifest answering for `spec`, if any: same owner/repo (ignoring case), and
    /// either no ref or the built-in's ref.
    fn builtin_for(&self, spec: &RepoSpec) -> Option<&Builtin> {
        let RepoSpec::GitHub { .. } = spec else { return None };
        let b = self.builtins.get(&spec.name().to_ascii_lowercase())?;
        match (spec.reference(), b.spec.reference()) {
            (None, _) => Some(b),
            (Some(asked), Some(have)) if asked.as_url_ref() == have.as_url_ref() => Some(b),
            _ => None,
        }
    }

    /// Resolves a spec to its manifest: built-in, cached, or fetched (unless offline).
    pub fn repo(&self, spec: &RepoSpec) -> Result<ResolvedRepo> {
        let resolved = self.resolve(spec)?;
        let commit = resolved.commit.clone().unwrap_or_else(|| format!("{:?}", resolved.source).to_ascii_lowercase());
        let manifest_sha256 = sha256_bytes(resolved.manifest.to_toml().as_bytes());
        self.with_lock(|l| l.record_repo(&spec.to_string(), LockedRepo { commit, manifest_sha256 }))?;
        Ok(resolved)
    }

    /// [`Hub::resolve_unchecked`], then the rule on local URLs: a manifest from GitHub or an
    /// http(s) base URL may not name `file://` URLs; one from a local directory or a `file://`
    /// base URL may, and its relative `file://` URLs are resolved against its directory.
    fn resolve(&self, spec: &RepoSpec) -> Result<ResolvedRepo> {
        let mut r = self.resolve_unchecked(spec)?;
        let origin = match (&r.spec, r.dir.as_deref()) {
            (RepoSpec::Url(base), _) => base.clone(),
            (_, Some(dir)) => dir.join(MANIFEST_FILE).display().to_string(),
            _ => spec.to_string(),
        };
        match (r.source, &r.spec) {
            (RepoSource::Builtin, _) => {}
            (RepoSource::GitHub, _) => forbid_local_urls(&mut r.manifest, &origin, "a GitHub archive")?,
            (RepoSource::Url, RepoSpec::Url(base)) if !base.starts_with("file://") => {
                forbid_local_urls(&mut r.manifest, &origin, "an http(s) base URL")?
            }
            (RepoSource::Url, RepoSpec::Url(base)) => {
                let dir = crate::download::file_url_path(base)?;
                let dir = if base.ends_with(MANIFEST_FILE) { dir.parent().map(Path::to_path_buf).unwrap_or(dir) } else { dir };
                resolve_relative_file_urls(&mut r.manifest, &dir)?
            }
            (_, _) => {
                if let Some(dir) = r.dir.clone() {
                    resolve_relative_file_urls(&mut r.manifest, &dir)?
                }
            }
        }
        Ok(r)
    }

    fn resolve_unchecked(&self, spec: &RepoSpec) -> Result<ResolvedRepo> {
        if let Some(b) = self.builtin_for(spec) {
            return Ok(ResolvedRepo { spec: spec.clone(), source: RepoSource::Builtin, commit: None, dir: None, manifest: b.manifest.clone() });
        }
        match spec {
            RepoSpec::Local(dir) => {
                let dir = expand_home(dir);
                let file = dir.join(MANIFEST_FILE);
                if !file.is_file() {
                    return Err(Error::NoManifest { dir });
                }
                let manifest = Manifest::from_file_within(&file, self.options.limits.max_manifest_bytes)?;
                Ok(ResolvedRepo { spec: spec.clone(), source: RepoSource::Local, commit: None, dir: Some(dir), manifest })
            }
            RepoSpec::Url(base) => {
                let manifest = self.url_manifest(spec, base)?;
                Ok(ResolvedRepo { spec: spec.clone(), source: RepoSource::Url, commit: None, dir: None, manifest })
            }
            RepoSpec::GitHub { owner, repo, reference } => {
                let (commit, dir) = self.github_snapshot(spec, owner, repo, reference.as_ref())?;
                let file = dir.join(MANIFEST_FILE);
                if !file.is_file() {
                    // A repo that publishes only hubconf.py: fall back to our description of it.
                    if let Some(b) = self.builtins.get(&spec.name().to_ascii_lowercase()) {
                        let manifest = b.manifest.clone();
                        return Ok(ResolvedRepo { spec: spec.clone(), source: RepoSource::Builtin, commit: Some(commit), dir: Some(dir), manifest });
                    }
                    return Err(Error::NoManifest { dir });
                }
                let manifest = Manifest::from_file_within(&file, self.options.limits.max_manifest_bytes)?;
                Ok(ResolvedRepo { spec: spec.clone(), source: RepoSource::GitHub, commit: Some(commit), dir: Some(dir), manifest })
            }
        }
    }

    fn url_manifest(&self, spec: &RepoSpec, base: &str) -> Result<Manifest> {
        let url = if base.ends_with(MANIFEST_FILE) { base.to_owned() } else { format!("{}/{MANIFEST_FILE}", base.trim_end_matches('/')) };
        let cached = self.cache.root().join("manifests").join(format!("{}.toml", Cache::key(&url)));
        if self.options.force_reload || !cached.is_file() {
            let candidates = self.candidates(&url, &[]);
            if candidates.is_empty() {
                return Err(self.offline_error(&spec.to_string(), &format!("run `hub list {spec}` once with network access")));
            }
            let mut first_err = None;
            let mut fetched = None;
            for c in candidates {
                match self.downloader.get_bytes(&c, self.options.limits.max_manifest_bytes, "max_manifest_kb") {
                    Ok(b) => {
                        fetched = Some(b);
                        break;
                    }
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            match (fetched, first_err) {
                (Some(bytes), _) => {
                    let text = String::from_utf8(bytes)
                        .map_err(|e| Error::Manifest { file: url.clone(), line: 0, column: 0, message: format!("not UTF-8 text ({e})") })?;
                    Manifest::parse(&text, &url)?; // never cache a manifest that does not parse
                    write_atomic(&cached, text.as_bytes())?;
                }
                (None, Some(e)) => return Err(e),
                (None, None) => unreachable!("at least one candidate was tried"),
            }
        }
        let text = Manifest::read_source(&cached, self.options.limits.max_manifest_bytes)?;
        Manifest::parse(&text, &url)
    }

    /// The extracted snapshot of a GitHub repo at a ref: from the cache when the ref was resolved
    /// before (no network), else downloaded as a zipball (no GitHub API call, so no rate limit).
    fn github_snapshot(&self, spec: &RepoSpec, owner: &str, repo: &str, reference: Option<&GitRef>) -> Result<(String, PathBuf)> {
        let key = format!("{owner}/{repo}");
        let locked_commit = self.with_lock(|l| Ok(l.repo(&spec.to_string()).map(|r| r.commit.clone())))?;
        let pinned = match reference {
            Some(GitRef::Commit(c)) => Some(c.clone()),
            _ => locked_commit,
        };
        if let Some(c) = &pinned {
            let dir = self.cache.repo_dir(&key, c);
            if dir.is_dir() && !self.options.force_reload {
                return Ok((c.clone(), dir));
            }
        }
        let ref_name = reference.map(|r| r.as_url_ref().to_owned()).unwrap_or_else(|| "HEAD".to_owned());
        if pinned.is_none() && !self.options.force_reload {
            if let Some(c) = self.cache.resolved_ref(&key, &ref_name) {
                let dir = self.cache.repo_dir(&key, &c);
                return Ok((c, dir));
            }
        }
        // Fetch. torch.hub's default-branch rule: `main`, else `master`.
        let refs: Vec<String> = match (&pinned, reference) {
            (Some(c), _) => vec![c.clone()],
            (None, Some(r)) => vec![r.as_url_ref().to_owned()],
            (None, None) => vec!["main".to_owned(), "master".to_owned()],
        };
        let lock_what = format!("repo:{key}");
        let _guard = self.lock(&lock_what)?;
        let mut last_err = None;
        for r in &refs {
            let url = format!("https://github.com/{owner}/{repo}/zipball/{r}");
            let candidates = self.candidates(&url, &[]);
            if candidates.is_empty() {
                return Err(self.offline_error(&spec.to_string(), &format!("run `hub list {spec}` once with network access")));
            }
            // Named after the repo lock, so that `cache gc` leaves it alone while we hold it.
            let partial = self.cache.temp_path(&lock_what, &format!("zipball-{}", Cache::key(&url)));
            let _ = fs::remove_file(&partial);
            let mut errors = Vec::new();
            let mut downloaded = None;
            for c in &candidates {
                match self.downloader.download(c, &partial, &ExpectedHash::None, None) {
                    Ok(d) => {
                        downloaded = Some(d);
                        break;
                    }
                    Err(e) => errors.push(e),
                }
            }
            match downloaded.ok_or_else(|| most_relevant(errors)) {
                Ok(d) => {
                    let result = self.install_snapshot(&key, &lock_what, &partial, &d.sha256, pinned.as_deref());
                    let _ = fs::remove_file(&partial);
                    let (commit, dir) = result?;
                    self.cache.record_ref(&key, &ref_name, &commit)?;
                    return Ok((commit, dir));
                }
                Err(e @ Error::HttpStatus { status: 404, .. }) => last_err = Some(e),
                Err(e) => {
                    let _ = fs::remove_file(&partial);
                    return Err(e);
                }
            }
        }
        Err(last_err.unwrap_or(Error::NoManifest { dir: PathBuf::from(key) }))
    }

    fn install_snapshot(&self, key: &str, lock_what: &str, archive: &Path, archive_sha256: &str, pinned: Option<&str>) -> Result<(String, PathBuf)> {
        let staging = self.cache.staging_dir(lock_what);
        let extracted = extract_zip_within(archive, &staging, &self.options.limits)?;
        let commit = extracted
            .commit
            .or_else(|| pinned.map(str::to_owned))
            .unwrap_or_else(|| format!("sha256-{}", &archive_sha256[..40]));
        let dir = self.cache.repo_dir(key, &commit);
        if dir.is_dir() {
            fs::remove_dir_all(&dir).map_err(|e| Error::io("replacing", &dir, e))?;
        }
        if let Some(parent) = dir.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
        }
        fs::rename(&staging, &dir).map_err(|e| {
            let _ = fs::remove_dir_all(&staging);
            Error::io("installing", &dir, e)
        })?;
        Ok((commit, dir))
    }
}

/// Refuses every `file://` URL of a manifest that came from a remote source.
fn forbid_local_urls(manifest: &mut Manifest, origin: &str, source_kind: &'static str) -> Result<()> {
    manifest.visit_urls(|place, url| {
        // Any scheme but http(s) is refused (the manifest parser admits only file:// besides).
        if url.starts_with("http://") || url.starts_with("https://") {
            return Ok(());
        }
        Err(Error::LocalUrlInRemoteManifest { manifest: origin.to_owned(), url: url.clone(), place: place.to_owned(), source_kind })
    })
}

/// Rewrites a local manifest's relative `file://` URLs (`file://weights/x.pth`,
/// `file://../shared/x.pth`) into absolute ones against `dir`, the repo directory: never against
/// the current directory. `..` is allowed (the repo is the user's own).
fn resolve_relative_file_urls(manifest: &mut Manifest, dir: &Path) -> Result<()> {
    let dir = std::path::absolute(dir).map_err(|e| Error::io("resolving", dir, e))?;
    manifest.visit_urls(|_, url| {
        if let Some(rest) = url.strip_prefix("file://") {
            let absolute = rest.starts_with('/') || (rest.starts_with("localhost/"));
            if !absolute {
                *url = format!("file://{}", dir.join(rest).display());
            }
        }
        Ok(())
    })
}

fn expand_home(dir: &Path) -> PathBuf {
    match dir.strip_prefix("~") {
        Ok(rest) => match std::env::var_os("HOME") {
            Some(home) => Path::new(&home).join(rest),
            None => dir.to_path_buf(),
        },
        Err(_) => dir.to_path_buf(),
    }
}
