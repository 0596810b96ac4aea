//! Repo specs: `owner/repo[:ref]`, an `http(s)://` or `file://` base URL, or a local directory.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{Error, Result};

/// Where a hub repo lives. Parsed once at the edge with [`FromStr`]; [`Display`](fmt::Display)
/// writes it back so that `s.parse::<RepoSpec>()?.to_string()` round-trips.
///
/// | string | spec |
/// |---|---|
/// | `pytorch/vision` | GitHub, default branch |
/// | `pytorch/vision:v0.10.0`, `owner/repo:refs/heads/dev`, `owner/repo:<40 hex>` | GitHub at a ref |
/// | `https://models.example.com/vision/`, `file:///srv/hub/vision` | a manifest under a base URL |
/// | `./models`, `/srv/models`, `~/models` | a local directory with a `hubconf.toml` |
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RepoSpec {
    /// A GitHub repository.
    GitHub {
        /// The owner (user or organisation).
        owner: String,
        /// The repository name.
        repo: String,
        /// The branch, tag or commit; `None` means the default branch.
        reference: Option<GitRef>,
    },
    /// A base URL (`http://`, `https://` or `file://`) under which `hubconf.toml` is published.
    Url(String),
    /// A local directory holding a `hubconf.toml`.
    Local(PathBuf),
}

/// A git reference as written after the `:` of a spec.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GitRef {
    /// A full 40-hex commit id.
    Commit(String),
    /// `refs/heads/NAME`: certainly a branch.
    Branch(String),
    /// `refs/tags/NAME`: certainly a tag.
    Tag(String),
    /// A plain name: a branch or a tag (or an abbreviated commit), as git would resolve it.
    Name(String),
}

impl GitRef {
    /// The name to put into a GitHub archive URL (`zipball/{ref}`).
    pub fn as_url_ref(&self) -> &str {
        match self {
            GitRef::Commit(s) | GitRef::Branch(s) | GitRef::Tag(s) | GitRef::Name(s) => s,
        }
    }

    /// Whether the ref pins content (a full commit id): nothing to resolve, nothing can move.
    pub fn is_commit(&self) -> bool {
        matches!(self, GitRef::Commit(_))
    }
}

impl fmt::Display for GitRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GitRef::Commit(s) | GitRef::Name(s) => f.write_str(s),
            GitRef::Branch(s) => write!(f, "refs/heads/{s}"),
            GitRef::Tag(s) => write!(f, "refs/tags/{s}"),
        }
    }
}

impl FromStr for GitRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(name) = s.strip_prefix("refs/heads/") {
            check_ref_name(name)?;
            return Ok(GitRef::Branch(name.to_owned()));
        }
        if let Some(name) = s.strip_prefix("refs/tags/") {
            check_ref_name(name)?;
            return Ok(GitRef::Tag(name.to_owned()));
        }
        check_ref_name(s)?;
        if s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(GitRef::Commit(s.to_ascii_lowercase()));
        }
        Ok(GitRef::Name(s.to_owned()))
    }
}

/// git's `check-ref-format` rules, for the part after `refs/heads/` or a bare name.
fn check_ref_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the ref after ':' is empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(*c))
    {
        return Err(format!("the ref {name:?} contains {c:?}, which git does not allow in ref names"));
    }
    if name.contains("..") || name.contains("@{") || name.contains("//") {
        return Err(format!("the ref {name:?} contains '..', '@{{' or '//'"));
    }
    if name.starts_with('/') || name.ends_with('/') || name.ends_with('.') || name.starts_with('-') {
        return Err(format!("the ref {name:?} starts or ends with '/', '.' or '-'"));
    }
    if name == "@" {
        return Err("'@' is not a ref name".into());
    }
    if name.split('/').any(|part| part.starts_with('.') || part.ends_with(".lock")) {
        return Err(format!("a component of the ref {name:?} starts with '.' or ends with '.lock'"));
    }
    Ok(())
}

