//! Parity with PyTorch for the segmentation models (`hub_models::segmentation`), burn's
//! bilinear `interpolate` and the `SemanticSegmentation` transform.
//!
//! For every entry in `target/golden/seg/` (written by `xtask/golden/seg.py` with real
//! torchvision), build the model from the family table (with meta.json's `num_classes` and
//! `aux_loss`), load `model.pth` strictly through `hub_models::import::load_pytorch`, run the
//! golden `input` and require `max|burn - torch| <= 1e-4 * max|torch|` on `out` and, when the
//! model has one, on `aux`.
//!
//! Without golden data each test prints why it is skipped and passes, unless
//! `HUB_REQUIRE_GOLDEN=1`, which turns a missing entry into a failure. `HUB_GOLDEN_SEG_DIR`
//! overrides the location of the `seg` directory. Run with `--nocapture` to see the errors.

mod common;

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::prelude::*;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::DType;
use hub_models::import::{load_pytorch, ImportOptions};
use hub_models::segmentation::{self, preprocess::SemanticSegmentation, Segmentation};

type B = Flex;

/// Relative tolerance of the data contract.
const TOLERANCE: f32 = 1e-4;

/// The golden folder `name` if all `files` are there, or `None` (after printing why).
fn golden(name: &str, files: &[&str]) -> Option<PathBuf> {
    common::SEG.entry(&format!("parity {name}"), name, files)
}

fn read_tensor(path: &Path, name: &str) -> Option<TensorData> {
    common::safetensor(path, name).map(|d| d.convert::<f32>())
}

fn max_abs_diff(a: Tensor<B, 4>, b: Tensor<B, 4>) -> f32 {
    (a - b).abs().max().into_scalar()
}

fn max_abs(a: Tensor<B, 4>) -> f32 {
    a.abs().max().into_scalar()
}

/// The model's configuration from the family table and meta.json's kwargs.
fn config_for(entry: &str, dir: &Path) -> segmentation::SegmentationConfig {
    let kwargs = common::meta_kwargs(dir);
    let mut config = segmentation::config(entry).expect("entry in the family table");
    for (key, value) in &kwargs {
        match key.as_str() {
            "num_classes" => config.num_classes = value.as_u64().unwrap() as usize,
            "aux_loss" => config.aux_loss = value.as_bool().unwrap(),
            other => panic!("meta.json kwarg `{other}` has no Rust counterpart in this test"),
        }
    }
    config
}

/// The same model with every tensor in f64, run on the f64 input: an estimate of the exact
/// outputs, used when f32 rounding of a deep random network is itself above the tolerance.
fn forward_f64(
    model: &Segmentation<B>,
    build: &dyn Fn() -> Segmentation<B>,
    input: &TensorData,
) -> segmentation::SegOutput<B> {
    let device = Default::default();
    let model64 = common::model_in_f64(model, build);
    let x = Tensor::<B, 4>::from_data(
        input.clone().convert_dtype(DType::F64),
        (&device, DType::F64),
    );
    let y = model64.forward(x);
    let to_f32 =
        |t: Tensor<B, 4>| Tensor::<B, 4>::from_data(t.into_data().convert::<f32>(), &device);
    segmentation::SegOutput {
        out: to_f32(y.out),
        aux: y.aux.map(to_f32),
    }
}

fn check(entry: &str) {
    let Some(dir) = golden(entry, common::ENTRY_FILES) else {
        return;
    };
    let device = Default::default();
    let config = config_for(entry, &dir);
    let build = || config.init::<B>(&device);
    let io = dir.join("io.safetensors");
    let input = read_tensor(&io, "input").expect("golden input");
    let expected_out = read_tensor(&io, "out").expect("golden out");
    let expected_aux = read_tensor(&io, "aux");

    let start = std::time::Instant::now();
    let options = ImportOptions::new().with_remaps(segmentation::weights::remaps());
    let (model, report) = load_pytorch(build(), dir.join("model.pth"), &options)
        .unwrap_or_else(|e| panic!("{entry}: strict load failed: {e}"));
    assert!(report.is_complete(), "{report:?}");
    let loaded = start.elapsed().as_secs_f32();
    let y = model.forward(Tensor::from_data(input.clone(), &device));
    let elapsed = start.elapsed().as_secs_f32();
    assert_eq!(
        y.aux.is_some(),
        expected_aux.is_some(),
        "{entry}: the model and the golden data disagree on the auxiliary output"
    );
    let outputs = [
        ("out", Some(y.out), Some(expected_out)),
        ("aux", y.aux, expected_aux),
    ];
    let mut exact = None;
    for (name, got, expected) in outputs {
        let (Some(got), Some(expected)) = (got, expected) else {
            continue;
        };
        let expected = Tensor::<B, 4>::from_data(expected, &device);
        assert_eq!(got.dims(), expected.dims(), "{entry}[{name}]: output shape");
        let scale = max_abs(expected.clone());
        assert!(scale > 0.0, "golden {name} of {entry} is all zeros");
        let err = max_abs_diff(got.clone(), expected.clone());
        println!(
            "parity {entry}[{name}]: max|burn-torch| = {err:.3e}, max|torch| = {scale:.3e}, \
             relative = {:.3e} (load {loaded:.1} s, load + forward {elapsed:.1} s)",
            err / scale
        );
        if err > TOLERANCE * scale {
            // As in parity_vision_a: deep random networks amplify f32 rounding; then burn must
            // be as close to the exact (f64) answer as torch is, and within 1e-3 of torch.
            let exact = exact.get_or_insert_with(|| forward_f64(&model, &build, &input));
            let reference = if name == "out" {
                exact.out.clone()
            } else {
                exact.aux.clone().expect("aux in f64")
            };
            let torch_err = max_abs_diff(reference.clone(), expected);
            let burn_err = max_abs_diff(reference, got);
            println!(
                "parity {entry}[{name}]: above 1e-4; vs f64: torch f32 off by {torch_err:.3e}, burn f32 off by {burn_err:.3e}"
            );
            assert!(
                err <= 10.0 * TOLERANCE * scale && burn_err <= 1.5 * torch_err,
                "{entry}[{name}]: max|burn-torch| = {err:e} > {TOLERANCE:e} * {scale:e}; the same \
                 network in f64 differs from torch's f32 output by {torch_err:e} and from burn's by {burn_err:e}",
            );
        }
    }
    println!(
        "parity {entry}: {:.1} s in all",
        start.elapsed().as_secs_f32()
    );
}

