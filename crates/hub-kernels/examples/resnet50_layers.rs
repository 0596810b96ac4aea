//! ResNet-50's convolutions (batch 1, 224×224) through `hub_kernels::conv2d`: time and GFLOP/s
//! per layer shape (counted on the direct convolution's FLOPs, whatever path runs), next to the
//! machine's FMA peak (`--peak GFLOPS`, else not shown). `--compare` also times every layer with
//! Winograd off, interleaved with the default path in the same process.
//!
//! `cargo run --release -p hub-kernels --example resnet50_layers [-- --threads N --peak 224 --compare]`

use std::time::Instant;

use hub_kernels::{conv2d, winograd, Activation, Conv2dParams, Epilogue};

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut threads, mut peak, mut compare) = (None, None::<f64>, false);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().and_then(|v| v.parse().ok()),
            "--peak" => peak = args.next().and_then(|v| v.parse().ok()),
            "--compare" => compare = true,
            other => panic!("unknown argument {other}"),
        }
    }
    let threads = hub_kernels::threads::init(threads).expect("thread pool");
    println!("threads {threads}, SIMD {}", hub_kernels::simd_level());
    // (input channels, size, output channels, kernel, stride, count in the network)
    let layers: &[(usize, usize, usize, usize, usize, usize)] = &[
        (3, 224, 64, 7, 2, 1),
        (64, 56, 64, 1, 1, 1),
        (64, 56, 64, 3, 1, 3),
        (64, 56, 256, 1, 1, 4),
        (256, 56, 64, 1, 1, 2),
        (256, 56, 128, 1, 1, 1),
        (128, 56, 128, 3, 2, 1),
        (128, 28, 512, 1, 1, 4),
        (256, 56, 512, 1, 2, 1),
        (512, 28, 128, 1, 1, 3),
        (128, 28, 128, 3, 1, 3),
        (512, 28, 256, 1, 1, 1),
        (256, 28, 256, 3, 2, 1),
        (256, 14, 1024, 1, 1, 6),
        (512, 28, 1024, 1, 2, 1),
        (1024, 14, 256, 1, 1, 5),
        (256, 14, 256, 3, 1, 5),
        (1024, 14, 512, 1, 1, 1),
        (512, 14, 512, 3, 2, 1),
        (512, 7, 2048, 1, 1, 3),
        (1024, 14, 2048, 1, 2, 1),
        (2048, 7, 512, 1, 1, 2),
        (512, 7, 512, 3, 1, 2),
    ];
    if compare {
        println!("| layer | out | GFLOP | path | ms, Winograd off | ms | GFLOP/s | of peak |\n|---|---|---:|---|---:|---:|---:|---:|");
    } else {
        println!("| layer | out | GFLOP | ms | GFLOP/s | of peak |\n|---|---|---:|---:|---:|---:|");
    }
    let (mut total_ms, mut total_off, mut total_flop) = (0.0, 0.0, 0.0);
    for &(cin, size, cout, k, stride, count) in layers {
        let pad = k / 2;
        let p = Conv2dParams { stride: [stride; 2], padding: [pad; 4], ..Default::default() };
        let x: Vec<f32> = (0..cin * size * size).map(|i| ((i * 7919) % 1000) as f32 * 1e-3 - 0.5).collect();
        let w: Vec<f32> = (0..cout * cin * k * k).map(|i| ((i * 104_729) % 1000) as f32 * 1e-3 - 0.5).collect();
        let scale = vec![1.0f32; cout];
        let shift = vec![0.1f32; cout];
        let e = Epilogue { affine: Some((&scale, &shift)), activation: Activation::Relu, ..Default::default() };
        let run = || conv2d(&x, [1, cin, size, size], &w, [cout, cin, k, k], p, &e).expect("fits");
        let (_, shape) = run();
        let flop = 2.0 * (cout * shape[2] * shape[3] * cin * k * k) as f64 * 1e-9;
        let time = |on: bool| {
            winograd::set_enabled(on);
            let t = Instant::now();
            std::hint::black_box(run());
            t.elapsed().as_secs_f64() * 1e3
        };
        for _ in 0..3 {
            time(true);
            if compare {
                time(false);
            }
        }
        // Interleaved: the default path, then (with --compare) Winograd off, 15 times.
        let (mut on, mut off) = (Vec::new(), Vec::new());
        for _ in 0..15 {
            on.push(time(true));
            if compare {
                off.push(time(false));
            }
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
        };
        let (ms, ms_off) = (median(on), median(off));
        total_ms += ms * count as f64;
        total_off += ms_off * count as f64;
        total_flop += flop * count as f64;
        let rate = flop / ms * 1e3;
        let of_peak = peak.map_or("".into(), |p| format!("{:.0}%", rate / p * 100.0));
        let layer = format!("{cin}→{cout} {k}×{k}/{stride} ×{count}");
        if compare {
            let path = winograd::choose([1, cin, size, size], [cout, cin, k, k], p).map_or("direct".to_string(), |v| format!("{v:?}"));
            println!("| {layer} | {}×{} | {flop:.3} | {path} | {ms_off:.2} | {ms:.2} | {rate:.1} | {of_peak} |", shape[2], shape[3]);
        } else {
            println!("| {layer} | {}×{} | {flop:.3} | {ms:.2} | {rate:.1} | {of_peak} |", shape[2], shape[3]);
        }
    }
    winograd::set_enabled(true);
    println!("all convolutions: {total_flop:.2} GFLOP in {total_ms:.1} ms = {:.1} GFLOP/s", total_flop / total_ms * 1e3);
    if compare {
        println!("with Winograd off: {total_flop:.2} GFLOP in {total_off:.1} ms = {:.1} GFLOP/s", total_flop / total_off * 1e3);
    }
}