fn is_github_owner(s: &str) -> bool {
    // GitHub user and organisation names: alphanumerics and single inner hyphens, at most 39.
    !s.is_empty()
        && s.len() <= 39
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn is_github_repo(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s != "."
        && s != ".."
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

impl FromStr for RepoSpec {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidSpec { input: input.to_owned(), reason };
        if input.is_empty() {
            return Err(invalid("the spec is empty".into()));
        }
        if input.trim() != input {
            return Err(invalid("the spec has leading or trailing whitespace".into()));
        }
        for scheme in ["http://", "https://", "file://"] {
            if let Some(rest) = input.strip_prefix(scheme) {
                if rest.is_empty() || (scheme != "file://" && rest.starts_with('/')) {
                    return Err(invalid(format!("the URL has no host or path after {scheme}")));
                }
                if input.chars().any(char::is_whitespace) {
                    return Err(invalid("URLs cannot contain whitespace".into()));
                }
                return Ok(RepoSpec::Url(input.to_owned()));
            }
        }
        if input.contains("://") {
            return Err(invalid("only http://, https:// and file:// URLs are supported".into()));
        }
        if is_local_path(input) {
            return Ok(RepoSpec::Local(PathBuf::from(input)));
        }
        let (name, reference) = match input.split_once(':') {
            Some((name, reference)) => (name, Some(reference)),
            None => (input, None),
        };
        let Some((owner, repo)) = name.split_once('/') else {
            return Err(invalid(
                "a GitHub spec needs an owner and a repository separated by '/'; write a local directory as ./name".into(),
            ));
        };
        if repo.contains('/') {
            return Err(invalid(
                "a GitHub spec has exactly one '/' (owner/repo); write a local directory as ./a/b/c".into(),
            ));
        }
        if !is_github_owner(owner) {
            return Err(invalid(format!(
                "{owner:?} is not a valid GitHub owner (letters, digits and single inner hyphens, at most 39)"
            )));
        }
        let repo = repo.strip_suffix(".git").unwrap_or(repo);
        if repo.ends_with(".git") {
            // `x.git.git` would display as `x.git`, which parses as `x`: GitHub names never end in .git.
            return Err(invalid(format!("{repo:?}.git: a GitHub repository name does not end in .git")));
        }
        if !is_github_repo(repo) {
            return Err(invalid(format!(
                "{repo:?} is not a valid GitHub repository name (letters, digits, '-', '_' and '.')"
            )));
        }
        let reference = reference.map(|r| r.parse::<GitRef>().map_err(invalid)).transpose()?;
        Ok(RepoSpec::GitHub { owner: owner.to_owned(), repo: repo.to_owned(), reference })
    }
}

fn is_local_path(s: &str) -> bool {
    s == "."
        || s == ".."
        || s == "~"
        || s.starts_with('/')
        || s.starts_with("./")
        || s.starts_with("../")
        || s.starts_with("~/")
        || s.starts_with(".\\")
        || s.starts_with("..\\")
        || (s.len() >= 3 && s.as_bytes()[1] == b':' && matches!(s.as_bytes()[2], b'\\' | b'/'))
}

impl fmt::Display for RepoSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RepoSpec::GitHub { owner, repo, reference: None } => write!(f, "{owner}/{repo}"),
            RepoSpec::GitHub { owner, repo, reference: Some(r) } => write!(f, "{owner}/{repo}:{r}"),
            RepoSpec::Url(url) => f.write_str(url),
            RepoSpec::Local(path) => {
                let s = path.display().to_string();
                if is_local_path(&s) {
                    f.write_str(&s)
                } else {
                    // A relative path like `models` would read back as a GitHub spec or an error.
                    write!(f, "./{s}")
                }
            }
        }
    }
}

impl RepoSpec {
    /// A local-directory spec from a path (relative paths are kept relative).
    pub fn local(path: impl AsRef<Path>) -> Self {
        RepoSpec::Local(path.as_ref().to_path_buf())
    }

    /// `owner/repo` for GitHub specs, the spec without its ref: the key of built-in manifests.
    pub fn name(&self) -> String {
        match self {
            RepoSpec::GitHub { owner, repo, .. } => format!("{owner}/{repo}"),
            other => other.to_string(),
        }
    }

    /// The ref of a GitHub spec, if one was given.
    pub fn reference(&self) -> Option<&GitRef> {
        match self {
            RepoSpec::GitHub { reference, .. } => reference.as_ref(),
            _ => None,
        }
    }

    /// A file-system-safe directory name for this spec (torch.hub's `owner_repo_ref` scheme).
    pub fn cache_dir_name(&self) -> String {
        let raw = match self {
            RepoSpec::GitHub { owner, repo, .. } => format!("{owner}_{repo}"),
            RepoSpec::Url(url) => url.clone(),
            RepoSpec::Local(p) => p.display().to_string(),
        };
        sanitize(&raw)
    }
}

