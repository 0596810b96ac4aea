//! Helpers shared by the parity tests (each test file includes this module).
#![allow(dead_code)]

use std::path::Path;

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, TensorData};
use burn_store::{ModuleSnapshot, ModuleStore, SafetensorsStore, TensorSnapshot};

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
