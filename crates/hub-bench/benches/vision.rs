//! Forward passes of one model per vision family (seeded random weights, batch 1 and 8) and
//! PyTorch checkpoint import time. Compare with PyTorch: `xtask/bench/compare.py`.

use burn::tensor::{Distribution, Tensor};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use hub_models::import::ImportOptions;
use hub_models::registry::{self, ClassifierConfig};
use hub_models::Cpu;

fn forward(c: &mut Criterion) {
    let device = Default::default();
    let mut group = c.benchmark_group("forward");
    group.sample_size(10);
    for id in hub_bench::models() {
        let Some(arch) = registry::find(&id) else {
            eprintln!("unknown architecture {id}");
            continue;
        };
        <Cpu as burn::tensor::backend::Backend>::seed(&device, 0);
        let model = arch.build::<Cpu>(&ClassifierConfig::default(), &device).expect("builds");
        let s = arch.input_size().expect("an image classifier has an input size");
        for &batch in hub_bench::BATCHES {
            let x = Tensor::<Cpu, 4>::random([batch, 3, s, s], Distribution::Normal(0.0, 1.0), &device);
            group.bench_with_input(BenchmarkId::new(id.as_str(), batch), &batch, |b, _| {
                b.iter(|| model.forward(x.clone()).into_data())
            });
        }
    }
    group.finish();
}

fn import(c: &mut Criterion) {
    let device = Default::default();
    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    for id in ["resnet50", "vgg16"] {
        let path = hub_bench::golden_dir().join("vision").join(id).join("model.pth");
        if !path.is_file() {
            eprintln!("skipping import/{id}: {} is missing (run `cargo xtask golden`)", path.display());
            continue;
        }
        let arch = registry::find(id).expect("registered");
        let options = ImportOptions::new().with_remaps(arch.family.remaps());
        group.bench_function(id, |b| {
            b.iter(|| {
                let model = arch.build::<Cpu>(&ClassifierConfig::default(), &device).expect("builds");
                model.load_pytorch(&path, &options).expect("loads")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, forward, import);
criterion_main!(benches);
