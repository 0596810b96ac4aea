//! Parity with PyTorch for the RegNet, MNASNet, ConvNeXt and Vision Transformer families, through the
//! registry-driven harness of `common::vision` (see `parity_vision_a.rs` for the rule).
//!
//! `regnet_y_128gf_depth4` is regnet_y_128gf's design at depth 4 (its blocks, at 15M instead of
//! 645M parameters), built from the design parameters `meta.json` records; the full-size
//! `regnet_y_128gf` is opt-in (`--entries regnet_y_128gf` for the golden script, `--ignored`
//! here).
//!
//! Without golden data each test prints why it is skipped and passes, unless
//! `HUB_REQUIRE_GOLDEN=1`, which turns a missing entry into a failure. `HUB_GOLDEN_DIR`
//! overrides the location of the `vision` directory. Run with `--nocapture` to see the errors.

mod common;

use std::path::Path;
use std::time::Instant;

use burn::backend::Flex;
use burn::tensor::Tensor;
use hub_models::vision::regnet::{self, RegNetConfig};
use hub_models::vision::vit::{self, VitConfig};

type B = Flex;

vision_parity!(
    regnet_x_400mf,
    regnet_x_800mf,
    regnet_x_1_6gf,
    regnet_x_3_2gf,
    regnet_x_8gf,
    regnet_x_16gf,
    regnet_x_32gf,
    regnet_y_400mf,
    regnet_y_800mf,
    regnet_y_1_6gf,
    regnet_y_3_2gf,
    regnet_y_8gf,
    regnet_y_16gf,
    regnet_y_32gf,
    mnasnet0_5,
    mnasnet0_75,
    mnasnet1_0,
    mnasnet1_3,
    convnext_tiny,
    convnext_small,
    convnext_base,
    convnext_large,
    vit_b_16,
    vit_b_32,
    vit_b_16_384,
);

/// The full-size regnet_y_128gf (a 2.6 GB golden that CI does not write).
#[test]
#[ignore = "full size (645M parameters): run with --ignored after `vision.py --entries regnet_y_128gf`"]
fn regnet_y_128gf() {
    common::vision::check::<B>("regnet_y_128gf", &Default::default(), true);
}

/// The full-size vit_h_14 (a 2.5 GB golden that CI does not write).
#[test]
#[ignore = "full size (632M parameters): run with --ignored after `vision.py --entries vit_h_14`"]
fn vit_h_14() {
    common::vision::check::<B>("vit_h_14", &Default::default(), true);
}

/// The parity check of a reduced design the registry does not build: every checkpoint of `dir`
/// loaded by `load` and run by `forward` on the golden input, within the tolerance.
fn check_reduced<M>(entry: &str, dir: &Path, load: impl Fn(&Path) -> M, forward: impl Fn(&M, Tensor<B, 4>) -> Tensor<B, 2>) {
    let io = dir.join("io.safetensors");
    let read = |name| common::required_safetensor(&io, name).convert::<f32>();
    let input = Tensor::<B, 4>::from_data(read("input"), &Default::default());
    let expected = Tensor::<B, 2>::from_data(read("output"), &Default::default());
    let scale: f32 = expected.clone().abs().max().into_scalar();
    for file in common::checkpoints(dir) {
        let start = Instant::now();
        let model = load(&file);
        let err: f32 = (forward(&model, input.clone()) - expected.clone()).abs().max().into_scalar();
        common::print_error(entry, &file, err, scale, start);
        assert!(err <= common::vision::TOLERANCE * scale, "{entry}: max|burn-torch| = {err:e} > 1e-4 · {scale:e}");
    }
}

/// `meta.json`'s kwargs, each of which must be one of `known` (the ones the test reads).
fn design_kwargs(dir: &Path, known: &[&str]) -> serde_json::Map<String, serde_json::Value> {
    let kwargs = common::meta_kwargs(dir);
    for key in kwargs.keys() {
        assert!(known.contains(&key.as_str()), "meta.json kwarg `{key}` has no Rust counterpart in this test");
    }
    kwargs
}

/// A number of `meta.json`'s kwargs.
fn number(kwargs: &serde_json::Map<String, serde_json::Value>, key: &str) -> f64 {
    kwargs.get(key).and_then(|v| v.as_f64()).unwrap_or_else(|| panic!("meta.json kwarg `{key}` is not a number"))
}

/// regnet_y_128gf's blocks at depth 4, from the design parameters of `meta.json`.
#[test]
fn regnet_y_128gf_depth4() {
    let entry = "regnet_y_128gf_depth4";
    let Some(dir) = common::vision_entry(entry) else { return };
    let kwargs = design_kwargs(&dir, &["depth", "w_0", "w_a", "w_m", "group_width", "se_ratio"]);
    let int = |key| number(&kwargs, key) as usize;
    let config = RegNetConfig::new(int("depth"), int("w_0"), number(&kwargs, "w_a"), number(&kwargs, "w_m"), int("group_width"))
        .with_se_ratio(kwargs.get("se_ratio").and_then(|v| v.as_f64()));
    // The same design as the full-size variant, apart from the depth.
    let full = regnet::config("regnet_y_128gf").unwrap();
    assert_eq!((config.w_0, config.w_a, config.w_m, config.group_width, config.se_ratio), (full.w_0, full.w_a, full.w_m, full.group_width, full.se_ratio));
    check_reduced(entry, &dir, |file| common::load_strict(config.init::<B>(&Default::default()), file, regnet::weights::remaps()), |m, x| m.forward(x));
}

/// A larger ViT's widths at depth 2 (`<id>_depth2`), from the hyper-parameters of `meta.json`,
/// which must be those of `id` apart from the depth.
fn vit_depth2(id: &str) {
    let entry = format!("{id}_depth2");
    let Some(dir) = common::vision_entry(&entry) else { return };
    let kwargs = design_kwargs(&dir, &["patch_size", "num_layers", "num_heads", "hidden_dim", "mlp_dim", "image_size"]);
    let int = |key| number(&kwargs, key) as usize;
    let config = VitConfig::new(int("patch_size"), int("num_layers"), int("num_heads"), int("hidden_dim"), int("mlp_dim")).with_image_size(int("image_size"));
    let full = vit::config(id).unwrap();
    assert_eq!((config.patch_size, config.num_heads, config.hidden_dim, config.mlp_dim, config.image_size), (full.patch_size, full.num_heads, full.hidden_dim, full.mlp_dim, full.image_size));
    assert_eq!(config.num_layers, 2);
    check_reduced(&entry, &dir, |file| common::load_strict(config.init::<B>(&Default::default()), file, vit::weights::remaps()), |m, x| m.forward(x));
}

/// vit_l_16's blocks at depth 2.
#[test]
fn vit_l_16_depth2() {
    vit_depth2("vit_l_16");
}

/// vit_l_32's blocks at depth 2.
#[test]
fn vit_l_32_depth2() {
    vit_depth2("vit_l_32");
}

/// vit_h_14's blocks at depth 2.
#[test]
fn vit_h_14_depth2() {
    vit_depth2("vit_h_14");
}
