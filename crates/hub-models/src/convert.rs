//! Converting PyTorch checkpoints once into burnpack files, so later loads skip pickle parsing.
//!
//! Converted files live in the cache next to their source, keyed by the source's content:
//! `$HUB_HOME/converted/<sha256 of the .pth>/<architecture>.bpk`. [`crate::load_with`] uses
//! one automatically when it exists.

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;

use crate::error::{Error, Result};
use crate::registry::ImageClassifier;

/// Where the converted copy of a cached checkpoint for `architecture` lives.
pub fn converted_path(cache_root: &Path, source_sha256: &str, architecture: &str) -> PathBuf {
    cache_root.join("converted").join(source_sha256).join(format!("{architecture}.bpk"))
}

/// The sha256 of a cached artifact, from its `artifacts/<sha256>/<name>` path.
pub fn cached_sha256(path: &Path) -> Option<&str> {
    let dir = path.parent()?;
    let name = dir.file_name()?.to_str()?;
    (dir.parent()?.file_name()? == "artifacts" && name.len() == 64).then_some(name)
}

/// What a conversion did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// The burnpack file.
    pub path: PathBuf,
    /// Number of tensors checked equal.
    pub tensors: usize,
    /// Size of the burnpack file.
    pub bytes: u64,
}

/// Writes `model` (already imported from PyTorch) to `out` as burnpack, loads it back into
/// `fresh` (a newly built model of the same architecture) and checks every tensor is identical,
/// then moves it into place. Nothing is left at `out` if the check fails.
pub fn convert<B: Backend>(model: &ImageClassifier<B>, fresh: ImageClassifier<B>, out: &Path) -> Result<Converted> {
    let dir = out.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::Hub(hub_core::Error::io("creating", dir, e)))?;
    let tmp = dir.join(format!(".{}.{}.tmp.bpk", out.file_name().and_then(|f| f.to_str()).unwrap_or("model"), std::process::id()));
    model.save_burnpack(&tmp)?;
    let check = (|| {
        let reloaded = fresh.load_burnpack(&tmp)?;
        let a = model.tensors();
        let b = reloaded.tensors();
        if a.len() != b.len() {
            return Err(Error::ConversionMismatch { path: out.to_path_buf(), key: format!("{} tensors vs {}", a.len(), b.len()) });
        }
        for ((ka, da), (kb, db)) in a.iter().zip(&b) {
            if ka != kb || da != db {
                return Err(Error::ConversionMismatch { path: out.to_path_buf(), key: ka.clone() });
            }
        }
        Ok(a.len())
    })();
    let tensors = match check {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, out).map_err(|e| Error::Hub(hub_core::Error::io("renaming into", out, e)))?;
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(Converted { path: out.to_path_buf(), tensors, bytes })
}
