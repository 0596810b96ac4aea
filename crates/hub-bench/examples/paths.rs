//! hub's kernels against burn's portable ops on the same models, in one process: interleaved
//! rounds, medians, and the largest difference between the two outputs.
//!
//! `cargo run --release -p hub-bench --example paths -- resnet50 mobilenet_v2 [--batch 8] [--rounds 10]`

use std::time::Instant;

use anyhow::{bail, Context, Result};
use burn::tensor::{Distribution, Tensor};
use hub_models::registry::{self, ClassifierConfig};
use hub_models::{kernels, Cpu};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let mut ids = Vec::new();
    let (mut batch, mut rounds) = (1usize, 10usize);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--batch" => batch = args.next().context("--batch N")?.parse()?,
            "--rounds" => rounds = args.next().context("--rounds N")?.parse()?,
            _ => ids.push(a),
        }
    }
    let threads = kernels::init_threads(None)?;
    println!("threads {threads}, SIMD {}", kernels::simd_level());
    let device = Default::default();
    for id in ids {
        let Some(arch) = registry::find(&id) else { bail!("unknown architecture {id}") };
        <Cpu as burn::tensor::backend::Backend>::seed(&device, 0);
        let model = arch.build::<Cpu>(&ClassifierConfig::default(), &device)?;
        let Some(s) = arch.input_size() else { bail!("{id} is not an image model") };
        let x = Tensor::<Cpu, 4>::random([batch, 3, s, s], Distribution::Normal(0.0, 1.0), &device);
        let run = |fast: bool| {
            kernels::set_enabled(fast);
            let t = Instant::now();
            let y = model.forward(x.clone()).into_data().to_vec::<f32>().expect("f32");
            (t.elapsed().as_secs_f64() * 1e3, y)
        };
        let (_, a) = run(true);
        let (_, b) = run(false);
        let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
        let diff = a.iter().zip(&b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            fast.push(run(true).0);
            slow.push(run(false).0);
        }
        let (f, s) = (median(fast), median(slow));
        println!("{id:>20} batch {batch}: kernels {f:8.1} ms, burn ops {s:8.1} ms, {:.2}x faster; max |diff| {diff:.2e} (max |y| {scale:.2e})", s / f);
    }
    kernels::set_enabled(true);
    Ok(())
}
