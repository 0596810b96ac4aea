//! Reading a manifest: TOML text (or a file, within a size limit) to a validated [`Manifest`],
//! with errors that carry the file, line and column; and back to TOML.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{join_keys, Manifest, FORMAT_VERSION};
use crate::artifact::{hash_prefix, Artifact};
use crate::error::{Error, Result};

impl Manifest {
    /// Parses and validates a manifest; `origin` names the file in errors.
    pub fn parse(src: &str, origin: &str) -> Result<Manifest> {
        let manifest: Manifest = toml::from_str(src).map_err(|e| {
            // The checkpoint fields of a weights table are flattened into it, which loses the
            // key of a wrong type (toml points at the table's header): find it again.
            if let Some(better) = weights_field_error(src, origin, e.message().trim()) {
                return better;
            }
            let (line, column) = e.span().map(|s| line_col(src, s.start)).unwrap_or((0, 0));
            Error::Manifest { file: origin.to_owned(), line, column, message: e.message().trim().to_owned() }
        })?;
        manifest.validate(src, origin)?;
        Ok(manifest)
    }

    /// Reads and parses a manifest file of at most [`Limits::default`]'s `max_manifest_bytes`.
    ///
    /// [`Limits::default`]: crate::Limits
    pub fn from_file(path: &std::path::Path) -> Result<Manifest> {
        Manifest::from_file_within(path, crate::Limits::default().max_manifest_bytes)
    }

    /// Reads and parses a manifest file; a file over `limit` bytes is [`Error::TooLarge`]
    /// (checked before it is read, and while reading).
    pub fn from_file_within(path: &std::path::Path, limit: u64) -> Result<Manifest> {
        let src = Manifest::read_source(path, limit)?;
        Manifest::parse(&src, &path.display().to_string())
    }

    /// The text of a manifest file of at most `limit` bytes.
    pub(crate) fn read_source(path: &std::path::Path, limit: u64) -> Result<String> {
        let too_large = |detail: String| Error::TooLarge {
            what: path.display().to_string(),
            limit: format!("{limit} bytes"),
            detail,
            setting: "max_manifest_kb",
        };
        let file = std::fs::File::open(path).map_err(|e| Error::io("reading", path, e))?;
        let len = file.metadata().map_err(|e| Error::io("reading", path, e))?.len();
        let bytes = crate::bounded::read_file(file, path, len, limit, too_large)?;
        String::from_utf8(bytes)
            .map_err(|e| Error::Manifest { file: path.display().to_string(), line: 0, column: 0, message: format!("not UTF-8 text ({e})") })
    }

    /// Serialises the manifest back to TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    fn validate(&self, src: &str, origin: &str) -> Result<()> {
        let err = |needle: &str, message: String| {
            let (line, column) = src.find(needle).map(|i| line_col(src, i)).unwrap_or((0, 0));
            Error::Manifest { file: origin.to_owned(), line, column, message }
        };
        if self.format != FORMAT_VERSION {
            return Err(err(
                "format",
                format!("manifest format {} is not supported by this hub (it reads format {FORMAT_VERSION}); upgrade hub", self.format),
            ));
        }
        let mut names: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, entry) in &self.entrypoints {
            let here = format!("[entrypoints.{name}");
            if !is_identifier(name) {
                return Err(err(&here, format!("entrypoint name {name:?} must be letters, digits, '_', '-' or '.'")));
            }
            for alias in std::iter::once(name).chain(&entry.aliases) {
                if let Some(other) = names.insert(alias, name) {
                    return Err(err(alias, format!("{alias:?} names both {other} and {name}")));
                }
            }
            if entry.architecture.trim().is_empty() {
                return Err(err(&here, format!("entrypoint {name}: `architecture` is empty")));
            }
            if entry.task.trim().is_empty() {
                return Err(err(&here, format!("entrypoint {name}: `task` is empty")));
            }
            match &entry.default_weights {
                Some(d) if !entry.weights.contains_key(d) => {
                    return Err(err(
                        &format!("default_weights = \"{d}\""),
                        format!("entrypoint {name}: default_weights {d:?} is not one of its weights ({})", join_keys(&entry.weights)),
                    ));
                }
                None if entry.weights.len() > 1 => {
                    return Err(err(&here, format!("entrypoint {name} has several weights: say which is the default with `default_weights`")));
                }
                _ => {}
            }
            if let Some(ids) = &entry.model_ids {
                ids.validate().map_err(|m| err(&format!("[entrypoints.{name}.model_ids]"), format!("entrypoint {name}: {m}")))?;
            }
            for (wname, w) in &entry.weights {
                let at = format!("[entrypoints.{name}.weights.{wname}]");
                if wname.eq_ignore_ascii_case("default") {
                    return Err(err(&at, format!("entrypoint {name}: `DEFAULT` is reserved for the default_weights alias")));
                }
                if !is_identifier(wname) {
                    return Err(err(&at, format!("weights name {wname:?} must be letters, digits, '_', '-' or '.'")));
                }
                let files = std::iter::once(&w.artifact).chain(w.files.values());
                for a in files {
                    check_artifact(a).map_err(|m| err(&a.url, format!("entrypoint {name}, weights {wname}: {m}")))?;
                }
            }
        }
        Ok(())
    }
}

