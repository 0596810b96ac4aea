//! Parity with PyTorch for the GAN generators (`hub_models::gan`).
//!
//! For every entry in `target/golden/gan/` (written by `python xtask/golden/gan.py --out
//! target/golden/gan`), build the generator from `meta.json`'s config (and check it against our
//! variant table for the entries that mirror a published model), load each checkpoint strictly
//! through the real import path (`hub_models::import::load_pytorch`, nested under `netG`,
//! `avgG` or `netG_state_dict`), run the golden `input` and require
//! `max|burn - torch| <= 1e-4 * max|torch|` for every stored output.
//!
//! `dcgan_faces` runs the real `gan-face-generate` weights: the same noise must give PyTorch's
//! pixels.
//!
//! Without golden data the test prints why it is skipped and passes, unless
//! `HUB_REQUIRE_GOLDEN=1`. `HUB_GOLDEN_GAN_DIR` overrides the directory. Run with
//! `--nocapture` to see the errors.

mod common;

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::prelude::*;
use hub_models::gan::dcgan::{self, BatchNormMode, DcganConfig, KeyLayout};
use hub_models::gan::pgan::{self, PganConfig};
use hub_models::gan::OutputActivation;
use hub_models::import::load_pytorch;
use serde_json::{Map, Value};

type B = Flex;

/// Relative tolerance of the data contract.
const TOLERANCE: f32 = 1e-4;

/// Entries the golden script writes (`xtask/golden/gan.py`).
const ENTRIES: &[&str] = &[
    "gan_zoo_dcgan",
    "gan_zoo_dcgan_small",
    "pgan_s0",
    "pgan_compat",
    "pgan_s1_alpha",
    "pgan_s3_alpha",
    "pgan_celebahq_256",
    "dcgan_faces",
];

/// The golden folder, or `None` (after printing why) without the index the script writes.
fn golden_root(test: &str) -> Option<PathBuf> {
    common::GAN.require(test, common::GAN.dir(), &["index.json"])
}

fn read_tensor(path: &Path, name: &str) -> TensorData {
    common::required_safetensor(path, name).convert::<f32>()
}

fn usize_of(config: &Map<String, Value>, key: &str) -> usize {
    config[key]
        .as_u64()
        .unwrap_or_else(|| panic!("config {key} = {} is not an integer", config[key])) as usize
}

fn activation(config: &Map<String, Value>) -> OutputActivation {
    match config["lossCriterion"].as_str() {
        Some("DCGAN" | "MSE") => OutputActivation::Tanh,
        Some("WGANGP" | "Logistic") => OutputActivation::Identity,
        other => panic!("unknown lossCriterion {other:?}"),
    }
}

fn categories(config: &Map<String, Value>) -> Vec<usize> {
    match usize_of(config, "categoryVectorDim") {
        0 => Vec::new(),
        n => vec![n],
    }
}

/// Fails on a config key the test does not translate (it would be silently ignored).
fn only_known(config: &Map<String, Value>, known: &[&str]) {
    for key in config.keys() {
        assert!(
            known.contains(&key.as_str()),
            "meta.json config `{key}` has no Rust counterpart here"
        );
    }
}

fn dcgan_config(config: &Map<String, Value>) -> DcganConfig {
    only_known(
        config,
        &[
            "dimLatentVector",
            "categoryVectorDim",
            "dimG",
            "depth",
            "dimOutput",
            "lossCriterion",
        ],
    );
    DcganConfig::new(usize_of(config, "dimLatentVector"))
        .with_categories(categories(config))
        .with_base_channels(usize_of(config, "dimG"))
        .with_depth(usize_of(config, "depth"))
        .with_out_channels(usize_of(config, "dimOutput"))
        .with_activation(activation(config))
}

