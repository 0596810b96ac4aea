//! DeepLabV3-ResNet50 at 520×520 and PGAN celebAHQ-256 generation (seeded random weights, full
//! size). Compare with PyTorch: `xtask/bench/compare.py`.

use burn::tensor::{Distribution, Tensor};
use criterion::{criterion_group, criterion_main, Criterion};
use hub_models::gan::pgan;
use hub_models::segmentation;
use hub_models::Cpu;

fn deeplab(c: &mut Criterion) {
    let device = Default::default();
    <Cpu as burn::tensor::backend::Backend>::seed(&device, 0);
    let model = segmentation::config("deeplabv3_resnet50").expect("in the table").init::<Cpu>(&device);
    let x = Tensor::<Cpu, 4>::random([1, 3, 520, 520], Distribution::Normal(0.0, 1.0), &device);
    let mut group = c.benchmark_group("dense");
    group.sample_size(10);
    group.bench_function("deeplabv3_resnet50-520", |b| b.iter(|| model.forward(x.clone()).out.into_data()));
    group.finish();
}

fn pgan_256(c: &mut Criterion) {
    let device = Default::default();
    <Cpu as burn::tensor::backend::Backend>::seed(&device, 0);
    let model = pgan::config("pgan").expect("in the table").init::<Cpu>(&device);
    let noise = Tensor::<Cpu, 2>::random([1, model.latent_dim()], Distribution::Normal(0.0, 1.0), &device);
    let mut group = c.benchmark_group("dense");
    group.sample_size(10);
    group.bench_function("pgan-celebahq256", |b| b.iter(|| model.test(noise.clone()).into_data()));
    group.finish();
}

criterion_group!(benches, deeplab, pgan_256);
criterion_main!(benches);
