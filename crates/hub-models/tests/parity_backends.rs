//! The vision parity suite on the GPU backends: the same golden references as the CPU tests, the
//! same import path, run on wgpu (`--features wgpu`; on a CPU-only machine through Mesa's
//! lavapipe Vulkan driver) and on CUDA (`--features cuda`).
//!
//! `HUB_BACKEND_ENTRIES=a,b` picks the entries (default: a small set that runs quickly on
//! lavapipe); `HUB_BACKEND_ENTRIES=all` runs every entry of `target/golden/vision`.
#![cfg(any(feature = "wgpu", feature = "cuda"))]

mod common;

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

const DEFAULT_ENTRIES: &[&str] = &["resnet18", "squeezenet1_1", "mobilenet_v3_small", "shufflenet_v2_x1_0"];

fn entries(dir: &std::path::Path) -> Vec<String> {
    match std::env::var("HUB_BACKEND_ENTRIES").ok().as_deref() {
        Some("all") => serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap(),
        Some(list) if !list.is_empty() => list.split(',').map(str::to_owned).collect(),
        _ => DEFAULT_ENTRIES.iter().map(|s| s.to_string()).collect(),
    }
}

/// Reads `input` and `output` from a golden `io.safetensors`.
fn io(path: &std::path::Path) -> (TensorData, TensorData) {
    let get = |name: &str| common::required_safetensor(path, name).convert::<f32>();
    (get("input"), get("output"))
}

fn run_suite<B: Backend>(name: &str, device: &B::Device) {
    let Some(dir) = common::VISION.require(&format!("parity[{name}]"), common::VISION.dir(), &["index.json"]) else { return };
    let mut failures = Vec::new();
    for entry in entries(&dir) {
        let dir_entry = dir.join(&entry);
        let Some((arch, config)) = common::vision::architecture(&entry, &dir_entry) else {
            eprintln!("{name}: {entry}: no architecture, skipped");
            continue;
        };
        let model = common::vision::load::<B>(&arch, &config, &dir_entry.join("model.pth"), device);
        let (input, expected) = io(&dir.join(&entry).join("io.safetensors"));
        let started = std::time::Instant::now();
        let out = model.forward(Tensor::<B, 4>::from_data(input, device));
        let got: Vec<f32> = out.into_data().convert::<f32>().into_vec().unwrap();
        let want: Vec<f32> = expected.into_vec().unwrap();
        let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
        let err = got.iter().zip(&want).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        println!("parity[{name}] {entry}: max|burn-torch| = {err:.3e}, relative = {:.3e} ({:.2} s)", err / scale, started.elapsed().as_secs_f64());
        if err > 1e-4 * scale {
            failures.push(format!("{entry}: relative {:.3e}", err / scale));
        }
    }
    assert!(failures.is_empty(), "{name} parity failures: {failures:?}");
}

#[cfg(feature = "wgpu")]
#[test]
fn vision_parity_on_wgpu() {
    run_suite::<burn::backend::Wgpu>("wgpu", &Default::default());
}

#[cfg(feature = "cuda")]
#[test]
fn vision_parity_on_cuda() {
    run_suite::<burn::backend::Cuda>("cuda", &Default::default());
}
