//! Loading PyTorch (`.pth`/`.pt`) and safetensors weights into burn modules.
//!
//! Every model family loads its weights through [`load_pytorch`] or [`load_safetensors`]. Both read
//! the file through burn-store (`PytorchStore` reads zip and legacy pickle checkpoints without
//! executing any code from them; `SafetensorsStore` reads safetensors), rename the keys with the
//! family's regex remaps, and then **check the file against the model before anything is applied**:
//!
//! - *missing*: a parameter of the model that the file does not have;
//! - *unexpected*: a tensor of the file that the model does not use, except the harmless ones
//!   ([`ImportOptions::ignore`], by default BatchNorm's `num_batches_tracked` counter);
//! - *mismatched*: a tensor whose shape differs from the parameter's, or whose element type cannot
//!   be converted to the parameter's (floats are converted to floats, e.g. an f16 checkpoint loads
//!   into an f32 model).
//!
//! A strict load (the default) fails with [`ImportError::Mismatch`] naming the file and those keys,
//! and leaves the model untouched. A non-strict load applies what matches and returns the
//! [`ImportReport`]. Validating first matters: a panic inside burn-store's apply aborts the process.
//!
//! Layout conventions follow PyTorch, through burn-store's `PyTorchToBurnAdapter`: `nn.Linear`
//! weights are transposed (`[out, in]` → burn's `[in, out]`), and BatchNorm/LayerNorm/GroupNorm
//! `weight`/`bias` are loaded into burn's `gamma`/`beta`. Index numbering of `nn.Sequential` keys is
//! kept as in the file (`features.3.weight` stays `features.3.weight`): our models mirror torch's
//! indices, so no contiguous renumbering happens.

mod options;
mod params;
mod report;
mod sniff;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::DType;
use burn_store::{ModuleAdapter, ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter, PytorchStore, SafetensorsStore, TensorSnapshot};

pub use options::{ImportOptions, NUM_BATCHES_TRACKED};
pub use params::{parameter_count, state_dict_shapes};
pub use report::{ImportError, ImportReport, Mismatch};
pub use sniff::{sniff_checkpoint, CheckpointKind};

use options::{key_remapper, pattern_filter};
use params::expected_params;
use report::{aux_hint, nesting_hint};

/// Loads a PyTorch checkpoint (zip or legacy pickle `.pth`/`.pt`, a state dict or a dictionary
/// holding one under [`ImportOptions::top_level_key`]) into `model`.
///
/// The format is recognised by content ([`sniff_checkpoint`]): a safetensors file given here
/// loads as safetensors (without a top-level key), whatever its name.
///
/// Returns the loaded model and what was matched. With [`ImportOptions::strict`] any missing,
/// unexpected or mismatched key is an [`ImportError::Mismatch`]; otherwise the matching tensors
/// are applied and the rest is listed in the [`ImportReport`].
pub fn load_pytorch<B, M>(
    model: M,
    path: impl AsRef<Path>,
    options: &ImportOptions,
) -> Result<(M, ImportReport), ImportError>
where
    B: Backend,
    M: Module<B>,
{
    let path = path.as_ref();
    let remapper = key_remapper(options)?; // a bad pattern is the caller's error, whatever the file holds
    // Either store keeps the file's own indices and leaves the matching to `load_snapshots`; it
    // lives until then (the snapshots read their data through it).
    let (mut safetensors, mut pytorch);
    let file = match sniff_checkpoint(path)? {
        CheckpointKind::Safetensors => {
            safetensors = SafetensorsStore::from_file(path).remap(remapper).map_indices_contiguous(false).allow_partial(true).validate(false);
            safetensors.get_all_snapshots().map_err(|source| ImportError::ReadSafetensors { path: path.to_path_buf(), source })?
        }
        _ => {
            pytorch = PytorchStore::from_file(path).remap(remapper).map_indices_contiguous(false).allow_partial(true).validate(false);
            if let Some(key) = &options.top_level_key {
                pytorch = pytorch.with_top_level_key(key.as_str());
            }
            pytorch.get_all_snapshots().map_err(|source| ImportError::ReadPytorch { path: path.to_path_buf(), source })?
        }
    };
    load_snapshots(model, path, file, options)
}

