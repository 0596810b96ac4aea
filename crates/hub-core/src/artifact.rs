//! [`Artifact`]: a file to fetch (its URL, mirrors and what it must hash to), and torch.hub's
//! file-name conventions (the cache file name, the hash prefix in it).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A file to fetch: URL(s), and what it must hash to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// The canonical URL (also the cache and lockfile key).
    pub url: String,
    /// Further URLs with the same content, tried in order after the canonical one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mirrors: Vec<String>,
    /// Full sha256 of the content, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// What a file's content must hash to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedHash {
    /// The full sha256 (64 hex).
    Full(String),
    /// A prefix of the sha256, from a torch.hub-style file name (`resnet50-0676ba61.pth`).
    Prefix(String),
    /// Nothing is known: the first download is trusted (and recorded in the lockfile).
    None,
}

impl ExpectedHash {
    /// Whether `sha256` (full, lowercase hex) satisfies this expectation.
    pub fn matches(&self, sha256: &str) -> bool {
        match self {
            ExpectedHash::Full(h) => h.eq_ignore_ascii_case(sha256),
            ExpectedHash::Prefix(p) => sha256.starts_with(&p.to_ascii_lowercase()),
            ExpectedHash::None => true,
        }
    }
}

impl fmt::Display for ExpectedHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedHash::Full(h) => f.write_str(h),
            ExpectedHash::Prefix(p) => write!(f, "{p}…"),
            ExpectedHash::None => f.write_str("(any)"),
        }
    }
}

impl Artifact {
    /// An artifact with just a URL.
    pub fn new(url: impl Into<String>) -> Self {
        Artifact { url: url.into(), mirrors: Vec::new(), sha256: None, size: None }
    }

    /// Sets the full sha256.
    pub fn with_sha256(mut self, sha256: impl Into<String>) -> Self {
        self.sha256 = Some(sha256.into());
        self
    }

    /// Sets the size.
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    /// The last path segment of the URL (torch.hub's cache file name).
    pub fn file_name(&self) -> &str {
        file_name_of(&self.url)
    }

    /// The full sha256 when known, else the hash prefix in the file name, else nothing.
    pub fn expected_hash(&self) -> ExpectedHash {
        match &self.sha256 {
            Some(h) => ExpectedHash::Full(h.to_ascii_lowercase()),
            None => match hash_prefix(self.file_name()) {
                Some(p) => ExpectedHash::Prefix(p.to_owned()),
                None => ExpectedHash::None,
            },
        }
    }
}

/// The last path segment of a URL, without query or fragment.
pub fn file_name_of(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let path = url[..end].trim_end_matches('/');
    path.rsplit('/').next().unwrap_or(path)
}

/// torch.hub's hash prefix: the first run of lowercase hex digits that follows a `-` and is
/// followed by a `.` (torch.hub's `-([a-f0-9]*)\.`): `resnet50-0676ba61.pth` → `0676ba61`,
/// `shufflenetv2_x0.5-f707e7126e.pth` → `f707e7126e`, `alexnet-owt-7be5be79.pth` → `7be5be79`.
/// Unlike torch.hub, a prefix needs at least 6 digits, so names like `model-v2.pth` carry none
/// (torch.hub would accept any content for an empty prefix).
pub fn hash_prefix(file_name: &str) -> Option<&str> {
    let bytes = file_name.as_bytes();
    for (i, _) in file_name.match_indices('-') {
        let start = i + 1;
        let len = bytes[start..].iter().take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)).count();
        if bytes.get(start + len) == Some(&b'.') {
            return (6..=64).contains(&len).then(|| &file_name[start..start + len]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_prefixes() {
        assert_eq!(hash_prefix("resnet50-0676ba61.pth"), Some("0676ba61"));
        assert_eq!(hash_prefix("shufflenetv2_x1-5666bf0f80.pth"), Some("5666bf0f80"));
        assert_eq!(hash_prefix("DCGAN_fashionGen-1d67302.pth"), Some("1d67302"));
        assert_eq!(hash_prefix("alexnet-owt-7be5be79.pth"), Some("7be5be79"));
        assert_eq!(hash_prefix("model-v2.pth"), None);
        assert_eq!(hash_prefix("shufflenetv2_x0.5-f707e7126e.pth"), Some("f707e7126e"));
        assert_eq!(hash_prefix("model-2.pth"), None);
        assert_eq!(hash_prefix("model.safetensors"), None);
        assert_eq!(hash_prefix("nvidia_waveglowpyt_fp32_20190427"), None);
        assert_eq!(file_name_of("https://x/a/b.pth?download=1"), "b.pth");
    }
}
