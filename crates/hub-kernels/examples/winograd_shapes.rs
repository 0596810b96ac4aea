//! 3×3 stride-1 convolutions of several models through the direct GEMM path and the three
//! Winograd variants, interleaved in one process: time, effective GFLOP/s (counted on the direct
//! convolution's FLOPs), the largest difference from the direct result, and what
//! `hub_kernels::conv2d` chooses.
//!
//! `cargo run --release -p hub-kernels --example winograd_shapes [-- --threads N --batch B --only MODEL | --shape C_IN,SIZE,C_OUT,PAD,DIL] [--repeat direct|F2|F3|F4 N]`

use std::time::Instant;

use hub_kernels::winograd::{self, Variant};
use hub_kernels::{conv2d, Activation, Conv2dParams, Epilogue};

/// (model, input channels, size, output channels, padding, dilation)
const SHAPES: &[(&str, usize, usize, usize, usize, usize)] = &[
    ("resnet50", 64, 56, 64, 1, 1),
    ("resnet50", 128, 28, 128, 1, 1),
    ("resnet50", 256, 14, 256, 1, 1),
    ("resnet50", 512, 7, 512, 1, 1),
    ("deeplabv3", 64, 130, 64, 1, 1),
    ("deeplabv3", 128, 65, 128, 1, 1),
    ("deeplabv3", 256, 65, 256, 2, 2),
    ("deeplabv3", 512, 65, 512, 2, 2),
    ("deeplabv3", 512, 65, 512, 4, 4),
    ("deeplabv3", 2048, 65, 256, 12, 12),
    ("deeplabv3", 2048, 65, 256, 24, 24),
    ("deeplabv3", 2048, 65, 256, 36, 36),
    ("deeplabv3", 256, 65, 256, 1, 1),
    ("deeplabv3", 1024, 65, 256, 1, 1),
    ("vgg16", 64, 224, 64, 1, 1),
    ("vgg16", 128, 112, 128, 1, 1),
    ("vgg16", 256, 56, 256, 1, 1),
    ("vgg16", 512, 28, 512, 1, 1),
    ("vgg16", 512, 14, 512, 1, 1),
    ("densenet121", 128, 56, 32, 1, 1),
    ("densenet121", 128, 28, 32, 1, 1),
    ("densenet121", 128, 14, 32, 1, 1),
    ("densenet121", 128, 7, 32, 1, 1),
    ("inception_v3", 32, 147, 32, 0, 1),
    ("inception_v3", 32, 147, 64, 1, 1),
    ("inception_v3", 80, 73, 192, 0, 1),
    ("inception_v3", 64, 35, 96, 1, 1),
    ("inception_v3", 96, 35, 96, 1, 1),
    ("inception_v3", 448, 8, 384, 1, 1),
    ("googlenet", 64, 56, 192, 1, 1),
    ("googlenet", 96, 28, 128, 1, 1),
    ("googlenet", 112, 14, 224, 1, 1),
    ("alexnet", 192, 13, 384, 1, 1),
    ("alexnet", 384, 13, 256, 1, 1),
    ("squeezenet1_1", 16, 55, 64, 1, 1),
    ("squeezenet1_1", 64, 13, 256, 1, 1),
];