/// The tensor names of a checkpoint as the file stores them (before any remap; under
/// [`ImportOptions::top_level_key`] for PyTorch files), read without loading the tensors: for
/// the families whose structure the checkpoint decides.
pub fn checkpoint_keys(path: impl AsRef<Path>, options: &ImportOptions) -> Result<Vec<String>, ImportError> {
    let path = path.as_ref();
    match sniff_checkpoint(path)? {
        CheckpointKind::Safetensors => {
            let mut store = SafetensorsStore::from_file(path);
            store.keys().map_err(|source| ImportError::ReadSafetensors { path: path.to_path_buf(), source })
        }
        _ => {
            let mut store = PytorchStore::from_file(path);
            if let Some(key) = &options.top_level_key {
                store = store.with_top_level_key(key.as_str());
            }
            store.keys().map_err(|source| ImportError::ReadPytorch { path: path.to_path_buf(), source })
        }
    }
}

/// Loads a safetensors file holding tensors in PyTorch layout (as written by
/// `safetensors.torch.save_file` or the Hugging Face hub) into `model`.
///
/// Same matching rules and result as [`load_pytorch`]; [`ImportOptions::top_level_key`] does not
/// apply (safetensors files are flat). The format is recognised by content: a PyTorch checkpoint
/// given here loads as one.
pub fn load_safetensors<B: Backend, M: Module<B>>(model: M, path: impl AsRef<Path>, options: &ImportOptions) -> Result<(M, ImportReport), ImportError> {
    load_pytorch(model, path, options)
}

/// Element types that convert without surprise: float to float, integer to integer.
fn convertible(from: DType, to: DType) -> bool {
    (from.is_float() && to.is_float())
        || ((from.is_int() || from.is_uint()) && (to.is_int() || to.is_uint()))
}

fn load_snapshots<B: Backend, M: Module<B>>(
    mut model: M,
    path: &Path,
    file: &BTreeMap<String, TensorSnapshot>,
    options: &ImportOptions,
) -> Result<(M, ImportReport), ImportError> {
    let ignore = pattern_filter(&options.ignore)?;
    let optional = pattern_filter(&options.optional)?;
    let mut report = ImportReport::default();
    let mut used: HashSet<&str> = HashSet::new();
    let mut to_apply: Vec<TensorSnapshot> = Vec::new();
    let mut casts: HashMap<String, DType> = HashMap::new();

    for param in expected_params(&model) {
        // The applier looks up the burn path first, then the PyTorch name; mirror that order.
        let found = [&param.burn_path, &param.torch_path]
            .into_iter()
            .find_map(|key| file.get_key_value(key.as_str()));
        let Some((key, snapshot)) = found else {
            if optional.matches(&param.torch_path) {
                report.initialized.push(param.torch_path);
            } else {
                report.missing.push(param.torch_path);
            }
            continue;
        };
        used.insert(key.as_str());
        let shape = snapshot.shape.to_vec();
        if shape != param.torch_shape {
            report.mismatched.push(Mismatch::Shape {
                key: key.clone(),
                expected: param.torch_shape,
                found: shape,
            });
            continue;
        }
        if snapshot.dtype != param.dtype {
            if !convertible(snapshot.dtype, param.dtype) {
                report.mismatched.push(Mismatch::DType {
                    key: key.clone(),
                    expected: param.dtype,
                    found: snapshot.dtype,
                });
                continue;
            }
            report.converted.push((key.clone(), snapshot.dtype));
            casts.insert(param.burn_path.clone(), param.dtype);
        }
        report.applied.push(key.clone());
        to_apply.push(snapshot.clone());
    }
    for key in file.keys() {
        if used.contains(key.as_str()) {
            continue;
        }
        if ignore.matches(key) {
            report.ignored.push(key.clone());
        } else {
            report.unexpected.push(key.clone());
        }
    }

    if options.strict && !report.is_complete() {
        let hint = nesting_hint(&report.missing, &report.unexpected).or_else(|| aux_hint(&report.missing, &report.unexpected));
        return Err(ImportError::Mismatch {
            path: path.to_path_buf(),
            missing: report.missing,
            unexpected: report.unexpected,
            mismatched: report.mismatched,
            hint,
        });
    }

    let adapter = PyTorchToBurnAdapter.chain(CastAdapter {
        targets: Arc::new(casts),
    });
    let expected_count = to_apply.len();
    let result = model.apply(to_apply, None, Some(Box::new(adapter)), true);
    if !result.errors.is_empty() || result.applied.len() != expected_count {
        return Err(ImportError::Apply {
            path: path.to_path_buf(),
            errors: result.errors,
        });
    }
    Ok((model, report))
}

