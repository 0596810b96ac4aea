//! The instruction-count guards of hub's kernels: one case per kernel path that matters (each
//! convolution path, linear layers with their epilogues, activations, softmax, pooling, a
//! ResNet-50 bottleneck block and a BERT encoder layer), single-threaded, seeded, each run once
//! under callgrind by `cargo xtask bench-guard`, which compares the counts with
//! `crates/hub-bench/guards-baseline.toml` (docs/benchmarks.md, "Instruction-count guards").
//!
//! - `guards --list`: the case names, one per line;
//! - `guards --run CASE`: sets the case up, runs it once to warm buffers and thread-locals, then
//!   once inside [`guard_measured`] (the only function callgrind counts, `--toggle-collect`);
//!   prints the dispatch path on stderr;
//! - `guards` (what `cargo bench --bench guards` runs): every case natively, timed, on the
//!   widest SIMD the CPU has (AVX-512 where there is one, which valgrind cannot run): the
//!   wall-clock check of the path the instruction counts do not cover. Printed, never gated.
//!
//! The blocks are composed of hub-kernels calls the way hub-models' layers on flex make them
//! (`crates/hub-models/src/kernels/`): BatchNorm folded into the convolution's epilogue, the
//! residual and ReLU fused into the last one; BERT's query, key and value as one fused
//! projection read in place by attention. BERT's two LayerNorms run on burn's flex, not on
//! hub-kernels, and are not part of the count.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hub_kernels::{act, attention, conv2d, linear, linear_fused, pool2d, winograd};
use hub_kernels::{Activation, Conv2dParams, Epilogue, Heads, LinearPart, Pool2dParams, PoolKind, WeightLayout};

/// A case set up and ready to run: every call does the same work on the same data.
type Job = Box<dyn FnMut() + Send>;

/// The cases: name, what it covers, and its set-up.
#[allow(clippy::type_complexity)] // name, what it covers, set-up
const CASES: &[(&str, &str, fn() -> Job)] = &[
    ("conv1x1", "1×1 stride 1, 256→64 at 28×28, BN+ReLU (GEMM on the input in place)", conv1x1),
    ("conv3x3", "3×3 stride 1, 64→64 at 28×28, BN+ReLU (conv2d's choice: Winograd F(2×2))", conv3x3),
    ("conv3x3_direct", "3×3 stride 1, 64→64 at 28×28, BN+ReLU, Winograd off (im2col GEMM)", conv3x3_direct),
    ("conv3x3_s2", "3×3 stride 2, 32→64 at 56×56, BN+ReLU (strided im2col GEMM)", conv3x3_s2),
    ("conv7x7_s2", "7×7 stride 2, 3→64 at 112×112, BN+ReLU (ResNet stem)", conv7x7_s2),
    ("depthwise3x3", "depthwise 3×3 stride 1, 144 ch at 56×56, BN+ReLU6", depthwise3x3),
    ("depthwise3x3_s2", "depthwise 3×3 stride 2, 144 ch at 56×56, BN+ReLU6", depthwise3x3_s2),
    ("grouped3x3", "3×3, 32 groups, 128→128 at 28×28, BN+ReLU (ResNeXt)", grouped3x3),
    ("linear_gelu", "64×768 · 768×3072 + bias, GELU", linear_gelu),
    ("linear_residual", "64×3072 · 3072×768 + bias + residual", linear_residual),
    ("linear_qkv", "64×768 · [768×768 ×3] + bias, fused, weights [out, in]", linear_qkv),
    ("linear_gemv", "1×768 · 768×1000 + bias (few-row path)", linear_gemv),
    ("act_gelu", "GELU (erf) on 65 536 values", act_gelu),
    ("act_gelu_tanh", "GELU (tanh) on 65 536 values", act_gelu_tanh),
    ("act_silu", "SiLU on 65 536 values", act_silu),
    ("act_hardswish", "hard swish on 65 536 values", act_hardswish),
    ("bn_relu_nchw", "standalone BatchNorm+ReLU, 256 ch at 28×28", bn_relu_nchw),
    ("attention_softmax", "attention, 12 heads × 64 dims, 128 tokens, masked (softmax)", attention_softmax),
    ("maxpool3x3_s2", "max pool 3×3 stride 2, 64 ch at 112×112", maxpool3x3_s2),
    ("resnet50_bottleneck", "ResNet-50 layer2 bottleneck: 512→128→128→512 at 28×28", resnet50_bottleneck),
    ("bert_layer", "BERT-base encoder layer, 64 tokens (without its two LayerNorms)", bert_layer),
];

