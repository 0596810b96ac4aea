//! Parity with PyTorch for the AlexNet, VGG, ResNet, DenseNet, SqueezeNet, GoogLeNet and
//! Inception v3 families, through the registry-driven harness of `common::vision`.
//!
//! For every entry present in `target/golden/vision/` (written by `cargo xtask golden` with real
//! torchvision, see the data contract), build the registry's architecture with `meta.json`'s
//! kwargs, load `model.pth` (and `model_legacy.pth` when present) strictly through the import
//! path, run the golden `input` and require `max|burn - torch| <= 1e-4 * max|torch|` (or, for
//! deep networks whose f32 rounding torch shares, as close to the f64 answer as torch).
//!
//! Without golden data each test prints why it is skipped and passes, unless
//! `HUB_REQUIRE_GOLDEN=1`, which turns a missing entry into a failure. `HUB_GOLDEN_DIR`
//! overrides the location of the `vision` directory. Run with `--nocapture` to see the errors.

mod common;

use burn::backend::Flex;
use burn::prelude::*;
use hub_models::import::{load_pytorch, ImportOptions};
use hub_models::registry::{self, Task};
use hub_models::vision::densenet;

type B = Flex;

vision_parity!(
    alexnet,
    vgg11,
    vgg13,
    vgg16,
    vgg19,
    vgg11_bn,
    vgg13_bn,
    vgg16_bn,
    vgg19_bn,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnext50_32x4d,
    resnext101_32x8d,
    resnext101_64x4d,
    wide_resnet50_2,
    wide_resnet101_2,
    densenet121,
    densenet161,
    densenet169,
    densenet201,
    squeezenet1_0,
    squeezenet1_1,
    googlenet,
    googlenet_aux,
    inception_v3,
);

/// Every image classifier of the registry has a parity test in one of the vision suites.
#[test]
fn every_classifier_has_a_parity_test() {
    let sources = [include_str!("parity_vision_a.rs"), include_str!("parity_vision_b.rs"), include_str!("parity_vision_c.rs")];
    let tested = |id: &str| sources.iter().any(|s| s.lines().any(|l| l.trim().trim_end_matches(',') == id || l.contains(&format!("\"{id}\""))));
    let missing: Vec<&str> = registry::architectures().filter(|a| a.task == Task::ImageClassification).map(|a| a.id).filter(|id| !tested(id)).collect();
    assert!(missing.is_empty(), "no parity test for {missing:?}");
}

fn read_tensor(path: &std::path::Path, name: &str) -> TensorData {
    common::required_safetensor(path, name).convert::<f32>()
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
    let err: f32 = (out - expected).abs().max().into_scalar();
    println!("parity {entry} (legacy key names): max|burn-torch| = {err:.3e}");
    assert!(err <= common::vision::TOLERANCE * scale);
}

/// A checkpoint saved from `torchvision.models.googlenet()` (auxiliary heads on, its default)
/// loads into the `googlenet` entrypoint without `--config aux_logits=true`: its keys decide,
/// as the manifest path builds it. One without them still builds the plain model.
#[test]
fn googlenet_checkpoint_keys_decide_the_auxiliary_heads() {
    let device = Default::default();
    let arch = registry::find("googlenet").unwrap();
    for (entry, aux) in [("googlenet_aux", true), ("googlenet", false)] {
        let Some(dir) = common::vision_entry(entry) else { return };
        let path = dir.join("model.pth");
        let model = arch.build_for::<B>("googlenet", &toml::Table::new(), Some(&path), &device).unwrap();
        let registry::Model::Classifier(model) = model else { panic!("googlenet builds a classifier") };
        let options = ImportOptions::new().with_remaps(arch.family.remaps());
        let (_, report) = model.load_pytorch(&path, &options).unwrap_or_else(|e| panic!("{entry}: {e}"));
        assert!(report.is_complete(), "{entry}: {report:?}");
        assert_eq!(report.applied.iter().any(|k| k.contains("aux1")), aux, "{entry}");
    }
}

/// An Inception v3 checkpoint with its auxiliary classifier, loaded into a model built without
/// one (`aux_logits = false`), fails naming the unexpected keys and the config that fixes it.
#[test]
fn a_checkpoint_with_auxiliary_heads_hints_aux_logits() {
    let entry = "inception_v3";
    let Some(dir) = common::vision_entry(entry) else { return };
    let arch = registry::find(entry).unwrap();
    let config: toml::Table = "aux_logits = false\ntransform_input = true".parse().unwrap();
    let registry::Model::Classifier(model) = arch.build_model::<B>(entry, &config, &Default::default()).unwrap() else { panic!("a classifier") };
    let path = dir.join("model.pth");
    let err = model.load_pytorch(&path, &ImportOptions::new().with_remaps(arch.family.remaps())).unwrap_err().to_string();
    assert!(err.contains("aux_logits.fc.weight") && err.contains("--config aux_logits=true"), "{err}");
}