/// Replaces everything but `[A-Za-z0-9._-]` with `_` so a string can name a file.
pub(crate) fn sanitize(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' })
        .collect();
    match out.as_str() {
        "" | "." | ".." => format!("_{out}"),
        _ => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "pytorch/vision",
            "pytorch/vision:main",
            "pytorch/vision:v0.10.0",
            "owner/repo:refs/heads/x",
            "owner/repo:refs/tags/v1.2",
            "owner/repo:feature/new-thing",
            "facebookresearch/pytorch_GAN_zoo:hub",
            "NVIDIA/DeepLearningExamples:torchhub",
            "owner/repo.js:0123456789abcdef0123456789abcdef01234567",
            "https://models.example.com/vision/",
            "http://127.0.0.1:8000/hub",
            "file:///srv/hub/vision",
            "./models",
            "../models/x",
            "/srv/models",
            "~/models",
            ".",
        ] {
            let spec: RepoSpec = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(spec.to_string(), s, "{spec:?}");
            assert_eq!(spec.to_string().parse::<RepoSpec>().unwrap(), spec);
        }
    }

    #[test]
    fn classifies_refs() {
        let r = |s: &str| s.parse::<RepoSpec>().unwrap().reference().cloned();
        assert_eq!(r("a/b"), None);
        assert_eq!(r("a/b:main"), Some(GitRef::Name("main".into())));
        assert_eq!(r("a/b:refs/heads/x"), Some(GitRef::Branch("x".into())));
        assert_eq!(r("a/b:refs/tags/v1"), Some(GitRef::Tag("v1".into())));
        let sha = "0123456789ABCDEF0123456789abcdef01234567";
        assert_eq!(r(&format!("a/b:{sha}")), Some(GitRef::Commit(sha.to_ascii_lowercase())));
        assert!(r(&format!("a/b:{sha}")).unwrap().is_commit());
        // An abbreviated sha is just a name: git decides.
        assert_eq!(r("a/b:0123abc"), Some(GitRef::Name("0123abc".into())));
        // `.git` suffix is accepted and dropped.
        assert_eq!("a/b.git".parse::<RepoSpec>().unwrap().to_string(), "a/b");
    }

    #[test]
    fn local_path_displays_as_local() {
        let spec = RepoSpec::local("models");
        assert_eq!(spec.to_string(), "./models");
        assert_eq!(spec.to_string().parse::<RepoSpec>().unwrap(), RepoSpec::local("./models"));
    }

    #[test]
    fn rejects_malformed() {
        for (s, needle) in [
            ("", "empty"),
            (" pytorch/vision", "whitespace"),
            ("pytorch", "owner and a repository"),
            ("pytorch/", "not a valid GitHub repository"),
            ("a/b/c", "exactly one '/'"),
            ("-a/b", "not a valid GitHub owner"),
            ("a--b/c", "not a valid GitHub owner"),
            ("a_b/c", "not a valid GitHub owner"),
            ("a/b c", "not a valid GitHub repository"),
            ("a/..", "not a valid GitHub repository"),
            ("a/b:", "empty"),
            ("a/b:x y", "contains ' '"),
            ("a/b:a..b", "'..'"),
            ("a/b:x~1", "contains '~'"),
            ("a/b:x^", "contains '^'"),
            ("a/b:x:y", "contains ':'"),
            ("a/b:refs/heads/", "empty"),
            ("a/b:x.lock", ".lock"),
            ("a/b:x/", "ends with"),
            ("a/b:@", "'@'"),
            ("a/b:x@{1}", "'@{'"),
            ("ftp://example.com/x", "only http"),
            ("https://", "no host"),
            ("https:///x", "no host"),
            ("https://a b", "whitespace"),
            (":main", "owner and a repository"),
            ("repo/.git.git", "does not end in .git"),
        ] {
            let err = s.parse::<RepoSpec>().expect_err(s).to_string();
            assert!(err.contains(needle), "{s:?}: {err}");
            assert!(err.contains("invalid repo spec"), "{err}");
        }
    }

    #[test]
    fn cache_dir_names_are_safe() {
        let spec: RepoSpec = "pytorch/vision:v0.10.0".parse().unwrap();
        assert_eq!(spec.cache_dir_name(), "pytorch_vision");
        assert_eq!(sanitize("https://x/y?z"), "https___x_y_z");
        assert_eq!(sanitize(".."), "_..");
    }
}
