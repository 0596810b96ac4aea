//! The one parity harness of the image classifiers, driven by the registry: an entry's golden
//! folder names its torchvision builder and kwargs (`meta.json`); the registry finds the
//! architecture, the kwargs go through the manifest's own config parser, and every checkpoint
//! of the folder is loaded strictly through the family's remaps, as `hub run` loads them.

use std::path::Path;
use std::time::Instant;

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};
use hub_models::import::ImportOptions;
use hub_models::registry::{self, Architecture, ClassifierConfig, ImageClassifier};

/// Relative tolerance of the data contract: `max|burn - torch| <= 1e-4 · max|torch|`.
pub const TOLERANCE: f32 = 1e-4;

/// kwargs of torchvision's builders that only choose its random initialiser (the weights come
/// from the checkpoint).
const INIT_ONLY: &[&str] = &["init_weights"];

/// The architecture and config of a golden entry: the registry's entry of that name, else of
/// its builder (`None` when neither is one: a design of the golden script's own); `meta.json`'s
/// kwargs parsed as a manifest `config` table (an unknown kwarg fails the test, naming it).
pub fn architecture(entry: &str, dir: &Path) -> Option<(Architecture, ClassifierConfig)> {
    let meta = super::meta(dir);
    let builder = meta["builder"].as_str().unwrap_or(entry);
    let arch = registry::find(entry).or_else(|| registry::find(builder))?;
    let mut table = toml::Table::new();
    for (key, value) in super::meta_kwargs(dir) {
        if INIT_ONLY.contains(&key.as_str()) {
            continue;
        }
        let value = match value {
            serde_json::Value::Bool(b) => toml::Value::Boolean(b),
            serde_json::Value::Number(n) if n.is_i64() => toml::Value::Integer(n.as_i64().unwrap()),
            serde_json::Value::Number(n) => toml::Value::Float(n.as_f64().unwrap()),
            serde_json::Value::String(s) => toml::Value::String(s),
            other => panic!("{entry}: meta.json kwarg {key} = {other} has no manifest form"),
        };
        table.insert(key, value);
    }
    let config = ClassifierConfig::from_table(entry, &table).unwrap_or_else(|e| panic!("{entry}: meta.json kwargs: {e}"));
    Some((arch, config))
}

/// `arch` built with `config` on `device`, with the weights of `path` loaded strictly.
pub fn load<B: Backend>(arch: &Architecture, config: &ClassifierConfig, path: &Path, device: &B::Device) -> ImageClassifier<B> {
    let options = ImportOptions::new().with_remaps(arch.family.remaps());
    let model = arch.build::<B>(config, device).unwrap_or_else(|e| panic!("{}: {e}", arch.id));
    let (model, report) = model.load_pytorch(path, &options).unwrap_or_else(|e| panic!("strict load of {} failed: {e}", path.display()));
    assert!(report.is_complete(), "{}: {report:?}", path.display());
    model
}

/// The largest absolute difference of two outputs.
fn max_abs_diff<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>) -> f32 {
    (a - b).abs().max().into_data().convert::<f32>().to_vec::<f32>().unwrap()[0]
}

/// The parity check of one golden entry on backend `B`: every checkpoint of its folder
/// (`model.pth`, and `model_legacy.pth` when present) run on the golden input against PyTorch's
/// output. Deep random networks amplify f32 rounding, so that torch's own f32 output can be no
/// closer to the exact answer than 1e-4: with `f64_fallback`, an entry above the tolerance
/// still passes when burn's output is as close to the f64 answer as torch's is (within 1.5×)
/// and within 1e-3 of torch. Returns the largest relative error, or `None` (after printing why)
/// without golden data.
pub fn check<B: Backend>(entry: &str, device: &B::Device, f64_fallback: bool) -> Option<f32> {
    let dir = super::vision_entry(entry)?;
    let (arch, config) = architecture(entry, &dir).unwrap_or_else(|| panic!("{entry}: neither it nor its builder is a registry architecture"));
    let io = dir.join("io.safetensors");
    let read = |name| super::required_safetensor(&io, name).convert::<f32>();
    let input: TensorData = read("input");
    let expected = Tensor::<B, 2>::from_data(read("output"), device);
    let scale = expected.clone().abs().max().into_data().convert::<f32>().to_vec::<f32>().unwrap()[0];
    assert!(scale > 0.0, "golden output of {entry} is all zeros");
    let mut worst = 0f32;
    for file in super::checkpoints(&dir) {
        let start = Instant::now();
        let model = load::<B>(&arch, &config, &file, device);
        let out = model.forward(Tensor::from_data(input.clone(), device));
        assert_eq!(out.dims(), expected.dims(), "{entry}: output shape");
        let err = max_abs_diff(out.clone(), expected.clone());
        super::print_error(entry, &file, err, scale, start);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        worst = worst.max(err / scale);
        if err <= TOLERANCE * scale {
            continue;
        }
        assert!(f64_fallback, "{entry} ({name}): max|burn-torch| = {err:e} > {TOLERANCE:e} · {scale:e}");
        let model64 = model.into_dtype(DType::F64).unwrap();
        let x64 = Tensor::<B, 4>::from_data(input.clone().convert_dtype(DType::F64), (device, DType::F64));
        let exact = Tensor::<B, 2>::from_data(model64.forward(x64).into_data().convert::<f32>(), device);
        let torch_err = max_abs_diff(exact.clone(), expected.clone());
        let burn_err = max_abs_diff(exact, out);
        println!("parity {entry} ({name}): above 1e-4; vs f64: torch f32 off by {torch_err:.3e}, burn f32 off by {burn_err:.3e}");
        assert!(
            err <= 10.0 * TOLERANCE * scale && burn_err <= 1.5 * torch_err,
            "{entry} ({name}): max|burn-torch| = {err:e} > {TOLERANCE:e} · {scale:e}; the same network in f64 differs \
             from torch's f32 output by {torch_err:e} and from burn's f32 output by {burn_err:e}",
        );
    }
    Some(worst)
}

/// One `#[test]` per entry, each [`check`]ed on flex with the f64 fallback.
#[macro_export]
macro_rules! vision_parity {
    ($($entry:ident),+ $(,)?) => {$(
        #[test]
        fn $entry() {
            common::vision::check::<burn::backend::Flex>(stringify!($entry), &Default::default(), true);
        }
    )+};
}