fn pgan_config(config: &Map<String, Value>) -> PganConfig {
    only_known(
        config,
        &[
            "dimLatentVector",
            "categoryVectorDim",
            "depthScale0",
            "depthOtherScales",
            "leakyness",
            "perChannelNormalization",
            "lossCriterion",
            "dimOutput",
            "equalizedlR",
            "initBiasToZero",
            "alpha",
        ],
    );
    let mut depth_scales = vec![usize_of(config, "depthScale0")];
    depth_scales.extend(
        config["depthOtherScales"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize),
    );
    PganConfig::new()
        .with_depth_scales(depth_scales)
        .with_dim_latent(usize_of(config, "dimLatentVector"))
        .with_categories(categories(config))
        .with_leakyness(config["leakyness"].as_f64().unwrap())
        .with_normalization(config["perChannelNormalization"].as_bool().unwrap())
        .with_generation_activation(activation(config))
        .with_dim_output(usize_of(config, "dimOutput"))
        .with_equalized_lr(config["equalizedlR"].as_bool().unwrap())
        .with_init_bias_to_zero(config["initBiasToZero"].as_bool().unwrap())
        .with_alpha(config["alpha"].as_f64().unwrap())
}

/// `max|out - expected|` and `max|expected|`.
fn compare(out: Tensor<B, 4>, expected: &TensorData) -> (f32, f32) {
    let device = Default::default();
    let expected = Tensor::<B, 4>::from_data(expected.clone(), &device);
    assert_eq!(out.dims(), expected.dims(), "output shape");
    let err = (out - expected.clone()).abs().max().into_scalar();
    let peak = expected.abs().max().into_scalar();
    (err, peak)
}

/// One comparison's line for the log, and whether it passed.
fn verdict(entry: &str, what: &str, (err, peak): (f32, f32)) -> bool {
    let ok = err <= TOLERANCE * peak;
    println!(
        "parity {entry} {what}: max|err| = {err:.3e}, max|torch| = {peak:.3e}, relative = {:.3e} {}",
        err / peak,
        if ok { "ok" } else { "FAILED" }
    );
    ok
}

fn check_dcgan(entry: &str, dir: &Path, meta: &Value) -> bool {
    let config = dcgan_config(meta["config"].as_object().unwrap());
    let layout = match meta["key_layout"].as_str() {
        Some("gan_zoo") => KeyLayout::GanZoo,
        Some("sequential") => KeyLayout::Sequential,
        other => panic!("unknown key layout {other:?}"),
    };
    // The entries that mirror a published model must match our variant table.
    if let Some(variant) = dcgan::config(entry) {
        assert_eq!(
            (
                variant.latent_dim(),
                variant.base_channels,
                variant.depth,
                variant.out_channels,
                variant.activation
            ),
            (
                config.latent_dim(),
                config.base_channels,
                config.depth,
                config.out_channels,
                config.activation
            ),
            "{entry}: variant table differs from the reference"
        );
        let weights = dcgan::weights::weights(entry).unwrap();
        assert_eq!(
            (weights.layout, weights.top_level_key),
            (layout, meta["top_level_key"].as_str().unwrap())
        );
    }
    let io = dir.join("io.safetensors");
    let input = read_tensor(&io, "input");
    let device = Default::default();
    let mut ok = true;
    for (name, spec) in meta["outputs"].as_object().unwrap() {
        let key = spec["top_level_key"].as_str().unwrap();
        let mode = match spec["batch_norm"].as_str() {
            Some("batch") => BatchNormMode::BatchStatistics,
            Some("running") => BatchNormMode::RunningStatistics,
            other => panic!("unknown batch_norm {other:?}"),
        };
        let model = config.clone().with_batch_norm(mode).init::<B>(&device);
        let options = dcgan::weights::import_options(layout, config.depth, key);
        let (model, report) = load_pytorch(model, dir.join("model.pth"), &options)
            .unwrap_or_else(|e| panic!("{entry}: strict load of `{key}` failed: {e}"));
        assert!(report.is_complete(), "{report:?}");
        let out = model.test(Tensor::from_data(input.clone(), &device));
        ok &= verdict(entry, name, compare(out, &read_tensor(&io, name)));
    }
    ok
}

