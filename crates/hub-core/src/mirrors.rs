//! URL prefix rewriting for mirrors and air-gapped sites (`HUB_MIRRORS`).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Ordered `prefix → replacement` rules.
///
/// `HUB_MIRRORS="https://download.pytorch.org/models/=http://127.0.0.1:8000/models/,https://github.com/=file:///srv/github/"`
/// makes `https://download.pytorch.org/models/resnet50-0676ba61.pth` try
/// `http://127.0.0.1:8000/models/resnet50-0676ba61.pth` first, then the original URL (unless offline).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mirrors {
    rules: Vec<MirrorRule>,
}

/// One rewrite rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorRule {
    /// The URL prefix to match.
    pub prefix: String,
    /// What replaces the prefix.
    pub replacement: String,
}

impl Mirrors {
    /// No rules.
    pub fn new() -> Self {
        Mirrors::default()
    }

    /// Adds a rule after the existing ones.
    pub fn push(&mut self, prefix: impl Into<String>, replacement: impl Into<String>) -> Result<()> {
        let rule = MirrorRule { prefix: prefix.into(), replacement: replacement.into() };
        check_rule(&rule).map_err(|message| Error::Config { origin: "mirror rule".into(), message })?;
        self.rules.push(rule);
        Ok(())
    }

    /// Appends all of `other`'s rules after these.
    pub fn extend(&mut self, other: Mirrors) {
        self.rules.extend(other.rules);
    }

    /// The rules in order.
    pub fn rules(&self) -> &[MirrorRule] {
        &self.rules
    }

    /// Parses comma-separated `prefix=replacement` rules; `origin` names the source in errors.
    pub fn parse(s: &str, origin: &str) -> Result<Self> {
        let mut rules = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((prefix, replacement)) = part.split_once('=') else {
                return Err(Error::Config {
                    origin: origin.to_owned(),
                    message: format!("mirror rule {part:?} must be PREFIX=REPLACEMENT"),
                });
            };
            let rule = MirrorRule { prefix: prefix.trim().to_owned(), replacement: replacement.trim().to_owned() };
            check_rule(&rule).map_err(|message| Error::Config { origin: origin.to_owned(), message })?;
            rules.push(rule);
        }
        Ok(Mirrors { rules })
    }

    /// The URLs to try for `url`, in order: every matching mirror, then the original.
    pub fn candidates(&self, url: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .rules
            .iter()
            .filter_map(|r| url.strip_prefix(r.prefix.as_str()).map(|rest| format!("{}{rest}", r.replacement)))
            .collect();
        out.push(url.to_owned());
        out.dedup();
        out
    }
}

fn check_rule(rule: &MirrorRule) -> Result<(), String> {
    if rule.prefix.is_empty() {
        return Err(format!("mirror rule ={} has an empty prefix", rule.replacement));
    }
    let has_scheme = |s: &str| ["http://", "https://", "file://"].iter().any(|p| s.starts_with(p));
    if !has_scheme(&rule.replacement) {
        return Err(format!(
            "mirror replacement {:?} for {:?} must start with http://, https:// or file://",
            rule.replacement, rule.prefix
        ));
    }
    Ok(())
}

impl FromStr for Mirrors {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Mirrors::parse(s, "mirror rules")
    }
}

impl fmt::Display for Mirrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.rules.iter().map(|r| format!("{}={}", r.prefix, r.replacement)).collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_in_order_then_original() {
        let m: Mirrors = "https://download.pytorch.org/models/=http://127.0.0.1:8000/models/, https://download.pytorch.org/=file:///srv/pt/"
            .parse()
            .unwrap();
        assert_eq!(
            m.candidates("https://download.pytorch.org/models/resnet50-0676ba61.pth"),
            [
                "http://127.0.0.1:8000/models/resnet50-0676ba61.pth",
                "file:///srv/pt/models/resnet50-0676ba61.pth",
                "https://download.pytorch.org/models/resnet50-0676ba61.pth",
            ]
        );
        assert_eq!(m.candidates("https://github.com/a/b"), ["https://github.com/a/b"]);
        assert_eq!(m.to_string().parse::<Mirrors>().unwrap(), m);
        assert_eq!("".parse::<Mirrors>().unwrap(), Mirrors::new());
    }

    #[test]
    fn rejects_bad_rules() {
        for (s, needle) in [
            ("https://x/", "PREFIX=REPLACEMENT"),
            ("=http://y/", "empty prefix"),
            ("https://x/=y/", "must start with"),
            ("https://x/=", "must start with"),
        ] {
            let e = Mirrors::parse(s, "HUB_MIRRORS").unwrap_err().to_string();
            assert!(e.contains(needle) && e.contains("HUB_MIRRORS"), "{s}: {e}");
        }
    }
}