macro_rules! parity {
    ($($test:ident),* $(,)?) => {$(
        #[test]
        fn $test() {
            check(stringify!($test));
        }
    )*};
}

parity! {
    fcn_resnet50,
    fcn_resnet101,
    deeplabv3_resnet50,
    deeplabv3_resnet101,
    deeplabv3_mobilenet_v3_large,
    lraspp_mobilenet_v3_large,
}

/// The entries above cover the family's table.
#[test]
fn every_variant_has_a_parity_test() {
    let source = include_str!("parity_seg.rs");
    for id in segmentation::VARIANTS {
        assert!(
            source.contains(&format!("    {id},\n")),
            "{id} has no parity test"
        );
    }
}

/// burn's bilinear `interpolate` with `align_corners = false` is PyTorch's (up, down and mixed
/// scaling; the models rely on it for their outputs and ASPP's pooling branch).
///
/// Not bit for bit: PyTorch's CPU kernel computes the source coordinate
/// `(dst + 0.5) · in / out − 0.5` and the blend weights in `float`, burn-flex in `double`; the
/// weights then differ by an ulp of the coordinate (~5e-7 here), times the step between
/// neighbouring values. A wrong pixel mapping (align_corners, no half-pixel offset) would be off
/// by ~1e-1.
#[test]
fn bilinear_interpolate_matches_pytorch() {
    let Some(dir) = golden("_interpolate", &["io.safetensors"]) else {
        return;
    };
    let device = Default::default();
    let io = dir.join("io.safetensors");
    let x = Tensor::<B, 4>::from_data(read_tensor(&io, "x").unwrap(), &device);
    for name in ["up", "down", "mixed"] {
        let expected = Tensor::<B, 4>::from_data(read_tensor(&io, name).unwrap(), &device);
        let [_, _, h, w] = expected.dims();
        let options = InterpolateOptions::new(InterpolateMode::Bilinear).with_align_corners(false);
        let got = interpolate(x.clone(), [h, w], options);
        let err = max_abs_diff(got, expected.clone());
        let scale = max_abs(expected);
        println!("parity interpolate[{name}] to {h}x{w}: max|burn-torch| = {err:.3e} (max|torch| = {scale:.3e})");
        assert!(err <= 1e-5 * scale, "interpolate {name}: {err:e}");
    }
}

/// `SemanticSegmentation` (resize shorter side to 520, bilinear antialias, ImageNet mean/std)
/// against torchvision's preset on a decoded PNG.
#[test]
fn semantic_segmentation_transform_matches_torchvision() {
    let Some(dir) = golden("_preprocess", &["image.png", "expected.safetensors"]) else {
        return;
    };
    let device = Default::default();
    let expected = read_tensor(&dir.join("expected.safetensors"), "output").unwrap();
    let [c, h, w] = expected.shape.as_slice().try_into().expect("[3, H, W]");
    let expected = Tensor::<B, 3>::from_data(expected, &device).reshape([1, c, h, w]);
    let (got, resized) = SemanticSegmentation::default()
        .from_file::<B>(&dir.join("image.png"), &device)
        .unwrap();
    assert_eq!(
        (resized.width() as usize, resized.height() as usize),
        (w, h)
    );
    assert_eq!(got.dims(), expected.dims());
    let diff = (got - expected).abs();
    let err: f32 = diff.clone().max().into_scalar();
    // One grey level, normalised by the smallest std, is the most a rounding difference of
    // the 8-bit resize can move a value.
    let grey = 1.0 / (255.0 * 0.224);
    let off = diff.greater_elem(1e-5).int().sum().into_scalar() as i64;
    println!(
        "parity SemanticSegmentation: max diff {err:.3e}, {off} of {} values differ",
        3 * h * w
    );
    assert!(err <= grey * 1.001, "max diff {err}");
    assert!(
        off as f64 <= 1e-3 * (3 * h * w) as f64,
        "{off} values differ"
    );
}
