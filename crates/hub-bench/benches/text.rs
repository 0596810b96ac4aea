//! BERT-base forward at sequence length 128 and GPT-2 (124M) greedy generation speed, with seeded
//! random weights at full size. Compare with PyTorch: `xtask/bench/compare.py`.

use burn::tensor::{Distribution, Tensor};
use criterion::{criterion_group, criterion_main, Criterion};
use hub_models::text::bert::{self, BertInput};
use hub_models::text::generation::{generate, generate_batch, GenerationConfig};
use hub_models::text::gpt2;
use hub_models::Cpu;

fn bert_base(c: &mut Criterion) {
    let device = Default::default();
    let model = bert::config("bert-base-uncased").expect("in the table").init::<Cpu>(&device);
    let ids = Tensor::<Cpu, 2>::random([1, 128], Distribution::Uniform(1000.0, 29000.0), &device).int();
    let mut group = c.benchmark_group("text");
    group.sample_size(10);
    group.bench_function("bert-base-seq128", |b| b.iter(|| model.forward(BertInput::new(ids.clone())).last_hidden_state.into_data()));
    group.finish();
}

/// Greedy generation of 32 tokens after an 8-token prompt (time per run; tokens/s = 32 / time).
fn gpt2_generate(c: &mut Criterion) {
    let device = Default::default();
    let model = gpt2::config("gpt2").expect("in the table").init_lm_head::<Cpu>(&device);
    let prompt: Vec<u32> = vec![464, 3139, 286, 4881, 318, 6342, 13, 383];
    let config = GenerationConfig::greedy(32).with_eos_token_ids(Vec::new());
    let mut group = c.benchmark_group("text");
    group.sample_size(10);
    group.bench_function("gpt2-generate-32", |b| {
        b.iter(|| generate::<Cpu, _>(&model, &prompt, &config, |_| true).expect("generates"))
    });
    group.finish();
}

/// Greedy generation of 32 tokens for 4 prompts at once (8, 8, 6 and 4 tokens: left padding),
/// one batched forward per step (tokens/s = 128 / time).
fn gpt2_generate_batch(c: &mut Criterion) {
    let device = Default::default();
    let model = gpt2::config("gpt2").expect("in the table").init_lm_head::<Cpu>(&device);
    let prompts: Vec<Vec<u32>> = vec![
        vec![464, 3139, 286, 4881, 318, 6342, 13, 383],
        vec![40, 588, 257, 1310, 286, 262, 3290, 11],
        vec![15496, 11, 995, 0, 314, 716],
        vec![4342, 318, 257, 1332],
    ];
    let config = GenerationConfig::greedy(32).with_eos_token_ids(Vec::new());
    let mut group = c.benchmark_group("text");
    group.sample_size(10);
    group.bench_function("gpt2-generate-32-batch4", |b| {
        b.iter(|| generate_batch::<Cpu, _>(&model, &prompts, 50256, &config, |_, _| true).expect("generates"))
    });
    group.finish();
}

criterion_group!(benches, bert_base, gpt2_generate, gpt2_generate_batch);
criterion_main!(benches);
