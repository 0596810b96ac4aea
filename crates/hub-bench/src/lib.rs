//! Shared helpers for the hub benches: which models to time, and where the golden files are.

use std::path::PathBuf;

/// One model per vision family (the forward benches), overridable with `HUB_BENCH_MODELS=a,b`.
pub const DEFAULT_MODELS: &[&str] = &[
    "alexnet",
    "vgg16",
    "resnet50",
    "densenet121",
    "squeezenet1_1",
    "googlenet",
    "inception_v3",
    "shufflenet_v2_x1_0",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "efficientnet_v2_s",
    "regnet_y_1_6gf",
    "vit_b_16",
];

/// The models to bench.
pub fn models() -> Vec<String> {
    match std::env::var("HUB_BENCH_MODELS") {
        Ok(list) if !list.trim().is_empty() => list.split(',').map(|s| s.trim().to_owned()).collect(),
        _ => DEFAULT_MODELS.iter().map(|s| s.to_string()).collect(),
    }
}

/// Batch sizes of the forward benches.
pub const BATCHES: &[usize] = &[1, 8];

/// `target/golden`, written by `cargo xtask golden`.
pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/golden")
}