fn check_artifact(a: &Artifact) -> Result<(), String> {
    for url in std::iter::once(&a.url).chain(&a.mirrors) {
        if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with("file://")) {
            return Err(format!("URL {url:?} must start with https://, http:// or file://"));
        }
        if url.chars().any(char::is_whitespace) {
            return Err(format!("URL {url:?} contains whitespace"));
        }
    }
    if a.file_name().is_empty() {
        return Err(format!("URL {:?} has no file name", a.url));
    }
    if let Some(h) = &a.sha256 {
        if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("sha256 {h:?} must be 64 hex digits"));
        }
        if let Some(prefix) = hash_prefix(a.file_name()) {
            if !h.to_ascii_lowercase().starts_with(prefix) {
                return Err(format!("sha256 {h} contradicts the hash prefix {prefix} in the file name {}", a.file_name()));
            }
        }
    }
    Ok(())
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

/// The first weights-table field of [`Artifact`] (flattened into [`Weights`](super::Weights))
/// with a wrong type, as an error at that key: `entrypoints.E.weights.W.size: expected ...`.
fn weights_field_error(src: &str, origin: &str, toml_message: &str) -> Option<Error> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        entrypoints: BTreeMap<String, ProbeEntry>,
    }
    #[derive(Deserialize)]
    struct ProbeEntry {
        #[serde(default)]
        weights: BTreeMap<String, BTreeMap<String, toml::Spanned<toml::Value>>>,
    }
    let probe: Probe = toml::from_str(src).ok()?;
    for (entry, e) in &probe.entrypoints {
        for (name, table) in &e.weights {
            for (key, value) in table {
                let v = value.get_ref();
                let expected = match key.as_str() {
                    "url" | "sha256" if !v.is_str() => "a string",
                    "mirrors" if !v.as_array().is_some_and(|a| a.iter().all(toml::Value::is_str)) => "an array of URL strings",
                    "size" if v.as_integer().is_none_or(|n| n < 0) => "a size in bytes (a non-negative integer)",
                    _ => continue,
                };
                let (line, column) = line_col(src, value.span().start);
                return Some(Error::Manifest {
                    file: origin.to_owned(),
                    line,
                    column,
                    message: format!("entrypoints.{entry}.weights.{name}.{key}: {toml_message} (expected {expected})"),
                });
            }
        }
    }
    None
}