fn median(mut f: impl FnMut(), reps: usize) -> f64 {
    let mut v: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut threads, mut batch, mut only, mut custom, mut repeat) = (None, 1usize, None::<String>, None, None::<(String, usize)>);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().and_then(|v| v.parse().ok()),
            "--batch" => batch = args.next().and_then(|v| v.parse().ok()).expect("--batch N"),
            "--only" => only = args.next(),
            // For profiling: run only one path (direct, F2 or F4) N times per shape.
            "--repeat" => {
                let path = args.next().expect("--repeat direct|F2|F3|F4 N");
                repeat = Some((path, args.next().and_then(|v| v.parse().ok()).expect("--repeat PATH N")));
            }
            // One shape: input channels, size, output channels, padding, dilation.
            "--shape" => {
                let v: Vec<usize> = args.next().expect("--shape C_IN,SIZE,C_OUT,PAD,DIL").split(',').map(|v| v.parse().expect("a number")).collect();
                custom = Some(("custom", v[0], v[1], v[2], v[3], v[4]));
            }
            other => panic!("unknown argument {other}"),
        }
    }
    let threads = hub_kernels::threads::init(threads).expect("thread pool");
    println!("threads {threads}, SIMD {}, batch {batch}", hub_kernels::simd_level());
    println!("| model | layer | out | GFLOP | direct ms | F(2×2) ms | F(3×3) ms | F(4×4) ms | best speedup | eff. GFLOP/s | max diff F2, F3, F4 (max \\|y\\|) | chosen |");
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|");
    let shapes: Vec<_> = custom.map_or_else(|| SHAPES.to_vec(), |c| vec![c]);
    for (model, cin, size, cout, pad, dil) in shapes {
        if only.as_deref().is_some_and(|o| o != model) {
            continue;
        }
        let p = Conv2dParams { padding: [pad; 4], dilation: [dil; 2], ..Default::default() };
        let xs = [batch, cin, size, size];
        let ws = [cout, cin, 3, 3];
        let x: Vec<f32> = (0..xs.iter().product::<usize>()).map(|i| ((i * 7919) % 1000) as f32 * 1e-3 - 0.5).collect();
        let w: Vec<f32> = (0..ws.iter().product::<usize>()).map(|i| ((i * 104_729) % 1000) as f32 * 2e-3 / (cin as f32 * 9.0).sqrt() - 1e-3 / (cin as f32 * 9.0).sqrt()).collect();
        let scale = vec![1.0f32; cout];
        let shift = vec![0.1f32; cout];
        let e = Epilogue { affine: Some((&scale, &shift)), activation: Activation::Relu, ..Default::default() };
        winograd::set_enabled(false);
        let direct = || conv2d(&x, xs, &w, ws, p, &e).expect("fits");
        let wino = |v| winograd::conv2d(&x, xs, &w, ws, p, &e, v).expect("fits");
        if let Some((path, n)) = &repeat {
            for _ in 0..*n {
                drop(std::hint::black_box(match path.as_str() {
                    "F2" => wino(Variant::F2x2),
                    "F3" => wino(Variant::F3x3),
                    "F4" => wino(Variant::F4x4),
                    _ => direct(),
                }));
            }
            continue;
        }
        let (y, shape) = direct();
        let (y2, _) = wino(Variant::F2x2);
        let (y3, _) = wino(Variant::F3x3);
        let (y4, _) = wino(Variant::F4x4);
        let max_y = y.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let diff = |z: &[f32]| y.iter().zip(z).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        let (d2, d3, d4) = (diff(&y2), diff(&y3), diff(&y4));
        let flop = 2.0 * (batch * cout * shape[2] * shape[3] * cin * 9) as f64 * 1e-9;
        let reps = if flop > 5.0 { 3 } else if flop > 1.0 { 5 } else { 11 };
        // Interleaved: one round of each, repeated.
        let (mut td, mut t2, mut t3, mut t4) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..reps {
            td.push(median(|| drop(std::hint::black_box(direct())), 1));
            t2.push(median(|| drop(std::hint::black_box(wino(Variant::F2x2))), 1));
            t3.push(median(|| drop(std::hint::black_box(wino(Variant::F3x3))), 1));
            t4.push(median(|| drop(std::hint::black_box(wino(Variant::F4x4))), 1));
        }
        let med = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (td, t2, t3, t4) = (med(td), med(t2), med(t3), med(t4));
        let best = t2.min(t3).min(t4);
        let chosen = winograd::choose(xs, ws, p).map_or("direct".to_string(), |v| format!("{v:?}"));
        println!(
            "| {model} | {cin}→{cout} d{dil} | {}×{} | {flop:.3} | {td:.2} | {t2:.2} | {t3:.2} | {t4:.2} | {:.2}× | {:.1} | {d2:.1e}, {d3:.1e}, {d4:.1e} ({max_y:.1e}) | {chosen} |",
            shape[2],
            shape[3],
            td / best,
            flop / best * 1e3,
        );
    }
}