/// The function callgrind counts (`--toggle-collect=*guard_measured*`): one run of the case.
#[inline(never)]
fn guard_measured(job: &mut Job) {
    job();
}

/// Seeded values in `[-scale, scale)` (SplitMix64), the same on every run.
fn values(seed: u64, n: usize, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// A convolution layer with a folded inference BatchNorm (scale, shift) and its activation.
struct ConvLayer {
    weight: Vec<f32>,
    shape: [usize; 4],
    params: Conv2dParams,
    scale: Vec<f32>,
    shift: Vec<f32>,
    activation: Activation,
}

impl ConvLayer {
    fn new(seed: u64, shape: [usize; 4], stride: usize, pad: usize, groups: usize, activation: Activation) -> Self {
        let [cout, cig, kh, kw] = shape;
        let fan_in = (cig * kh * kw) as f32;
        Self {
            weight: values(seed, cout * cig * kh * kw, (3.0 / fan_in).sqrt()),
            shape,
            params: Conv2dParams { stride: [stride; 2], padding: [pad; 4], dilation: [1, 1], groups },
            scale: values(seed + 1, cout, 0.2).into_iter().map(|v| 1.0 + v).collect(),
            shift: values(seed + 2, cout, 0.1),
            activation,
        }
    }

    fn forward(&self, x: &[f32], x_shape: [usize; 4], residual: Option<&[f32]>) -> (Vec<f32>, [usize; 4]) {
        let e = Epilogue { bias: None, affine: Some((&self.scale, &self.shift)), residual, activation: self.activation };
        conv2d(x, x_shape, &self.weight, self.shape, self.params, &e).expect("the guard's shapes fit")
    }
}

/// One convolution layer on a seeded `[1, c, hw, hw]` input.
fn conv_job(x_shape: [usize; 4], layer: ConvLayer) -> Job {
    let x = values(7, x_shape.iter().product(), 1.0);
    Box::new(move || {
        black_box(layer.forward(black_box(&x), x_shape, None));
    })
}

fn conv1x1() -> Job {
    conv_job([1, 256, 28, 28], ConvLayer::new(11, [64, 256, 1, 1], 1, 0, 1, Activation::Relu))
}

fn conv3x3() -> Job {
    conv_job([1, 64, 28, 28], ConvLayer::new(12, [64, 64, 3, 3], 1, 1, 1, Activation::Relu))
}

fn conv3x3_direct() -> Job {
    let mut job = conv3x3();
    Box::new(move || {
        winograd::set_enabled(false);
        job();
        winograd::set_enabled(true);
    })
}

fn conv3x3_s2() -> Job {
    conv_job([1, 32, 56, 56], ConvLayer::new(13, [64, 32, 3, 3], 2, 1, 1, Activation::Relu))
}

fn conv7x7_s2() -> Job {
    conv_job([1, 3, 112, 112], ConvLayer::new(14, [64, 3, 7, 7], 2, 3, 1, Activation::Relu))
}

fn depthwise3x3() -> Job {
    conv_job([1, 144, 56, 56], ConvLayer::new(15, [144, 1, 3, 3], 1, 1, 144, Activation::Relu6))
}

fn depthwise3x3_s2() -> Job {
    conv_job([1, 144, 56, 56], ConvLayer::new(16, [144, 1, 3, 3], 2, 1, 144, Activation::Relu6))
}

fn grouped3x3() -> Job {
    conv_job([1, 128, 28, 28], ConvLayer::new(17, [128, 4, 3, 3], 1, 1, 32, Activation::Relu))
}

/// A `[d_in, d_out]` weight (burn's layout) and its bias.
struct Dense {
    weight: Vec<f32>,
    bias: Vec<f32>,
    d_out: usize,
}

impl Dense {
    fn new(seed: u64, d_in: usize, d_out: usize) -> Self {
        Self { weight: values(seed, d_in * d_out, (3.0 / d_in as f32).sqrt()), bias: values(seed + 1, d_out, 0.1), d_out }
    }

    fn part(&self, layout: WeightLayout) -> LinearPart<'_> {
        LinearPart { weight: &self.weight, d_out: self.d_out, layout, bias: Some(&self.bias) }
    }
}

