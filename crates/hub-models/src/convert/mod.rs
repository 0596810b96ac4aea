//! Converting PyTorch checkpoints once into burnpack files, so later loads skip pickle parsing.
//!
//! Converted files live in the cache next to their source, keyed by the source's content:
//! `$HUB_HOME/converted/<sha256 of the .pth>/<architecture>.bpk`. [`crate::load_with`] uses
//! one automatically when it exists.
//!
//! Each burnpack carries its own record, `<architecture>.bpk.json` beside it, with the size and
//! sha256 of the file as written ([`ConvertedRecord`]). A burnpack is used only when it matches
//! its record ([`verify_converted`]: the size first, then the hash); a damaged one is reported
//! and the PyTorch checkpoint loads instead. `hub cache verify` checks them too
//! ([`converted_files`]).
//!
//! [`convert_published`] converts an entrypoint's published weights into the cache;
//! [`convert_checkpoint`] converts a local checkpoint to a file of your choice (`hub convert`
//! does one or the other).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use burn::tensor::backend::Backend;
use hub_core::{Hub, RepoSpec};

use crate::error::{Error, Result};
use crate::import::ImportOptions;
use crate::registry::{self, Architecture, ClassifierConfig, ImageClassifier, Model, Task};
use crate::{load_with, Cpu, LoadOptions};

pub(crate) mod store;

pub use store::{cached_sha256, converted_files, converted_path, record_path, remove_converted, verify_converted, ConvertedRecord};

/// What [`convert_published`] and [`convert_checkpoint`] did, and how long loading takes either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// The burnpack written and checked.
    pub converted: Converted,
    /// The architecture id.
    pub architecture: &'static str,
    /// Building the model and importing the PyTorch checkpoint.
    pub import_time: Duration,
    /// Building the model and loading the burnpack, as a later load does.
    pub load_time: Duration,
}

/// Converts an entrypoint's published weights (`weights`: a variant name, `None` for the
/// default) on the CPU into the cache, at [`converted_path`], where later loads of those
/// weights find it. Converting again replaces an earlier conversion (and checks it again).
/// Image classifiers only, so far; anything else is [`Error::NotConvertible`].
pub fn convert_published(hub: &Hub, repo: &RepoSpec, entry: &str, weights: Option<&str>) -> Result<Conversion> {
    let manifest = hub.repo(repo)?.manifest;
    let (name, ep) = manifest.entry(entry)?;
    let not_convertible = |reason: String| Error::NotConvertible { entry: name.to_owned(), reason };
    let classifier = |id: &str| match registry::find(id) {
        None => Err(Error::UnknownArchitecture { architecture: id.to_owned() }),
        Some(a) if a.task != Task::ImageClassification => Err(not_convertible("only image classifiers can be converted so far".into())),
        Some(a) => Ok(a),
    };
    // Before the weights: a text entrypoint's model ids are not listed weights.
    classifier(&ep.architecture)?;
    let Some((wname, w)) = ep.weights(name, weights)? else { return Err(not_convertible("it publishes no weights to convert".into())) };
    let architecture = classifier(ep.architecture_for(Some(w)))?;
    let source = hub.fetch(&w.artifact)?;
    let sha = cached_sha256(&source).ok_or_else(|| not_convertible(format!("{} is not a cached artifact", source.display())))?;
    let out = converted_path(hub.cache().root(), sha, architecture.id);
    // Removed first, so that the load below imports the checkpoint itself.
    remove_converted(&out)?;
    let started = Instant::now();
    let loaded = load_with::<Cpu>(hub, repo, name, &LoadOptions::default().weights(wname), &Default::default())?;
    let import_time = started.elapsed();
    let Model::Classifier(model) = loaded.model else { return Err(not_convertible("only image classifiers can be converted so far".into())) };
    let config = ClassifierConfig::from_table(name, &ep.config_for(Some(w)))?;
    write_timed(&model, architecture, &config, &out, import_time)
}