/// Converts tensors to the element type of the parameter they load into (keyed by burn path).
#[derive(Clone)]
struct CastAdapter {
    targets: Arc<HashMap<String, DType>>,
}

impl ModuleAdapter for CastAdapter {
    fn adapt(&self, snapshot: &TensorSnapshot) -> TensorSnapshot {
        let Some(&target) = self.targets.get(&snapshot.full_path()) else {
            return snapshot.clone();
        };
        let data_fn = snapshot.clone_data_fn();
        TensorSnapshot::from_closure(
            Rc::new(move || data_fn().map(|data| data.convert_dtype(target))),
            target,
            snapshot.shape.clone(),
            snapshot.path_stack.clone().unwrap_or_default(),
            snapshot.container_stack.clone().unwrap_or_default(),
            snapshot.tensor_id.unwrap_or_default(),
        )
    }

    fn clone_box(&self) -> Box<dyn ModuleAdapter> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::nn::conv::{Conv2d, Conv2dConfig};
    use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
    use burn::tensor::{Distribution, Tensor, TensorData};
    use burn_store::{BurnToPyTorchAdapter, PathFilter};

    type B = Flex;

    #[derive(Module, Debug)]
    struct Tiny<B: Backend> {
        conv: Conv2d<B>,
        bn: BatchNorm<B>,
        fc: Linear<B>,
    }

    fn tiny(fc_out: usize) -> Tiny<B> {
        let device = Default::default();
        Tiny {
            conv: Conv2dConfig::new([3, 4], [3, 3]).init(&device),
            bn: BatchNormConfig::new(4).init(&device),
            fc: LinearConfig::new(4, fc_out).init(&device),
        }
    }

    /// A `Tiny` with every parameter and running statistic random (so a load is visible).
    fn random_tiny() -> Tiny<B> {
        let device = Default::default();
        let mut model = tiny(2);
        let snapshots: Vec<TensorSnapshot> = model
            .collect(None, None, true)
            .into_iter()
            .map(|s| {
                let t = Tensor::<B, 1>::random(
                    [s.shape.num_elements()],
                    Distribution::Uniform(0.5, 1.5),
                    &device,
                );
                TensorSnapshot::from_data(
                    TensorData::new(t.into_data().to_vec::<f32>().unwrap(), s.shape.to_vec()),
                    s.path_stack.clone().unwrap_or_default(),
                    s.container_stack.clone().unwrap_or_default(),
                    s.tensor_id.unwrap_or_default(),
                )
            })
            .collect();
        let result = model.apply(snapshots, None, None, true);
        assert!(result.errors.is_empty() && result.missing.is_empty());
        model
    }

    /// Writes `model` as a PyTorch-layout safetensors file, keys renamed by `remap`.
    fn save(model: &Tiny<B>, path: &Path, remap: Option<(&str, &str)>) {
        let mut store = SafetensorsStore::from_file(path)
            .with_to_adapter(BurnToPyTorchAdapter)
            .overwrite(true);
        if let Some((from, to)) = remap {
            store = store.with_key_remapping(from, to);
        }
        model.save_into(&mut store).unwrap();
    }

    fn params(model: &Tiny<B>) -> Vec<(String, Vec<f32>)> {
        model
            .collect(None, None, true)
            .into_iter()
            .map(|s| (s.full_path(), s.to_data().unwrap().to_vec::<f32>().unwrap()))
            .collect()
    }

    #[test]
    fn safetensors_round_trip_with_module_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.safetensors");
        let source = random_tiny();
        // DataParallel-style keys: `module.conv.weight`, `module.bn.weight`, ...
        save(&source, &path, Some(("^", "module.")));

