//! Helpers shared by the parity tests (each test file includes this module): where the golden
//! references are, skipping a test without them, reading them.
#![allow(dead_code)]

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, TensorData};
use burn_store::{ModuleSnapshot, ModuleStore, SafetensorsStore, TensorSnapshot};
use hub_models::import::{load_pytorch, ImportOptions};

pub mod vision;

/// One kind of golden reference: its folder under `target/golden`, the variable that overrides
/// that folder (and the folder's path relative to the directory the variable names), and whether
/// its own script writes it (`xtask/golden/<folder>.py`) or `cargo xtask golden` does.
pub struct Golden {
    folder: &'static str,
    variable: &'static str,
    relative: &'static str,
    own_script: bool,
}

/// torchvision's classifiers, `target/golden/vision/<entry>/` (`HUB_GOLDEN_DIR`).
pub const VISION: Golden = Golden { folder: "vision", variable: "HUB_GOLDEN_DIR", relative: "", own_script: false };
/// Real weights and photos, `target/golden/real/` (the sibling of `HUB_GOLDEN_DIR`).
pub const REAL: Golden = Golden { folder: "real", variable: "HUB_GOLDEN_DIR", relative: "../real", own_script: false };
/// The segmentation models, `target/golden/seg/<entry>/`.
pub const SEG: Golden = Golden::scripted("seg", "HUB_GOLDEN_SEG_DIR");
/// BERT, GPT-2 and their tokenizers, `target/golden/text/<section>/`.
pub const TEXT: Golden = Golden::scripted("text", "HUB_GOLDEN_TEXT_DIR");
/// The GAN generators, `target/golden/gan/<entry>/`.
pub const GAN: Golden = Golden::scripted("gan", "HUB_GOLDEN_GAN_DIR");
/// Tacotron2 and WaveGlow, `target/golden/tts/<entry>/`.
pub const TTS: Golden = Golden::scripted("tts", "HUB_GOLDEN_TTS_DIR");

impl Golden {
    /// References that `xtask/golden/<folder>.py` writes, in a folder `variable` overrides.
    const fn scripted(folder: &'static str, variable: &'static str) -> Golden {
        Golden { folder, variable, relative: "", own_script: true }
    }

    /// The command that writes the references.
    fn command(&self) -> String {
        match self.own_script {
            true => format!("target/golden-venv/bin/python xtask/golden/{0}.py --out target/golden/{0}", self.folder),
            false => "cargo xtask golden".to_owned(),
        }
    }

    /// The folder: the variable's when it is set, else the repository's `target/golden/...`,
    /// else the one beside the target directory cargo builds into (`CARGO_TARGET_DIR`) when only
    /// that one exists.
    pub fn dir(&self) -> PathBuf {
        if let Some(dir) = std::env::var_os(self.variable) {
            let dir = PathBuf::from(dir);
            return if self.relative.is_empty() { dir } else { dir.join(self.relative) };
        }
        let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/golden").join(self.folder);
        let beside_target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../golden").join(self.folder);
        if !repository.is_dir() && beside_target.is_dir() {
            beside_target
        } else {
            repository
        }
    }

    /// `dir` if it holds every one of `files`, else `None` after [`skip`]ping `test` with the
    /// command that writes them.
    pub fn require(&self, test: &str, dir: PathBuf, files: &[&str]) -> Option<PathBuf> {
        if files.iter().all(|f| dir.join(f).is_file()) {
            return Some(dir);
        }
        skip(format!("{test}: SKIPPED, no {files:?} in {} (run `{}`)", dir.display(), self.command()));
        None
    }

    /// [`require`](Self::require) for the folder of one entry, `dir()/entry`.
    pub fn entry(&self, test: &str, entry: &str, files: &[&str]) -> Option<PathBuf> {
        self.require(test, self.dir().join(entry), files)
    }
}

/// The files of one golden classifier or segmentation entry.
pub const ENTRY_FILES: &[&str] = &["model.pth", "io.safetensors", "meta.json"];

/// The folder of one golden torchvision classifier, or `None` (after [`skip`]ping) without it.
pub fn vision_entry(entry: &str) -> Option<PathBuf> {
    VISION.entry(&format!("parity {entry}"), entry, ENTRY_FILES)
}

/// A golden JSON file; one that cannot be read fails the test, naming it.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `meta.json` of a golden entry's folder.
pub fn meta(dir: &Path) -> serde_json::Value {
    read_json(&dir.join("meta.json"))
}

/// A JSON list of non-negative integers.
pub fn json_usizes(value: &serde_json::Value) -> Vec<usize> {
    json_list(value, |v| v.as_u64().map(|n| n as usize))
}

