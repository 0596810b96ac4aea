//! Single layers around the convolutions, timed on flex with hub's kernels and with burn's
//! ops, interleaved: pooling, channel concatenation and shuffle as the vision models use them.
//!
//! `cargo run --release -p hub-bench --example ops`
use std::time::Instant;

use burn::nn::pool::{AvgPool2dConfig, MaxPool2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::{Distribution, Tensor};
use hub_models::{kernels, Cpu};

/// A named layer to time.
type Case<'a> = (&'a str, Box<dyn Fn() -> Tensor<Cpu, 4> + 'a>);

fn main() -> anyhow::Result<()> {
    let threads = kernels::init_threads(None)?;
    println!("threads {threads}, SIMD {}", kernels::simd_level());
    let d = Default::default();
    let x = Tensor::<Cpu, 4>::random([1, 64, 112, 112], Distribution::Normal(0.0, 1.0), &d);
    let y = Tensor::<Cpu, 4>::random([1, 192, 28, 28], Distribution::Normal(0.0, 1.0), &d);
    let a = Tensor::<Cpu, 4>::random([1, 64, 55, 55], Distribution::Normal(0.0, 1.0), &d);
    let stem = MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init();
    let ceil = MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).with_ceil_mode(true).init();
    let same = MaxPool2dConfig::new([3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).with_ceil_mode(true).init();
    let avg = AvgPool2dConfig::new([3, 3]).with_strides([1, 1]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init();
    let cases: Vec<Case<'_>> = vec![
        ("max pool 3×3/2 pad 1, [1,64,112,112] (ResNet stem)", Box::new(|| kernels::max_pool2d(&stem, x.clone()))),
        ("max pool 3×3/2 ceil, [1,64,112,112] (SqueezeNet)", Box::new(|| kernels::max_pool2d(&ceil, x.clone()))),
        ("max pool 3×3/1 pad 1, [1,192,28,28] (GoogLeNet)", Box::new(|| kernels::max_pool2d(&same, y.clone()))),
        ("avg pool 3×3/1 pad 1, [1,192,28,28] (Inception)", Box::new(|| kernels::avg_pool2d(&avg, y.clone()))),
        ("cat 2×[1,64,55,55] on channels (Fire)", Box::new(|| kernels::cat_channels(vec![a.clone(), a.clone()]))),
        ("channel shuffle 2 groups, [1,192,28,28]", Box::new(|| kernels::channel_shuffle(y.clone(), 2))),
    ];
    for (name, f) in cases {
        let run = |fast: bool| {
            kernels::set_enabled(fast);
            let t = Instant::now();
            let v = f().into_data().to_vec::<f32>().expect("f32");
            (t.elapsed().as_secs_f64() * 1e3, v)
        };
        let (_, a) = run(true);
        let (_, b) = run(false);
        let diff = a.iter().zip(&b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        for _ in 0..20 {
            fast.push(run(true).0);
            slow.push(run(false).0);
        }
        fast.sort_by(f64::total_cmp);
        slow.sort_by(f64::total_cmp);
        println!("{name:>52}: kernels {:7.3} ms, burn ops {:7.3} ms; max |diff| {diff:.1e}", fast[10], slow[10]);
    }
    kernels::set_enabled(true);
    Ok(())
}