        let (loaded, report) = load_safetensors(tiny(2), &path, &ImportOptions::new()).unwrap();
        assert!(report.is_complete(), "{report:?}");
        assert!(report.applied.contains(&"bn.weight".to_string()));
        assert!(report.applied.contains(&"bn.running_var".to_string()));
        assert_eq!(params(&loaded), params(&source));
        assert_ne!(params(&tiny(2)), params(&source));
    }

    #[test]
    fn strict_load_names_the_bad_keys_and_lenient_load_reports_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.safetensors");
        let source = random_tiny();
        // `bn.*` renamed to `norm.*`: the model misses bn.*, the file has unexpected norm.*.
        save(&source, &path, Some((r"^bn\.", "norm.")));

        // fc is [out=3] in the target, [out=2] in the file.
        let err = load_safetensors(tiny(3), &path, &ImportOptions::new()).unwrap_err();
        let ImportError::Mismatch {
            path: err_path,
            missing,
            unexpected,
            mismatched,
            ..
        } = &err
        else {
            panic!("expected a mismatch, got {err}");
        };
        assert_eq!(err_path, &path);
        assert!(missing.contains(&"bn.weight".to_string()), "{missing:?}");
        assert!(missing.contains(&"bn.running_mean".to_string()));
        assert!(
            unexpected.contains(&"norm.bias".to_string()),
            "{unexpected:?}"
        );
        assert!(mismatched.iter().any(|m| matches!(m,
            Mismatch::Shape { key, expected, found }
                if key == "fc.weight" && expected == &vec![3, 4] && found == &vec![2, 4])));
        let message = err.to_string();
        assert!(message.contains("bn.weight") && message.contains("tiny.safetensors"));

        let (loaded, report) =
            load_safetensors(tiny(3), &path, &ImportOptions::new().strict(false)).unwrap();
        assert!(!report.is_complete());
        assert_eq!(
            report.applied,
            vec!["conv.weight".to_string(), "conv.bias".to_string()]
        );
        let conv = |m: &Tiny<B>| m.conv.weight.val().into_data().to_vec::<f32>().unwrap();
        assert_eq!(conv(&loaded), conv(&source));

        // The same file with the rename undone loads strictly.
        let options = ImportOptions::new().with_remaps([(r"^norm\.", "bn.")]);
        let (loaded, report) = load_safetensors(tiny(2), &path, &options).unwrap();
        assert!(report.is_complete());
        assert_eq!(params(&loaded), params(&source));
    }

    #[test]
    fn harmless_keys_are_ignored_and_nesting_is_hinted() {
        assert!(PathFilter::new()
            .with_regex(NUM_BATCHES_TRACKED)
            .matches("features.1.num_batches_tracked"));
        assert!(!PathFilter::new()
            .with_regex(NUM_BATCHES_TRACKED)
            .matches("features.1.running_mean"));
        let hint = nesting_hint(
            &["fc.weight".into(), "fc.bias".into()],
            &["state_dict.fc.weight".into(), "state_dict.fc.bias".into()],
        );
        assert!(hint.unwrap().contains("`state_dict`"));
        assert_eq!(nesting_hint(&["a.b".into()], &["x.y".into()]), None);
    }

    #[test]
    fn auxiliary_heads_alone_hint_the_aux_logits_config() {
        let aux = ["AuxLogits.fc.weight".to_string(), "AuxLogits.fc.bias".to_string()];
        let fc = ["fc.weight".to_string()];
        assert!(aux_hint(&[], &aux).unwrap().contains("aux_logits=true"));
        assert!(aux_hint(&["aux1.fc1.weight".into()], &[]).unwrap().contains("aux_logits=false"));
        assert_eq!(aux_hint(&fc, &aux), None, "other keys differ too");
        assert_eq!(aux_hint(&[], &fc), None);
        assert_eq!(aux_hint(&[], &[]), None);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("absent.pth");
        let err = load_pytorch(tiny(2), &missing, &ImportOptions::new()).unwrap_err();
        assert!(matches!(err, ImportError::Open { ref path, .. } if path == &missing));

        let garbage = dir.path().join("garbage.pth");
        std::fs::write(&garbage, b"not a checkpoint").unwrap();
        let err = load_pytorch(tiny(2), &garbage, &ImportOptions::new()).unwrap_err();
        assert!(matches!(err, ImportError::UnknownFormat { size: 16, .. }), "{err}");
        assert!(err.to_string().contains(r#"start with b"not a checkpoint""#), "{err}");
        // A zip that is no checkpoint still gets burn-store's error.
        let zip = dir.path().join("zip.pth");
        std::fs::write(&zip, b"PK\x03\x04 broken").unwrap();
        let err = load_pytorch(tiny(2), &zip, &ImportOptions::new()).unwrap_err();
        assert!(matches!(err, ImportError::ReadPytorch { .. }), "{err}");

        let options = ImportOptions::new().with_remaps([("(", "x")]);
        let err = load_pytorch(tiny(2), &garbage, &options).unwrap_err();
        assert!(matches!(err, ImportError::InvalidPattern { ref pattern, .. } if pattern == "("));
    }

    #[test]
    fn errors_cross_threads() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<ImportError>();
    }
}