/// A JSON list of numbers, as `f32`.
pub fn json_f32s(value: &serde_json::Value) -> Vec<f32> {
    json_list(value, |v| v.as_f64().map(|x| x as f32))
}

/// A JSON list, every element converted by `item`; anything else fails the test, naming it.
fn json_list<T>(value: &serde_json::Value, item: impl Fn(&serde_json::Value) -> Option<T>) -> Vec<T> {
    let list = value.as_array().unwrap_or_else(|| panic!("{value} is not a list"));
    list.iter().map(|v| item(v).unwrap_or_else(|| panic!("{v} in {value} has the wrong type"))).collect()
}

/// The builder kwargs of `meta.json` (none: an empty map).
pub fn meta_kwargs(dir: &Path) -> serde_json::Map<String, serde_json::Value> {
    meta(dir).get("kwargs").and_then(|k| k.as_object()).cloned().unwrap_or_default()
}

/// The checkpoints of a golden classifier entry: `model.pth`, and `model_legacy.pth` (the same
/// weights in the legacy pickle format) when the entry has it.
pub fn checkpoints(dir: &Path) -> Vec<PathBuf> {
    let legacy = dir.join("model_legacy.pth");
    let mut files = vec![dir.join("model.pth")];
    if legacy.is_file() {
        files.push(legacy);
    }
    files
}

/// `model` with the weights of `path` and the family's key `remaps`, loaded strictly: every
/// parameter found, every tensor used.
pub fn load_strict<B: Backend, M: Module<B>>(model: M, path: &Path, remaps: Vec<(&'static str, &'static str)>) -> M {
    let options = ImportOptions::new().with_remaps(remaps);
    let (model, report) = load_pytorch(model, path, &options).unwrap_or_else(|e| panic!("strict load of {} failed: {e}", path.display()));
    assert!(report.is_complete(), "{report:?}");
    model
}

/// Prints one measured error against PyTorch, `err` of at most `scale`, `start` the time the
/// load began.
pub fn print_error(entry: &str, file: &Path, err: f32, scale: f32, start: Instant) {
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    println!(
        "parity {entry} ({name}): max|burn-torch| = {err:.3e}, max|torch| = {scale:.3e}, relative = {:.3e} ({:.1} s)",
        err / scale,
        start.elapsed().as_secs_f32()
    );
}

/// Whether missing golden data fails the tests (`HUB_REQUIRE_GOLDEN=1`, as `cargo xtask ci`
/// runs them) instead of skipping them.
pub fn require_golden() -> bool {
    std::env::var("HUB_REQUIRE_GOLDEN").is_ok_and(|v| v == "1")
}

/// Prints why a test is skipped, or fails it when golden data is required.
pub fn skip(message: impl Display) {
    assert!(!require_golden(), "{message} and HUB_REQUIRE_GOLDEN=1");
    println!("{message}");
}

/// Tensor `name` of a golden safetensors file, in its stored dtype; `None` when the file has no
/// such tensor. A file that cannot be read fails the test, naming it.
pub fn safetensor(path: &Path, name: &str) -> Option<TensorData> {
    let mut store = SafetensorsStore::from_file(path);
    let snapshot = store
        .get_snapshot(name)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))?;
    Some(snapshot.to_data().unwrap_or_else(|e| panic!("reading `{name}` of {}: {e}", path.display())))
}

/// [`safetensor`] that must exist.
pub fn required_safetensor(path: &Path, name: &str) -> TensorData {
    safetensor(path, name).unwrap_or_else(|| panic!("no `{name}` in {}", path.display()))
}

/// A copy of `model` with every parameter and buffer in f64 (built by `build`, then filled):
/// run on an f64 input it estimates the exact output, which tells whether an error above the
/// tolerance is f32 rounding of the network itself.
pub fn model_in_f64<B: Backend, M: Module<B>>(model: &M, build: impl FnOnce() -> M) -> M {
    let snapshots: Vec<TensorSnapshot> = model
        .collect(None, None, true)
        .into_iter()
        .map(|s| {
            TensorSnapshot::from_data(
                s.to_data().unwrap().convert_dtype(DType::F64),
                s.path_stack.clone().unwrap_or_default(),
                s.container_stack.clone().unwrap_or_default(),
                s.tensor_id.unwrap_or_default(),
            )
        })
        .collect();
    let mut model64 = build();
    let result = model64.apply(snapshots, None, None, true);
    assert!(result.errors.is_empty() && result.missing.is_empty());
    model64
}
