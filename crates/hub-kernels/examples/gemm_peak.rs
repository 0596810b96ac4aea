//! Square, ResNet- and BERT-shaped GEMMs through `hub_kernels::linear`, in GFLOP/s.
use std::time::Instant;
fn main() {
    let t: Option<usize> = std::env::args().nth(1).and_then(|v| v.parse().ok());
    hub_kernels::threads::init(t).unwrap();
    println!("threads {}", hub_kernels::threads::current());
    for (m, k, n) in [(1024, 1024, 1024), (512, 512, 512), (3136, 576, 64), (64, 576, 3136), (49, 4608, 512), (256, 2304, 196), (128, 768, 2304), (128, 768, 768), (128, 768, 3072), (128, 3072, 768), (1024, 768, 3072), (1, 9216, 4096), (4, 768, 2304)] {
        let x = vec![0.5f32; m * k];
        let w = vec![0.25f32; k * n];
        let run = || hub_kernels::linear(&x, m, k, &w, n, hub_kernels::WeightLayout::InOut, None, hub_kernels::Activation::None).unwrap();
        run();
        let mut v: Vec<f64> = (0..10).map(|_| { let t = Instant::now(); std::hint::black_box(run()); t.elapsed().as_secs_f64() }).collect();
        v.sort_by(f64::total_cmp);
        println!("{m}x{k}x{n}: {:.2} ms, {:.1} GFLOP/s", v[5] * 1e3, 2.0 * (m * k * n) as f64 / v[5] * 1e-9);
    }
}
