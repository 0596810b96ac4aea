//! Parity with PyTorch for the AlexNet, VGG, ResNet, DenseNet, SqueezeNet, GoogLeNet and
//! Inception v3 families.
//!
//! For every entry present in `target/golden/vision/` (written by `cargo xtask golden` with real
//! torchvision, see the data contract), build the model, load `model.pth` (and
//! `model_legacy.pth` when present) strictly through `hub_models::import::load_pytorch`, run the
//! golden `input` and require `max|burn - torch| <= 1e-4 * max|torch|`.
//!
//! Without golden data each test prints why it is skipped and passes, unless
//! `HUB_REQUIRE_GOLDEN=1`, which turns a missing entry into a failure. `HUB_GOLDEN_DIR`
//! overrides the location of the `vision` directory. Run with `--nocapture` to see the errors.

mod common;

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::module::Module;
use burn::prelude::*;
use burn::tensor::DType;
use hub_models::import::{load_pytorch, ImportOptions};
use hub_models::vision::{alexnet, densenet, googlenet, inception, resnet, squeezenet, vgg};

type B = Flex;

/// Relative tolerance of the data contract.
const TOLERANCE: f32 = 1e-4;

/// A boolean kwarg, if given.
fn flag(kwargs: &serde_json::Map<String, serde_json::Value>, key: &str) -> Option<bool> {
    kwargs.get(key).map(|v| {
        v.as_bool()
            .unwrap_or_else(|| panic!("kwarg {key} = {v} is not a boolean"))
    })
}

/// The golden folder of `entry` and `meta.json`'s kwargs, or `None` (after printing why) without
/// them. Fails on a kwarg outside `known`: the test does not translate it into the Rust config
/// (it would be ignored).
fn golden_entry(entry: &str, known: &[&str]) -> Option<(PathBuf, serde_json::Map<String, serde_json::Value>)> {
    let dir = common::vision_entry(entry)?;
    let kwargs = common::meta_kwargs(&dir);
    for key in kwargs.keys() {
        // `init_weights` only selects torchvision's random initialiser; the weights come from
        // the checkpoint.
        assert!(
            key == "init_weights" || known.contains(&key.as_str()),
            "meta.json kwarg `{key}` has no Rust counterpart in this test"
        );
    }
    Some((dir, kwargs))
}

fn read_tensor(path: &Path, name: &str) -> TensorData {
    common::required_safetensor(path, name).convert::<f32>()
}

fn max_abs_diff(a: Tensor<B, 2>, b: Tensor<B, 2>) -> f32 {
    (a - b).abs().max().into_scalar()
}

/// The same model with every tensor in f64, run on the f64 input: an estimate of the exact
/// output, used to explain a failure (how far f32 arithmetic itself is from the true value).
fn forward_f64<M: Module<B>>(
    model: &M,
    build: &dyn Fn() -> M,
    forward: &dyn Fn(&M, Tensor<B, 4>) -> Tensor<B, 2>,
    input: &TensorData,
) -> Tensor<B, 2> {
    let device = Default::default();
    let model64 = common::model_in_f64(model, build);
    let x = Tensor::<B, 4>::from_data(
        input.clone().convert_dtype(DType::F64),
        (&device, DType::F64),
    );
    let out = forward(&model64, x).into_data().convert::<f32>();
    Tensor::from_data(out, &device)
}

/// The parity check of one entry against its golden files.
fn check<M: Module<B>>(
    entry: &str,
    dir: &Path,
    build: &dyn Fn() -> M,
    remaps: fn() -> Vec<(&'static str, &'static str)>,
    forward: &dyn Fn(&M, Tensor<B, 4>) -> Tensor<B, 2>,
) {
    let device = Default::default();
    let io = dir.join("io.safetensors");
    let input = read_tensor(&io, "input");
    let expected = Tensor::<B, 2>::from_data(read_tensor(&io, "output"), &device);
    let scale: f32 = expected.clone().abs().max().into_scalar();
    assert!(scale > 0.0, "golden output of {entry} is all zeros");

    for file in common::checkpoints(dir) {
        let start = std::time::Instant::now();
        let model = common::load_strict(build(), &file, remaps());
        let out = forward(&model, Tensor::from_data(input.clone(), &device));
        assert_eq!(out.dims(), expected.dims(), "output shape");
        let err = max_abs_diff(out.clone(), expected.clone());
        common::print_error(entry, &file, err, scale, start);
        let name = file.file_name().unwrap().to_string_lossy();
        if err > TOLERANCE * scale {
            // Deep random networks amplify f32 rounding: then torch's own f32 output is no
            // closer to the exact (f64) answer than 1e-4. Such an entry passes only if burn is
            // as close to the exact answer as torch is (within 1.5x) and within 1e-3 of torch.
            let exact = forward_f64(&model, build, forward, &input);
            let torch_err = max_abs_diff(exact.clone(), expected.clone());
            let burn_err = max_abs_diff(exact, out);
            println!(
                "parity {entry} ({name}): above 1e-4; vs f64: torch f32 off by {torch_err:.3e}, burn f32 off by {burn_err:.3e}"
            );
            assert!(
                err <= 10.0 * TOLERANCE * scale && burn_err <= 1.5 * torch_err,
                "{entry} ({name}): max|burn-torch| = {err:e} > {TOLERANCE:e} * {scale:e}; \
                 the same network in f64 differs from torch's f32 output by {torch_err:e} \
                 and from burn's f32 output by {burn_err:e}",
            );
        }
    }
}

