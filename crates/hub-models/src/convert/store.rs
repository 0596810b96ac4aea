//! Where converted burnpacks live in the cache, and the record that proves one intact.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where the converted copy of a cached checkpoint for `architecture` lives.
pub fn converted_path(cache_root: &Path, source_sha256: &str, architecture: &str) -> PathBuf {
    cache_root.join("converted").join(source_sha256).join(format!("{architecture}.bpk"))
}

/// The record written beside a burnpack: `<file>.json`.
pub fn record_path(burnpack: &Path) -> PathBuf {
    let mut name = burnpack.file_name().map(|f| f.to_os_string()).unwrap_or_default();
    name.push(".json");
    burnpack.with_file_name(name)
}

/// What [`convert`](super::convert) records about the burnpack it wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConvertedRecord {
    /// sha256 of the burnpack file, lowercase hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Checks a burnpack against its record: the size, then the sha256. A missing or unreadable
/// record, a different size or hash is [`Error::BurnpackIntegrity`].
pub fn verify_converted(burnpack: &Path) -> Result<()> {
    let bad = |reason: String| Error::BurnpackIntegrity { path: burnpack.to_path_buf(), reason };
    let record_file = record_path(burnpack);
    let text = match std::fs::read(&record_file) {
        Ok(t) if t.len() <= 4096 => t,
        Ok(t) => return Err(bad(format!("its record {} is {} bytes, not a record", record_file.display(), t.len()))),
        Err(e) => return Err(bad(format!("its record {} cannot be read ({e})", record_file.display()))),
    };
    let record: ConvertedRecord = serde_json::from_slice(&text).map_err(|e| bad(format!("its record {} is invalid ({e})", record_file.display())))?;
    let size = std::fs::metadata(burnpack).map_err(|e| Error::Hub(hub_core::Error::io("reading", burnpack, e)))?.len();
    if size != record.size {
        return Err(bad(format!("it is {size} bytes, but {} bytes were written", record.size)));
    }
    let actual = hub_core::hash::sha256_file(burnpack)?;
    if !actual.eq_ignore_ascii_case(&record.sha256) {
        return Err(bad(format!("its sha256 is {actual}, but {} was written", record.sha256)));
    }
    Ok(())
}

/// Every converted burnpack in the cache (`converted/<sha256>/<architecture>.bpk`).
pub fn converted_files(cache_root: &Path) -> Result<Vec<PathBuf>> {
    let root = cache_root.join("converted");
    let mut out = Vec::new();
    let dirs = match std::fs::read_dir(&root) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::Hub(hub_core::Error::io("reading", &root, e))),
    };
    for dir in dirs.flatten() {
        let Ok(files) = std::fs::read_dir(dir.path()) else { continue };
        for f in files.flatten() {
            let p = f.path();
            let name = f.file_name();
            let name = name.to_string_lossy();
            if !name.starts_with('.') && name.ends_with(".bpk") && p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Removes a burnpack and its record.
pub fn remove_converted(burnpack: &Path) -> Result<()> {
    for p in [burnpack.to_path_buf(), record_path(burnpack)] {
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::Hub(hub_core::Error::io("removing", &p, e))),
            _ => {}
        }
    }
    Ok(())
}

/// The sha256 of a cached artifact, from its `artifacts/<sha256>/<name>` path.
pub fn cached_sha256(path: &Path) -> Option<&str> {
    let dir = path.parent()?;
    let name = dir.file_name()?.to_str()?;
    (dir.parent()?.file_name()? == "artifacts" && name.len() == 64).then_some(name)
}
