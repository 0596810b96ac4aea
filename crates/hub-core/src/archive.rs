//! Safe extraction of repo archives (GitHub zipballs).

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::options::Limits;

/// What an extracted archive told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The zip comment when it is a 40-hex commit id (GitHub writes the commit there).
    pub commit: Option<String>,
    /// Number of files written.
    pub files: usize,
}

/// [`extract_zip_within`] with the default [`Limits`].
pub fn extract_zip(archive: &Path, dest: &Path) -> Result<Extracted> {
    extract_zip_within(archive, dest, &Limits::default())
}

/// Extracts a zip into `dest` (which must not exist yet), dropping the single top-level folder
/// GitHub wraps zipballs in. Rejects absolute paths, `..` components, symbolic links, more than
/// `limits.max_repo_entries` entries and more than `limits.max_repo_bytes` bytes in all (as
/// declared, checked before writing anything, and as actually decompressed, checked while
/// writing); on any error `dest` is removed.
pub fn extract_zip_within(archive: &Path, dest: &Path, limits: &Limits) -> Result<Extracted> {
    let name = archive.display().to_string();
    let file = File::open(archive).map_err(|e| Error::io("opening", archive, e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|source| Error::Archive { archive: name.clone(), source })?;
    let too_large = |limit: String, detail: String, setting| Error::TooLarge { what: format!("archive {name}"), limit, detail, setting };
    if zip.len() as u64 > limits.max_repo_entries {
        return Err(too_large(format!("{} entries", limits.max_repo_entries), format!("it has {} entries", zip.len()), "max_repo_entries"));
    }
    let max_bytes = limits.max_repo_bytes;
    let bytes_limit = format!("{max_bytes} bytes");
    let mut declared = 0u64;

    // Validate every entry first, so a bad archive writes nothing.
    let mut entries = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|source| Error::Archive { archive: name.clone(), source })?;
        let raw = entry.name().to_owned();
        let unsafe_entry = |reason| Error::UnsafeArchive { archive: name.clone(), entry: raw.clone(), reason };
        if entry.is_symlink() {
            return Err(unsafe_entry("is a symbolic link"));
        }
        let path = Path::new(&raw);
        if raw.starts_with('/') || raw.starts_with('\\') || path.is_absolute() || raw.get(1..2) == Some(":") {
            return Err(unsafe_entry("has an absolute path"));
        }
        if raw.split(['/', '\\']).any(|c| c == "..") || path.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(unsafe_entry("has a '..' component"));
        }
        if raw.contains('\0') {
            return Err(unsafe_entry("has a NUL byte in its name"));
        }
        declared = declared.saturating_add(entry.size());
        if declared > max_bytes {
            return Err(too_large(bytes_limit.clone(), format!("its entries declare more than {max_bytes} bytes uncompressed"), "max_repo_mb"));
        }
        entries.push((i, PathBuf::from(&raw), entry.is_dir()));
    }

    // GitHub zipballs hold one folder `owner-repo-sha/`: strip it when every entry is inside it.
    let top: Option<PathBuf> = entries.first().and_then(|(_, p, _)| p.components().next()).map(|c| PathBuf::from(c.as_os_str()));
    let strip = top.filter(|t| entries.iter().all(|(_, p, is_dir)| p.starts_with(t) && (p != t || *is_dir)));

    let commit = std::str::from_utf8(zip.comment())
        .ok()
        .map(str::trim)
        .filter(|c| c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase);

    let result = (|| {
        fs::create_dir_all(dest).map_err(|e| Error::io("creating", dest, e))?;
        let mut files = 0;
        let mut written = 0u64;
        for (i, path, is_dir) in &entries {
            let rel = match &strip {
                Some(t) => path.strip_prefix(t).unwrap_or(path),
                None => path,
            };
            if rel.as_os_str().is_empty() {
                continue;
            }
            let out = dest.join(rel);
            if *is_dir {
                fs::create_dir_all(&out).map_err(|e| Error::io("creating", &out, e))?;
                continue;
            }
            if let Some(parent) = out.parent() {
                fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
            }
            let mut entry = zip.by_index(*i).map_err(|source| Error::Archive { archive: name.clone(), source })?;
            let mut f = File::create(&out).map_err(|e| Error::io("creating", &out, e))?;
            // Sizes in the archive can lie: count what decompression actually produces.
            let room = max_bytes - written;
            let n = io::copy(&mut (&mut entry).take(room + 1), &mut f).map_err(|e| Error::io("extracting", &out, e))?;
            if n > room {
                return Err(too_large(bytes_limit.clone(), format!("entry {:?} decompresses past the limit", path.display()), "max_repo_mb"));
            }
            written += n;
            files += 1;
        }
        Ok(files)
    })();
    match result {
        Ok(files) => Ok(Extracted { commit, files }),
        Err(e) => {
            let _ = fs::remove_dir_all(dest);
            Err(e)
        }
    }
}