macro_rules! parity {
    ($($test:ident: $entry:literal => $family:ident),* $(,)?) => {$(
        #[test]
        fn $test() {
            let Some((dir, _)) = golden_entry($entry, &[]) else { return };
            let device = Default::default();
            let config = $family::config($entry).expect("entry in the family table");
            check($entry, &dir, &|| config.init::<B>(&device), $family::weights::remaps, &|m, x| m.forward(x));
        }
    )*};
}

parity! {
    alexnet: "alexnet" => alexnet,
    vgg11: "vgg11" => vgg,
    vgg13: "vgg13" => vgg,
    vgg16: "vgg16" => vgg,
    vgg19: "vgg19" => vgg,
    vgg11_bn: "vgg11_bn" => vgg,
    vgg13_bn: "vgg13_bn" => vgg,
    vgg16_bn: "vgg16_bn" => vgg,
    vgg19_bn: "vgg19_bn" => vgg,
    resnet18: "resnet18" => resnet,
    resnet34: "resnet34" => resnet,
    resnet50: "resnet50" => resnet,
    resnet101: "resnet101" => resnet,
    resnet152: "resnet152" => resnet,
    resnext50_32x4d: "resnext50_32x4d" => resnet,
    resnext101_32x8d: "resnext101_32x8d" => resnet,
    resnext101_64x4d: "resnext101_64x4d" => resnet,
    wide_resnet50_2: "wide_resnet50_2" => resnet,
    wide_resnet101_2: "wide_resnet101_2" => resnet,
    densenet121: "densenet121" => densenet,
    densenet161: "densenet161" => densenet,
    densenet169: "densenet169" => densenet,
    densenet201: "densenet201" => densenet,
    squeezenet1_0: "squeezenet1_0" => squeezenet,
    squeezenet1_1: "squeezenet1_1" => squeezenet,
}

/// GoogLeNet and Inception v3 read `aux_logits` / `transform_input` from meta.json.
macro_rules! parity_aux {
    ($($test:ident: $entry:literal => $family:ident),* $(,)?) => {$(
        #[test]
        fn $test() {
            let Some((dir, kwargs)) = golden_entry($entry, &["aux_logits", "transform_input"]) else { return };
            let device = Default::default();
            let mut config = $family::config($entry).expect("entry in the family table");
            if let Some(aux) = flag(&kwargs, "aux_logits") {
                config.aux_logits = aux;
            }
            if let Some(transform) = flag(&kwargs, "transform_input") {
                config.transform_input = transform;
            }
            check($entry, &dir, &|| config.init::<B>(&device), $family::weights::remaps, &|m, x| m.forward(x));
        }
    )*};
}

parity_aux! {
    googlenet: "googlenet" => googlenet,
    googlenet_aux: "googlenet_aux" => googlenet,
    inception_v3: "inception_v3" => inception,
}

/// The table of entries above covers every variant of the seven families.
#[test]
fn every_variant_has_a_parity_test() {
    let source = include_str!("parity_vision_a.rs");
    let variants = [
        alexnet::VARIANTS,
        vgg::VARIANTS,
        resnet::VARIANTS,
        densenet::VARIANTS,
        squeezenet::VARIANTS,
        googlenet::VARIANTS,
        inception::VARIANTS,
    ];
    for id in variants.iter().flat_map(|v| v.iter()) {
        assert!(
            source.contains(&format!("\"{id}\" =>")),
            "{id} has no parity test"
        );
    }
}

/// torchvision's published DenseNet checkpoints use the pre-1.0 key names
/// (`denselayer1.norm.1.weight`). Rename the golden densenet121 keys to that style on the fly
/// and check that the family's remaps still load everything strictly, with the same output.
#[test]
fn densenet121_legacy_key_names() {
    let entry = "densenet121";
    let Some(dir) = common::vision_entry(entry) else { return };
    let device = Default::default();
    let io = dir.join("io.safetensors");
    let input = read_tensor(&io, "input");
    let expected = Tensor::<B, 2>::from_data(read_tensor(&io, "output"), &device);
    let scale: f32 = expected.clone().abs().max().into_scalar();
    // Current names → legacy names, then the family's own remaps (legacy → current → burn).
    let to_legacy = [(r"(denselayer\d+)\.(norm|conv)([12])\.", "$1.$2.$3.")];
    let options = ImportOptions::new()
        .with_remaps(to_legacy)
        .with_remaps(densenet::weights::remaps());
    // Without the family's remaps the legacy names really are unknown to the model.
    let fresh = densenet::config(entry).unwrap().init::<B>(&device);
    let err = load_pytorch(
        fresh,
        dir.join("model.pth"),
        &ImportOptions::new().with_remaps(to_legacy),
    )
    .expect_err("legacy names must not load without the remaps");
    assert!(
        err.to_string().contains("denselayer1.norm.1.weight"),
        "{err}"
    );
    let model = densenet::config(entry).unwrap().init::<B>(&device);
    let (model, report) = load_pytorch(model, dir.join("model.pth"), &options).unwrap();
    assert!(report.is_complete(), "{report:?}");
    let out = model.forward(Tensor::from_data(input, &device));
    let err = max_abs_diff(out, expected);
    println!("parity {entry} (legacy key names): max|burn-torch| = {err:.3e}");
    assert!(err <= TOLERANCE * scale);
}