fn linear_gelu() -> Job {
    let (rows, d_in) = (64, 768);
    let (x, w) = (values(21, rows * d_in, 1.0), Dense::new(22, d_in, 3072));
    Box::new(move || {
        black_box(linear(black_box(&x), rows, d_in, &w.weight, w.d_out, WeightLayout::InOut, Some(&w.bias), Activation::Gelu).expect("fits"));
    })
}

fn linear_residual() -> Job {
    let (rows, d_in) = (64, 3072);
    let (x, w, res) = (values(23, rows * d_in, 1.0), Dense::new(24, d_in, 768), values(25, rows * 768, 1.0));
    Box::new(move || {
        black_box(linear_fused(black_box(&x), rows, d_in, &[w.part(WeightLayout::InOut)], Some(&res), Activation::None).expect("fits"));
    })
}

fn linear_qkv() -> Job {
    let (rows, d) = (64, 768);
    let x = values(26, rows * d, 1.0);
    let qkv: Vec<Dense> = (0..3).map(|i| Dense::new(27 + 2 * i, d, d)).collect();
    Box::new(move || {
        let parts: Vec<_> = qkv.iter().map(|w| w.part(WeightLayout::OutIn)).collect();
        black_box(linear_fused(black_box(&x), rows, d, &parts, None, Activation::None).expect("fits"));
    })
}

fn linear_gemv() -> Job {
    let d_in = 768;
    let (x, w) = (values(33, d_in, 1.0), Dense::new(34, d_in, 1000));
    Box::new(move || {
        black_box(linear(black_box(&x), 1, d_in, &w.weight, w.d_out, WeightLayout::InOut, Some(&w.bias), Activation::None).expect("fits"));
    })
}

/// An activation applied in place to a seeded copy of 65 536 values in `[-6, 6)`.
fn act_job(a: Activation) -> Job {
    let x = values(41, 1 << 16, 6.0);
    let mut buf = x.clone();
    Box::new(move || {
        buf.copy_from_slice(&x);
        act::apply(a, black_box(&mut buf));
    })
}

fn act_gelu() -> Job {
    act_job(Activation::Gelu)
}

fn act_gelu_tanh() -> Job {
    act_job(Activation::GeluTanh)
}

fn act_silu() -> Job {
    act_job(Activation::Silu)
}

fn act_hardswish() -> Job {
    act_job(Activation::HardSwish)
}

fn bn_relu_nchw() -> Job {
    let (c, plane) = (256, 28 * 28);
    let x = values(42, c * plane, 2.0);
    let (scale, shift) = (values(43, c, 1.0), values(44, c, 0.5));
    let mut buf = x.clone();
    Box::new(move || {
        buf.copy_from_slice(&x);
        let e = Epilogue { affine: Some((&scale, &shift)), activation: Activation::Relu, ..Default::default() };
        act::epilogue_nchw(black_box(&mut buf), c, plane, &e).expect("fits");
    })
}

fn attention_softmax() -> Job {
    let (len, heads, hd) = (128, 12, 64);
    let d = heads * hd;
    let qkv = values(51, len * 3 * d, 2.0);
    // The last 16 keys are padding (BERT's attention mask).
    let mask: Vec<bool> = (0..len).map(|j| j >= len - 16).collect();
    Box::new(move || {
        let view = |part: usize| Heads::of_rows(&qkv, part * d, 3 * d, 1, len, heads, hd);
        let m = hub_kernels::Mask { data: &mask, dims: [1, 1, len] };
        black_box(attention(&view(0), &view(1), &view(2), Some(&m), 1.0 / (hd as f32).sqrt()).expect("fits"));
    })
}

fn maxpool3x3_s2() -> Job {
    let shape = [1, 64, 112, 112];
    let x = values(61, shape.iter().product(), 1.0);
    let p = Pool2dParams { kernel: [3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], ceil_mode: false };
    Box::new(move || {
        black_box(pool2d(black_box(&x), shape, PoolKind::Max, p).expect("fits"));
    })
}