/// Converts a local PyTorch checkpoint of `architecture` (a registry id) with `num_classes`
/// classes, its state dict under `key` when given, on the CPU to the burnpack file `out`.
pub fn convert_checkpoint(checkpoint: &Path, key: Option<&str>, architecture: &str, num_classes: usize, out: &Path) -> Result<Conversion> {
    let started = Instant::now();
    let arch = registry::find(architecture).ok_or_else(|| Error::UnknownArchitecture { architecture: architecture.to_owned() })?;
    let config = ClassifierConfig { num_classes, ..Default::default() };
    let mut import = ImportOptions::new().with_remaps(arch.family.remaps());
    if let Some(k) = key {
        import = import.with_top_level_key(k);
    }
    let (model, _) = arch.build::<Cpu>(&config, &Default::default())?.load_pytorch(checkpoint, &import)?;
    write_timed(&model, arch, &config, out, started.elapsed())
}

/// [`convert`]s `model` to `out` and times the check's load of the burnpack.
fn write_timed(model: &ImageClassifier<Cpu>, architecture: Architecture, config: &ClassifierConfig, out: &Path, import_time: Duration) -> Result<Conversion> {
    let started = Instant::now();
    let fresh = architecture.build::<Cpu>(config, &Default::default())?;
    let build = started.elapsed();
    let (converted, reload) = write_checked(model, fresh, out)?;
    Ok(Conversion { converted, architecture: architecture.id, import_time, load_time: build + reload })
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
/// then moves it into place with its record ([`ConvertedRecord`], at [`record_path`]). Nothing
/// is left at `out` if the check fails.
pub fn convert<B: Backend>(model: &ImageClassifier<B>, fresh: ImageClassifier<B>, out: &Path) -> Result<Converted> {
    write_checked(model, fresh, out).map(|(converted, _)| converted)
}

/// [`convert`], also returning how long loading the burnpack into `fresh` took.
fn write_checked<B: Backend>(model: &ImageClassifier<B>, fresh: ImageClassifier<B>, out: &Path) -> Result<(Converted, Duration)> {
    let dir = out.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::Hub(hub_core::Error::io("creating", dir, e)))?;
    let tmp = dir.join(format!(".{}.{}.tmp.bpk", out.file_name().and_then(|f| f.to_str()).unwrap_or("model"), std::process::id()));
    model.save_burnpack(&tmp)?;
    let check = (|| {
        let started = Instant::now();
        let mut reloaded = fresh;
        reloaded.load_burnpack(&tmp)?;
        let reload = started.elapsed();
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
        Ok((a.len(), reload))
    })();
    let (tensors, reload) = match check {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    // The record of what was written and checked: hashed from the file on disk.
    let written = (|| {
        let size = std::fs::metadata(&tmp).map_err(|e| Error::Hub(hub_core::Error::io("reading", &tmp, e)))?.len();
        let sha256 = hub_core::hash::sha256_file(&tmp)?;
        let record = ConvertedRecord { sha256, size };
        let record_file = record_path(out);
        let record_tmp = dir.join(format!(".{}.{}.tmp", record_file.file_name().and_then(|f| f.to_str()).unwrap_or("record"), std::process::id()));
        let json = serde_json::to_vec_pretty(&record).map_err(|e| Error::Burnpack { path: record_file.clone(), message: e.to_string() })?;
        std::fs::write(&record_tmp, json).map_err(|e| Error::Hub(hub_core::Error::io("writing", &record_tmp, e)))?;
        std::fs::rename(&tmp, out).map_err(|e| Error::Hub(hub_core::Error::io("renaming into", out, e)))?;
        std::fs::rename(&record_tmp, &record_file).map_err(|e| Error::Hub(hub_core::Error::io("renaming into", &record_file, e)))?;
        Ok(size)
    })();
    let bytes = match written {
        Ok(b) => b,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    Ok((Converted { path: out.to_path_buf(), tensors, bytes }, reload))
}