/// 1-based line and column of byte offset `at` in `src`.
fn line_col(src: &str, at: usize) -> (usize, usize) {
    let at = at.min(src.len());
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_in_a_weights_table_name_their_key() {
        let head = "format = 1\n[entrypoints.m]\narchitecture = \"a\"\ntask = \"t\"\n[entrypoints.m.weights.W]\n";
        for (body, key, at) in [
            ("url = 5\n", "entrypoints.m.weights.W.url", (6, 7)),
            ("url = \"https://x/y.pth\"\nsize = \"big\"\n", "entrypoints.m.weights.W.size", (7, 8)),
            ("url = \"https://x/y.pth\"\nsize = -1\n", "entrypoints.m.weights.W.size", (7, 8)),
            ("url = \"https://x/y.pth\"\nmirrors = \"https://z\"\n", "entrypoints.m.weights.W.mirrors", (7, 11)),
            ("url = \"https://x/y.pth\"\nsha256 = 12\n", "entrypoints.m.weights.W.sha256", (7, 10)),
        ] {
            match Manifest::parse(&format!("{head}{body}"), "hubconf.toml") {
                Err(Error::Manifest { line, column, message, .. }) => {
                    assert!(message.starts_with(key) && message.contains("expected"), "{body}: {message}");
                    assert_eq!((line, column), at, "{body}: {message}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    fn parse_err(src: &str) -> String {
        Manifest::parse(src, "bad.toml").expect_err(src).to_string()
    }

    #[test]
    fn rejects_malformed() {
        let entry = "[entrypoints.a]\narchitecture = \"x\"\ntask = \"t\"\n";
        for (src, needle) in [
            ("", "missing field `format`"),
            ("format = 2", "format 2 is not supported"),
            ("format = \"1\"", "invalid type"),
            ("format = 1\nformt = 2", "unknown field `formt`"),
            ("format = 1\n[entrypoints.a]\ntask = \"t\"", "missing field `architecture`"),
            ("format = 1\n[entrypoints.a]\narchitecture = \"x\"", "missing field `task`"),
            (&format!("format = 1\n{entry}colour = 1"), "unknown field `colour`"),
            (&format!("format = 1\n{entry}architecture = \"y\""), "duplicate key"),
            (&format!("format = 1\n{entry}default_weights = \"V1\""), "is not one of its weights"),
            (&format!("format = 1\n{entry}[entrypoints.a.weights.V1]\nurl = \"ftp://x/y.pth\""), "must start with https://"),
            (&format!("format = 1\n{entry}[entrypoints.a.weights.V1]\nsize = 3"), "missing field `url`"),
            (&format!("format = 1\n{entry}[entrypoints.a.weights.V1]\nurl = \"https://x/y.pth\"\nsha256 = \"abc\""), "64 hex digits"),
            (&format!("format = 1\n{entry}[entrypoints.a.weights.V1]\nurl = \"https://x/y-0676ba61.pth\"\nsha256 = \"{}\"", "f".repeat(64)), "contradicts the hash prefix"),
            (&format!("format = 1\n{entry}[entrypoints.a.weights.V1]\nurl = \"https://x/y.pth\"\nformat = \"onnx\""), "unknown variant `onnx`"),
            (&format!("format = 1\n{entry}[entrypoints.a.weights.V1]\nurl = \"https://x/y.pth\"\nsize = -1"), "invalid value"),
            (&format!("format = 1\n{entry}[entrypoints.a.weights.V1]\nurl = \"https://x/y.pth\"\n[entrypoints.a.weights.V2]\nurl = \"https://x/z.pth\""), "say which is the default"),
            (&format!("format = 1\n{entry}[entrypoints.a.weights.DEFAULT]\nurl = \"https://x/y.pth\""), "reserved"),
            (&format!("format = 1\n{entry}preprocessing = {{ interpolation = \"lanczos\" }}"), "unknown variant `lanczos`"),
            (&format!("format = 1\n{entry}preprocessing = {{ size = 3 }}"), "unknown field `size`"),
            (&format!("format = 1\n{entry}aliases = [\"a\"]"), "names both"),
            ("format = 1\n[entrypoints.\"a b\"]\narchitecture = \"x\"\ntask = \"t\"", "must be letters"),
            ("format = 1\n[entrypoints.a]\narchitecture = \"\"\ntask = \"t\"", "`architecture` is empty"),
            ("format = 1\n[entrypoints.a\narchitecture = \"x\"", "invalid table header"),
            ("format = 1\nname = \"unterminated", "invalid basic string"),
        ] {
            let e = parse_err(src);
            assert!(e.contains(needle), "{src:?}\n  gave: {e}");
            assert!(e.starts_with("bad.toml:"), "{e}");
        }
    }

    #[test]
    fn errors_carry_line_and_column() {
        let e = parse_err("format = 1\n\n[entrypoints.a]\narchitecture = \"x\"\ntask = \"t\"\n  colour = 1\n");
        assert!(e.starts_with("bad.toml:6:3:"), "{e}");
        let e = parse_err("format = 1\n[entrypoints.a]\narchitecture = \"x\"\ntask = \"t\"\ndefault_weights = \"V9\"\n");
        assert!(e.starts_with("bad.toml:5:1:"), "{e}");
    }
}