fn resnet50_bottleneck() -> Job {
    let x_shape = [1, 512, 28, 28];
    let x = values(71, x_shape.iter().product(), 1.0);
    let reduce = ConvLayer::new(72, [128, 512, 1, 1], 1, 0, 1, Activation::Relu);
    let spatial = ConvLayer::new(75, [128, 128, 3, 3], 1, 1, 1, Activation::Relu);
    let expand = ConvLayer::new(78, [512, 128, 1, 1], 1, 0, 1, Activation::Relu);
    Box::new(move || {
        let (a, a_shape) = reduce.forward(black_box(&x), x_shape, None);
        let (b, b_shape) = spatial.forward(&a, a_shape, None);
        black_box(expand.forward(&b, b_shape, Some(&x)));
    })
}

fn bert_layer() -> Job {
    let (len, d, heads, ffn) = (64, 768, 12, 3072);
    let x = values(81, len * d, 1.0);
    let qkv: Vec<Dense> = (0..3).map(|i| Dense::new(82 + 2 * i, d, d)).collect();
    let (out, up, down) = (Dense::new(90, d, d), Dense::new(92, d, ffn), Dense::new(94, ffn, d));
    Box::new(move || {
        let parts: Vec<_> = qkv.iter().map(|w| w.part(WeightLayout::InOut)).collect();
        let fused = linear_fused(black_box(&x), len, d, &parts, None, Activation::None).expect("fits");
        let view = |part: usize| Heads::of_rows(&fused, part * d, 3 * d, 1, len, heads, d / heads);
        let context = attention(&view(0), &view(1), &view(2), None, 1.0 / ((d / heads) as f32).sqrt()).expect("fits");
        let h = linear_fused(&context, len, d, &[out.part(WeightLayout::InOut)], Some(&x), Activation::None).expect("fits");
        let hidden = linear_fused(&h, len, d, &[up.part(WeightLayout::InOut)], None, Activation::Gelu).expect("fits");
        black_box(linear_fused(&hidden, len, ffn, &[down.part(WeightLayout::InOut)], Some(&h), Activation::None).expect("fits"));
    })
}

/// The dispatch path this process runs on (what the baseline records).
fn dispatch() -> String {
    let mut path = hub_kernels::simd_level().to_owned();
    if act::portable_forced() {
        path.push_str(", HUB_KERNELS_SIMD=portable");
    }
    path
}

fn find(name: &str) -> Result<fn() -> Job> {
    match CASES.iter().find(|(n, _, _)| *n == name) {
        Some((_, _, setup)) => Ok(*setup),
        None => bail!("no guard case {name:?}: `guards --list` names them"),
    }
}

/// Sets the case up, warms it and runs it once inside [`guard_measured`], all on the one
/// thread of rayon's pool (the kernels' own parallel loops then run inline on that thread).
fn run_once(name: &str) -> Result<()> {
    let mut job = find(name)?();
    eprintln!("dispatch: {}", dispatch());
    rayon::scope(|_| {
        job();
        guard_measured(&mut job);
    });
    Ok(())
}

/// Every case natively: the median of repeated runs (about 0.2 s each).
fn time_all() {
    println!("guards, wall clock on one thread (dispatch: {}; printed, not gated):", dispatch());
    println!("{:<22} {:>12}  what", "case", "median");
    for (name, what, setup) in CASES {
        let mut job = setup();
        let mut times = Vec::new();
        rayon::scope(|_| {
            job();
            let started = Instant::now();
            while times.len() < 5 || (started.elapsed() < Duration::from_millis(200) && times.len() < 1000) {
                let t = Instant::now();
                guard_measured(&mut job);
                times.push(t.elapsed());
            }
        });
        times.sort();
        let median = times[times.len() / 2];
        println!("{name:<22} {:>9.3} ms  {what}", median.as_secs_f64() * 1e3);
    }
}

fn main() -> Result<()> {
    hub_kernels::threads::init(Some(1)).context("one thread for the guards")?;
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => time_all(),
        ["--list"] => CASES.iter().for_each(|(name, _, _)| println!("{name}")),
        ["--run", name] => run_once(name)?,
        other => bail!("usage: guards [--list | --run CASE] (got {other:?})"),
    }
    Ok(())
}