fn check_pgan(entry: &str, dir: &Path, meta: &Value) -> bool {
    let config = pgan_config(meta["config"].as_object().unwrap());
    if entry == "pgan_celebahq_256" {
        let variant = pgan::config_for_model_name("celebAHQ-256").unwrap();
        assert_eq!(
            (
                &variant.depth_scales,
                variant.latent_dim(),
                variant.leakyness,
                variant.normalization
            ),
            (
                &config.depth_scales,
                config.latent_dim(),
                config.leakyness,
                config.normalization
            )
        );
        assert_eq!(
            (
                variant.generation_activation,
                variant.dim_output,
                variant.equalized_lr,
                variant.alpha
            ),
            (
                config.generation_activation,
                config.dim_output,
                config.equalized_lr,
                config.alpha
            )
        );
        assert_eq!(
            pgan::weights::weights("celebAHQ-256")
                .unwrap()
                .top_level_key,
            "netG"
        );
    }
    let io = dir.join("io.safetensors");
    let input = read_tensor(&io, "input");
    let device = Default::default();
    let mut ok = true;
    for file in meta["checkpoints"].as_array().unwrap() {
        let file = file.as_str().unwrap();
        for (name, spec) in meta["outputs"].as_object().unwrap() {
            let key = spec["top_level_key"].as_str().unwrap();
            let model = config.init::<B>(&device);
            let (model, report) = pgan::weights::load(model, dir.join(file), key)
                .unwrap_or_else(|e| panic!("{entry}: strict load of {file} `{key}` failed: {e}"));
            assert!(report.is_complete(), "{report:?}");
            let out = model.test(Tensor::from_data(input.clone(), &device));
            ok &= verdict(
                entry,
                &format!("{file} {name}"),
                compare(out, &read_tensor(&io, name)),
            );
        }
    }
    ok
}

#[test]
fn gan_generators_match_pytorch() {
    let Some(root) = golden_root("parity gan") else {
        return;
    };
    let mut failed = Vec::new();
    for &entry in ENTRIES {
        let Some(dir) = common::GAN.require(&format!("parity {entry}"), root.join(entry), &["meta.json"]) else {
            continue;
        };
        let meta = common::meta(&dir);
        let ok = match meta["kind"].as_str() {
            Some("dcgan") => check_dcgan(entry, &dir, &meta),
            Some("pgan") => check_pgan(entry, &dir, &meta),
            other => panic!("{entry}: unknown kind {other:?}"),
        };
        if !ok {
            failed.push(entry);
        }
    }
    assert!(failed.is_empty(), "parity failed for {failed:?}");
}

#[test]
fn real_faces_weights_load_strictly_through_the_variant_table() {
    let Some(root) = golden_root("parity dcgan_faces") else {
        return;
    };
    let Some(dir) = common::GAN.require("parity dcgan_faces", root.join("dcgan_faces"), &["model.pth"]) else {
        return;
    };
    let device = Default::default();
    let model = dcgan::config("dcgan_faces").unwrap().init::<B>(&device);
    let weights = dcgan::weights::weights("dcgan_faces").unwrap();
    let (model, report) = dcgan::weights::load(model, dir.join("model.pth"), weights).unwrap();
    assert_eq!(report.applied.len(), 5 + 4 * 4);
    assert_eq!(
        report.ignored.len(),
        4,
        "num_batches_tracked: {:?}",
        report.ignored
    );

    let io = dir.join("io.safetensors");
    let input = Tensor::<B, 2>::from_data(read_tensor(&io, "input"), &device);
    let out = model.test(input);
    assert!(verdict(
        "dcgan_faces",
        "variant table",
        compare(out.clone(), &read_tensor(&io, "output"))
    ));

    // The same pixels as 8-bit images (what a user saves).
    let dir = tempfile::tempdir().unwrap();
    hub_models::gan::save_grid(out, dir.path().join("faces.png"), 2).unwrap();
    let grid = image::open(dir.path().join("faces.png")).unwrap();
    assert_eq!((grid.width(), grid.height()), (2 * 66 + 2, 2 * 66 + 2));

    // A GAN zoo layout on the tutorial file names the problem instead of loading garbage.
    let zoo_layout = dcgan::weights::import_options(KeyLayout::GanZoo, 3, "netG");
    let model = dcgan::config("dcgan_faces").unwrap().init::<B>(&device);
    let err = load_pytorch(model, root.join("dcgan_faces/model.pth"), &zoo_layout).unwrap_err();
    assert!(err.to_string().contains("dcgan_faces"), "{err}");
}
