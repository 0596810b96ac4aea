//! Every kernel path against plain scalar loops, over random shapes: odd sizes, asymmetric
//! padding, strides, dilations, groups, depthwise, every epilogue part and activation.

use hub_kernels::act::{self, Activation};
use hub_kernels::winograd::{self, Variant};
use hub_kernels::{attention, cat_channels, channel_shuffle, conv2d, linear, linear_fused, pool2d, Conv2dParams, Epilogue, Heads, LinearPart, Mask, Pool2dParams, PoolKind, WeightLayout};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn normal_vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| ((self.next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 4.0).collect()
    }
}

fn activate_f64(a: Activation, x: f64) -> f64 {
    let erf = |x: f64| -> f64 {
        let a = x.abs();
        let v = if a <= 2.0 {
            // Taylor series: the terms stay small for |x| ≤ 2.
            let (mut sum, mut term, mut n) = (0.0, a, 0.0);
            while n < 80.0 {
                sum += term / (2.0 * n + 1.0);
                n += 1.0;
                term *= -a * a / n;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            // erfc's continued fraction, evaluated from the tail.
            let mut f = a;
            for n in (1..=120).rev() {
                f = a + (n as f64 / 2.0) / f;
            }
            1.0 - (-a * a).exp() / (std::f64::consts::PI.sqrt() * f)
        };
        v.copysign(x)
    };
    match a {
        Activation::None => x,
        Activation::Relu => x.max(0.0),
        Activation::Relu6 => x.clamp(0.0, 6.0),
        Activation::Silu => x / (1.0 + (-x).exp()),
        Activation::HardSwish => x * (x + 3.0).clamp(0.0, 6.0) / 6.0,
        Activation::HardSigmoid => (x + 3.0).clamp(0.0, 6.0) / 6.0,
        Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Activation::Gelu => 0.5 * x * (1.0 + erf(x / 2f64.sqrt())),
        Activation::GeluTanh => 0.5 * x * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x)).tanh()),
        Activation::Tanh => x.tanh(),
        _ => unreachable!("new activation without a reference"),
    }
}

const ACTIVATIONS: [Activation; 10] = [
    Activation::None,
    Activation::Relu,
    Activation::Relu6,
    Activation::Silu,
    Activation::HardSwish,
    Activation::HardSigmoid,
    Activation::Sigmoid,
    Activation::Gelu,
    Activation::GeluTanh,
    Activation::Tanh,
];

#[test]
fn activations_match_f64_within_a_few_ulp() {
    let xs: Vec<f32> = (-60_000..=60_000).map(|i| i as f32 * 1e-4).chain([-80.0, -30.0, 30.0, 80.0, 1e-30, -1e-30, 0.0]).collect();
    for a in ACTIVATIONS {
        let mut ys = xs.clone();
        act::apply(a, &mut ys);
        let mut worst = 0.0f64;
        for (&x, &y) in xs.iter().zip(&ys) {
            let r = activate_f64(a, x as f64);
            // Absolute error for values near 0, relative otherwise; erf-based GELU is limited by
            // A&S 7.1.26's 1.5e-7 absolute error (as PyTorch's vectorised erf).
            let err = (y as f64 - r).abs() / r.abs().max(1.0);
            worst = worst.max(err);
            assert!(y.is_finite(), "{a:?}({x}) = {y}");
        }
        let bound = if a == Activation::Gelu { 4e-7 } else { 2.5e-7 };
        assert!(worst < bound, "{a:?}: worst error {worst:e}");
        // The scalar entry point agrees with the vectorised one.
        for &x in xs.iter().step_by(997) {
            let mut one = [x];
            act::apply(a, &mut one);
            assert_eq!(one[0].to_bits(), act::activate(a, x).to_bits(), "{a:?}({x})");
        }
    }
}

#[test]
fn exp_is_accurate_and_saturates() {
    let mut worst = 0.0f64;
    for i in -87_000..88_000 {
        let x = i as f32 * 1e-3;
        let r = (x as f64).exp();
        worst = worst.max((act::exp(x) as f64 - r).abs() / r);
    }
    assert!(worst < 2.5e-7, "exp worst relative error {worst:e}");
    assert!(act::exp(-1e4) >= 0.0 && act::exp(-1e4) < 1e-37);
    assert!(act::exp(1e4).is_finite());
    assert!(act::exp(f32::NAN).is_nan());
}

/// The epilogue in f64 for channel `c` and output element `i`.
fn epilogue_f64(e: &Epilogue<'_>, c: usize, i: usize, mut v: f64) -> f64 {
    if let Some(b) = e.bias {
        v += b[c] as f64;
    }
    if let Some((s, t)) = e.affine {
        v = v * s[c] as f64 + t[c] as f64;
    }
    if let Some(r) = e.residual {
        v += r[i] as f64;
    }
    activate_f64(e.activation, v)
}

fn conv_reference(x: &[f32], xs: [usize; 4], w: &[f32], ws: [usize; 4], p: Conv2dParams, e: &Epilogue<'_>) -> (Vec<f64>, [usize; 4]) {
    let [n, cin, h, wd] = xs;
    let [cout, cig, kh, kw] = ws;
    let [pt, pl, pb, pr] = p.padding;
    let oh = (h + pt + pb - p.dilation[0] * (kh - 1) - 1) / p.stride[0] + 1;
    let ow = (wd + pl + pr - p.dilation[1] * (kw - 1) - 1) / p.stride[1] + 1;
    let mg = cout / p.groups;
    let mut out = vec![0.0f64; n * cout * oh * ow];
    for b in 0..n {
        for co in 0..cout {
            let g = co / mg;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = 0.0f64;
                    for ci in 0..cig {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (oy * p.stride[0] + ky * p.dilation[0]) as isize - pt as isize;
                                let ix = (ox * p.stride[1] + kx * p.dilation[1]) as isize - pl as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                    continue;
                                }
                                let xi = ((b * cin + g * cig + ci) * h + iy as usize) * wd + ix as usize;
                                let wi = ((co * cig + ci) * kh + ky) * kw + kx;
                                acc += x[xi] as f64 * w[wi] as f64;
                            }
                        }
                    }
                    let o = ((b * cout + co) * oh + oy) * ow + ox;
                    out[o] = epilogue_f64(e, co, o, acc);
                }
            }
        }
    }
    (out, [n, cout, oh, ow])
}

fn assert_close(got: &[f32], want: &[f64], scale: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        if g as f64 == w {
            continue; // equal, infinities included (a max-pool window entirely in padding)
        }
        let tol = 1e-5 * scale.max(1.0) + 1e-5 * w.abs();
        assert!((g as f64 - w).abs() <= tol, "{what}: element {i}: {g} vs {w} (tolerance {tol:e})");
    }
}

#[test]
fn conv2d_matches_the_scalar_reference_over_random_shapes() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..300 {
        let groups = [1, 1, 1, 2, 3, 4][rng.below(6)];
        let depthwise = rng.below(4) == 0;
        let cin = if depthwise { rng.range(1, 9) } else { groups * rng.range(1, 5) };
        let (cout, groups) = if depthwise { (cin, cin) } else { (groups * rng.range(1, 6), groups) };
        let (kh, kw) = if rng.below(3) == 0 { (1, 1) } else { (rng.range(1, 5), rng.range(1, 5)) };
        let p = Conv2dParams {
            stride: [rng.range(1, 3), rng.range(1, 3)],
            padding: [rng.below(3), rng.below(3), rng.below(3), rng.below(3)],
            dilation: [rng.range(1, 2), rng.range(1, 2)],
            groups,
        };
        let n = rng.range(1, 3);
        let h = rng.range(kh * p.dilation[0], 17);
        let w = rng.range(kw * p.dilation[1], 19);
        let xs = [n, cin, h, w];
        let ws = [cout, cin / groups, kh, kw];
        let x = rng.normal_vec(xs.iter().product());
        let wt = rng.normal_vec(ws.iter().product());
        let bias = rng.normal_vec(cout);
        let scale = rng.normal_vec(cout);
        let shift = rng.normal_vec(cout);
        let (_, out_shape) = conv_reference(&x, xs, &wt, ws, p, &Epilogue::default());
        let residual = rng.normal_vec(out_shape.iter().product());
        let e = Epilogue {
            bias: (rng.below(2) == 0).then_some(&bias[..]),
            affine: (rng.below(2) == 0).then_some((&scale[..], &shift[..])),
            residual: (rng.below(2) == 0).then_some(&residual[..]),
            activation: ACTIVATIONS[rng.below(ACTIVATIONS.len())],
        };
        let (want, want_shape) = conv_reference(&x, xs, &wt, ws, p, &e);
        let (got, got_shape) = conv2d(&x, xs, &wt, ws, p, &e).unwrap_or_else(|err| panic!("case {case}: {err}"));
        assert_eq!(got_shape, want_shape, "case {case}");
        let k = (cin / groups * kh * kw) as f64;
        assert_close(&got, &want, 4.0 * k.sqrt() * 4.0, &format!("case {case}: x {xs:?} w {ws:?} {p:?} {:?}", e.activation));
    }
}

#[test]
fn conv2d_large_layers_split_into_tiles_agree() {
    // Big enough that the GEMM path splits pixels and channels into several tiles and threads.
    let mut rng = Rng(7);
    for (xs, ws, p) in [
        ([1, 64, 56, 56], [64, 64, 3, 3], Conv2dParams { padding: [1; 4], ..Default::default() }),
        ([2, 256, 14, 14], [512, 256, 1, 1], Conv2dParams { stride: [2, 2], ..Default::default() }),
        ([1, 512, 7, 7], [2048, 512, 1, 1], Conv2dParams::default()),
        ([1, 128, 28, 28], [128, 4, 3, 3], Conv2dParams { padding: [1; 4], groups: 32, ..Default::default() }),
        ([1, 3, 64, 64], [16, 3, 7, 7], Conv2dParams { stride: [2, 2], padding: [3; 4], ..Default::default() }),
    ] {
        let x = rng.normal_vec(xs.iter().product());
        let wt = rng.normal_vec(ws.iter().product());
        let e = Epilogue { activation: Activation::Relu, ..Default::default() };
        let (want, _) = conv_reference(&x, xs, &wt, ws, p, &e);
        let (got, _) = conv2d(&x, xs, &wt, ws, p, &e).unwrap();
        let k = (ws[1] * ws[2] * ws[3]) as f64;
        assert_close(&got, &want, 16.0 * k.sqrt(), &format!("{xs:?} {ws:?}"));
    }
}

#[test]
fn conv2d_refuses_what_does_not_fit() {
    let x = vec![0.0; 2 * 3 * 5 * 5];
    let w = vec![0.0; 4 * 3 * 3 * 3];
    let p = Conv2dParams::default();
    let e = Epilogue::default();
    assert!(conv2d(&x, [2, 3, 5, 5], &w, [4, 3, 3, 3], p, &e).is_ok());
    assert!(conv2d(&x[1..], [2, 3, 5, 5], &w, [4, 3, 3, 3], p, &e).is_err(), "short input");
    assert!(conv2d(&x, [2, 3, 5, 5], &w, [4, 3, 3, 3], Conv2dParams { groups: 2, ..p }, &e).is_err(), "groups");
    assert!(conv2d(&x, [2, 3, 5, 5], &w, [4, 3, 3, 3], Conv2dParams { stride: [0, 1], ..p }, &e).is_err(), "stride 0");
    let big = vec![0.0; 4 * 3 * 7 * 7];
    assert!(conv2d(&x, [2, 3, 5, 5], &big, [4, 3, 7, 7], p, &e).is_err(), "kernel larger than input");
    let bias = [0.0; 3];
    assert!(conv2d(&x, [2, 3, 5, 5], &w, [4, 3, 3, 3], p, &Epilogue { bias: Some(&bias), ..e }).is_err(), "bias length");
    assert!(conv2d(&x, [usize::MAX, 3, 5, 5], &w, [4, 3, 3, 3], p, &e).is_err(), "overflow");
}

#[test]
fn linear_matches_the_scalar_reference() {
    let mut rng = Rng(11);
    for case in 0..120 {
        let rows = [1, 2, 3, 7, 33, 128][rng.below(6)];
        let d_in = rng.range(1, 70);
        let d_out = rng.range(1, 90);
        let layout = if rng.below(2) == 0 { WeightLayout::InOut } else { WeightLayout::OutIn };
        let x = rng.normal_vec(rows * d_in);
        let w = rng.normal_vec(d_in * d_out);
        let b = rng.normal_vec(d_out);
        let bias = (rng.below(2) == 0).then_some(&b[..]);
        let a = ACTIVATIONS[rng.below(ACTIVATIONS.len())];
        let got = linear(&x, rows, d_in, &w, d_out, layout, bias, a).unwrap();
        let mut want = vec![0.0f64; rows * d_out];
        for r in 0..rows {
            for j in 0..d_out {
                let mut acc = 0.0f64;
                for i in 0..d_in {
                    let wv = match layout {
                        WeightLayout::InOut => w[i * d_out + j],
                        WeightLayout::OutIn => w[j * d_in + i],
                    };
                    acc += x[r * d_in + i] as f64 * wv as f64;
                }
                if let Some(b) = bias {
                    acc += b[j] as f64;
                }
                want[r * d_out + j] = activate_f64(a, acc);
            }
        }
        assert_close(&got, &want, 8.0 * (d_in as f64).sqrt(), &format!("case {case}: {rows}×{d_in}→{d_out} {layout:?} {a:?}"));
    }
    assert!(linear(&[0.0; 5], 2, 3, &[0.0; 6], 2, WeightLayout::InOut, None, Activation::None).is_err());
}

#[test]
fn linear_fused_parts_and_residual_match_the_reference() {
    let mut rng = Rng(23);
    for case in 0..80 {
        let rows = [1, 2, 5, 17, 64, 130][rng.below(6)];
        let d_in = rng.range(1, 50);
        let n_parts = rng.range(1, 3);
        let widths: Vec<usize> = (0..n_parts).map(|_| rng.range(1, 70)).collect();
        let d_total: usize = widths.iter().sum();
        let x = rng.normal_vec(rows * d_in);
        let layouts: Vec<WeightLayout> = widths.iter().map(|_| if rng.below(2) == 0 { WeightLayout::InOut } else { WeightLayout::OutIn }).collect();
        let weights: Vec<Vec<f32>> = widths.iter().map(|&w| rng.normal_vec(d_in * w)).collect();
        let biases: Vec<Option<Vec<f32>>> = widths.iter().map(|&w| (rng.below(2) == 0).then(|| rng.normal_vec(w))).collect();
        let res = rng.normal_vec(rows * d_total);
        let residual = (rng.below(2) == 0).then_some(&res[..]);
        let a = ACTIVATIONS[rng.below(ACTIVATIONS.len())];
        let parts: Vec<LinearPart<'_>> = (0..n_parts)
            .map(|p| LinearPart { weight: &weights[p], d_out: widths[p], layout: layouts[p], bias: biases[p].as_deref() })
            .collect();
        let got = linear_fused(&x, rows, d_in, &parts, residual, a).unwrap();
        let mut want = vec![0.0f64; rows * d_total];
        for r in 0..rows {
            let mut col = 0;
            for p in 0..n_parts {
                let d_out = widths[p];
                for j in 0..d_out {
                    let mut acc = 0.0f64;
                    for i in 0..d_in {
                        let wv = match layouts[p] {
                            WeightLayout::InOut => weights[p][i * d_out + j],
                            WeightLayout::OutIn => weights[p][j * d_in + i],
                        };
                        acc += x[r * d_in + i] as f64 * wv as f64;
                    }
                    acc += biases[p].as_ref().map_or(0.0, |b| b[j] as f64);
                    acc += residual.map_or(0.0, |res| res[r * d_total + col + j] as f64);
                    want[r * d_total + col + j] = activate_f64(a, acc);
                }
                col += d_out;
            }
        }
        assert_close(&got, &want, 8.0 * (d_in as f64).sqrt(), &format!("case {case}: {rows}×{d_in}→{widths:?} {a:?}"));
    }
    // Few rows and a long input: the input dimension is split among threads and summed.
    for (case, &(rows, d_in, layout)) in [(1, 300, WeightLayout::InOut), (3, 517, WeightLayout::OutIn), (8, 1000, WeightLayout::InOut)].iter().enumerate() {
        let (d_out, x) = (37, rng.normal_vec(rows * d_in));
        let (w, b, res) = (rng.normal_vec(d_in * d_out), rng.normal_vec(d_out), rng.normal_vec(rows * d_out));
        let part = LinearPart { weight: &w, d_out, layout, bias: Some(&b) };
        let got = linear_fused(&x, rows, d_in, &[part], Some(&res), Activation::Gelu).unwrap();
        let want: Vec<f64> = (0..rows * d_out)
            .map(|o| {
                let (r, j) = (o / d_out, o % d_out);
                let acc: f64 = (0..d_in)
                    .map(|i| {
                        let wv = if layout == WeightLayout::InOut { w[i * d_out + j] } else { w[j * d_in + i] };
                        x[r * d_in + i] as f64 * wv as f64
                    })
                    .sum();
                activate_f64(Activation::Gelu, acc + b[j] as f64 + res[o] as f64)
            })
            .collect();
        assert_close(&got, &want, 8.0 * (d_in as f64).sqrt(), &format!("few rows, case {case}: {rows}×{d_in}"));
    }
    let w = [0.0; 6];
    let part = LinearPart { weight: &w, d_out: 2, layout: WeightLayout::InOut, bias: None };
    assert!(linear_fused(&[0.0; 6], 2, 3, &[part], Some(&[0.0; 3]), Activation::None).is_err(), "residual length");
    assert!(linear_fused(&[0.0; 6], 2, 3, &[], None, Activation::None).is_err(), "no parts");
}

/// Attention in f64 from plain nested loops over `[b, h, i, j]` arrays.
#[allow(clippy::too_many_arguments)]
fn attention_reference(q: &[f32], k: &[f32], v: &[f32], [batch, heads, q_len, hd]: [usize; 4], k_len: usize, mask: Option<&[bool]>, mask_q: usize, scale: f64) -> Vec<f64> {
    let mut out = vec![0.0f64; batch * q_len * heads * hd];
    for b in 0..batch {
        for h in 0..heads {
            for i in 0..q_len {
                let mut s: Vec<f64> = (0..k_len)
                    .map(|j| {
                        let dot: f64 = (0..hd).map(|t| q[((b * heads + h) * q_len + i) * hd + t] as f64 * k[((b * heads + h) * k_len + j) * hd + t] as f64).sum();
                        let masked = mask.is_some_and(|m| m[(b * mask_q + if mask_q == 1 { 0 } else { i }) * k_len + j]);
                        if masked { f32::MIN as f64 } else { dot * scale }
                    })
                    .collect();
                let max = s.iter().cloned().fold(f64::MIN, f64::max);
                s.iter_mut().for_each(|x| *x = (*x - max).exp());
                let sum: f64 = s.iter().sum();
                for t in 0..hd {
                    let acc: f64 = (0..k_len).map(|j| s[j] / sum * v[((b * heads + h) * k_len + j) * hd + t] as f64).sum();
                    out[(b * q_len + i) * heads * hd + h * hd + t] = acc;
                }
            }
        }
    }
    out
}

#[test]
fn attention_matches_the_reference_over_layouts_and_masks() {
    let mut rng = Rng(31);
    for case in 0..60 {
        let (batch, heads, hd) = (rng.range(1, 3), rng.range(1, 4), rng.range(1, 20));
        let q_len = [1, 2, 7, 19][rng.below(4)];
        let k_len = q_len + [0, 0, 3][rng.below(3)];
        let d = heads * hd;
        // Contiguous [b, h, len, hd] references, and the views the kernel reads.
        let (q, k, v) = (rng.normal_vec(batch * heads * q_len * hd), rng.normal_vec(batch * heads * k_len * hd), rng.normal_vec(batch * heads * k_len * hd));
        let contiguous = |len: usize| [heads * len * hd, len * hd, hd, 1];
        let fused = rng.below(2) == 0 && q_len == k_len;
        // As a fused [batch·len, 3·d] projection: q | k | v side by side.
        let mut qkv = vec![0.0f32; batch * q_len * 3 * d];
        if fused {
            for b in 0..batch {
                for h in 0..heads {
                    for i in 0..q_len {
                        for t in 0..hd {
                            let src = ((b * heads + h) * q_len + i) * hd + t;
                            let row = (b * q_len + i) * 3 * d;
                            qkv[row + h * hd + t] = q[src];
                            qkv[row + d + h * hd + t] = k[src];
                            qkv[row + 2 * d + h * hd + t] = v[src];
                        }
                    }
                }
            }
        }
        let view = |data, len| Heads { data, offset: 0, dims: [batch, heads, len, hd], strides: contiguous(len) };
        let (qv, kv, vv) = if fused {
            (Heads::of_rows(&qkv, 0, 3 * d, batch, q_len, heads, hd), Heads::of_rows(&qkv, d, 3 * d, batch, k_len, heads, hd), Heads::of_rows(&qkv, 2 * d, 3 * d, batch, k_len, heads, hd))
        } else {
            (view(&q[..], q_len), view(&k[..], k_len), view(&v[..], k_len))
        };
        let mask_q = if rng.below(2) == 0 { 1 } else { q_len };
        let m: Vec<bool> = (0..batch * mask_q * k_len).map(|_| rng.below(4) == 0).collect();
        let with_mask = rng.below(3) != 0;
        let mask = with_mask.then(|| Mask { data: &m, dims: [batch, mask_q, k_len] });
        let scale = 1.0 / (hd as f32).sqrt();
        let got = attention(&qv, &kv, &vv, mask.as_ref(), scale).unwrap();
        let want = attention_reference(&q, &k, &v, [batch, heads, q_len, hd], k_len, with_mask.then_some(&m[..]), mask_q, scale as f64);
        assert_close(&got, &want, 4.0, &format!("case {case}: b{batch} h{heads} q{q_len} k{k_len} hd{hd} fused {fused} mask {with_mask}"));
    }
    let x = [0.0f32; 8];
    let h = Heads { data: &x, offset: 0, dims: [1, 1, 2, 4], strides: [8, 8, 4, 1] };
    let past = Heads { offset: 1, ..h };
    assert!(attention(&past, &h, &h, None, 1.0).is_err(), "view past its buffer");
    let bad_mask = Mask { data: &[false; 3], dims: [1, 1, 3] };
    assert!(attention(&h, &h, &h, Some(&bad_mask), 1.0).is_err(), "mask of another key count");
}

/// Pooling as PyTorch defines it, from plain loops in f64: every window position checked
/// against the (padded) input one by one.
fn pool_reference(x: &[f32], [n, c, h, w]: [usize; 4], kind: PoolKind, p: Pool2dParams) -> Option<(Vec<f64>, [usize; 4])> {
    let size = |len: usize, k: usize, s: usize, pad: usize, d: usize| -> Option<usize> {
        let span = d * (k - 1) + 1;
        if len + 2 * pad < span || pad > span / 2 {
            return None;
        }
        let num = len + 2 * pad - span;
        let mut o = if p.ceil_mode { num.div_ceil(s) } else { num / s } + 1;
        if p.ceil_mode && (o - 1) * s >= len + pad {
            o -= 1;
        }
        Some(o)
    };
    let oh = size(h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0])?;
    let ow = size(w, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1])?;
    let mut out = Vec::with_capacity(n * c * oh * ow);
    for plane in x.chunks(h * w) {
        for oy in 0..oh {
            for ox in 0..ow {
                let (mut best, mut sum, mut real) = (f64::NEG_INFINITY, 0.0, 0usize);
                let mut padded = 0usize;
                for ky in 0..p.kernel[0] {
                    for kx in 0..p.kernel[1] {
                        let iy = (oy * p.stride[0] + ky * p.dilation[0]) as isize - p.padding[0] as isize;
                        let ix = (ox * p.stride[1] + kx * p.dilation[1]) as isize - p.padding[1] as isize;
                        if iy < (h + p.padding[0]) as isize && ix < (w + p.padding[1]) as isize {
                            padded += 1;
                        }
                        if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                            let v = plane[iy as usize * w + ix as usize] as f64;
                            best = best.max(v);
                            sum += v;
                            real += 1;
                        }
                    }
                }
                out.push(match kind {
                    PoolKind::Max => best,
                    PoolKind::Avg { count_include_pad: true } => sum / padded as f64,
                    PoolKind::Avg { count_include_pad: false } => sum / real.max(1) as f64,
                });
            }
        }
    }
    Some((out, [n, c, oh, ow]))
}

#[test]
fn pooling_matches_the_reference_over_random_windows() {
    let mut rng = Rng(59);
    let mut checked = 0;
    for case in 0..400 {
        let shape = [rng.range(1, 2), rng.range(1, 5), rng.range(1, 17), rng.range(1, 17)];
        let kind = match rng.below(3) {
            0 => PoolKind::Max,
            1 => PoolKind::Avg { count_include_pad: true },
            _ => PoolKind::Avg { count_include_pad: false },
        };
        let kernel = [rng.range(1, 4), rng.range(1, 4)];
        let dilation = if kind == PoolKind::Max { [rng.range(1, 2), rng.range(1, 2)] } else { [1, 1] };
        let p = Pool2dParams { kernel, stride: [rng.range(1, 3), rng.range(1, 3)], padding: [rng.below(2), rng.below(2)], dilation, ceil_mode: rng.below(2) == 0 };
        let x = rng.normal_vec(shape.iter().product());
        match (pool2d(&x, shape, kind, p), pool_reference(&x, shape, kind, p)) {
            (Ok((got, gs)), Some((want, ws))) => {
                assert_eq!(gs, ws, "case {case}: {p:?} {kind:?} over {shape:?}");
                assert_close(&got, &want, 1.0, &format!("case {case}: {p:?} {kind:?} over {shape:?}"));
                checked += 1;
            }
            (Err(_), None) => {}
            (got, want) => panic!("case {case}: {p:?} over {shape:?}: kernel {:?}, reference {:?}", got.map(|g| g.1), want.map(|w| w.1)),
        }
    }
    assert!(checked > 250, "only {checked} cases had a valid window");
    let p = Pool2dParams { kernel: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], ceil_mode: false };
    assert!(pool2d(&[0.0; 3], [1, 1, 2, 2], PoolKind::Max, p).is_err(), "length");
    assert!(pool2d(&[0.0; 1], [1, 1, 1, 1], PoolKind::Max, p).is_err(), "window larger than the input");
    let nan = pool2d(&[1.0, f32::NAN, 2.0, 3.0], [1, 1, 2, 2], PoolKind::Max, p).unwrap().0;
    assert!(nan[0].is_nan(), "NaN propagates through max pooling");
}

#[test]
fn cat_and_shuffle_move_whole_planes() {
    let mut rng = Rng(61);
    let (n, plane) = (3, 5);
    let a = rng.normal_vec(n * 2 * plane);
    let b = rng.normal_vec(n * 3 * plane);
    let cat = cat_channels(&[(&a, 2), (&b, 3)], n, plane).unwrap();
    for img in 0..n {
        for ch in 0..5 {
            let src = if ch < 2 { &a[(img * 2 + ch) * plane..][..plane] } else { &b[(img * 3 + ch - 2) * plane..][..plane] };
            assert_eq!(&cat[(img * 5 + ch) * plane..][..plane], src, "image {img} channel {ch}");
        }
    }
    assert!(cat_channels(&[(&a, 3)], n, plane).is_err(), "a part of the wrong length");
    let x: Vec<f32> = (0..2 * 6 * 2).map(|v| v as f32).collect();
    let y = channel_shuffle(&x, [2, 6, 1, 2], 2).unwrap();
    // Channels [0 1 2 | 3 4 5] interleave to [0 3 1 4 2 5], in each image.
    let order: Vec<usize> = y.chunks(2).map(|p| (p[0] as usize / 2) % 6).collect();
    assert_eq!(order, [0, 3, 1, 4, 2, 5, 0, 3, 1, 4, 2, 5]);
    assert!(channel_shuffle(&x, [2, 6, 1, 2], 4).is_err(), "groups must divide the channels");
}

/// `unsafe` lives in one module of this crate only (DEVELOPERS.md): every other Rust file of the
/// workspace is checked for the word.
#[test]
fn unsafe_only_in_the_raw_module() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut offenders = Vec::new();
    let mut stack = vec![root.join("crates"), root.join("xtask")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("hub-kernels/src/raw.rs") && !path.ends_with("hub-kernels/tests/kernels.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.lines().any(|l| !l.trim_start().starts_with("//") && l.contains("unsafe ")) {
                    offenders.push(path.display().to_string());
                }
            }
        }
    }
    assert!(offenders.is_empty(), "`unsafe` outside hub-kernels/src/raw.rs: {offenders:?}");
}

#[test]
fn epilogue_nchw_matches_the_reference() {
    let mut rng = Rng(5);
    for case in 0..60 {
        let (n, c, plane) = (rng.range(1, 3), rng.range(1, 20), [1, 3, 49, 1000, 20_000][rng.below(5)]);
        let x = rng.normal_vec(n * c * plane);
        let (s, t, b, r) = (rng.normal_vec(c), rng.normal_vec(c), rng.normal_vec(c), rng.normal_vec(x.len()));
        let e = Epilogue {
            bias: (rng.below(2) == 0).then_some(&b[..]),
            affine: (rng.below(2) == 0).then_some((&s[..], &t[..])),
            residual: (rng.below(2) == 0).then_some(&r[..]),
            activation: ACTIVATIONS[rng.below(ACTIVATIONS.len())],
        };
        let mut got = x.clone();
        act::epilogue_nchw(&mut got, c, plane, &e).unwrap();
        let want: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                epilogue_f64(&e, (i / plane) % c, i, v as f64)
            })
            .collect();
        assert_close(&got, &want, 16.0, &format!("case {case}"));
    }
    assert!(act::epilogue_nchw(&mut [0.0; 5], 2, 2, &Epilogue::default()).is_err());
}

/// Winograd's largest error on an output plane, in units of `ε·max Σ|x·w|` (`ε = 2⁻²³`, the
/// largest sum of absolute products over the plane's pixels): a sum of products rounds in
/// proportion to the magnitude of its terms, and the transforms mix a tile's pixels, so a pixel
/// that sums few products (at a border) shares its neighbours' rounding. Measured over these 360
/// cases (`cargo test -p hub-kernels --test kernels winograd -- --nocapture` prints it): the
/// direct path 2.1, `F(2×2)` 1.6 (its transforms only add, subtract and halve), `F(3×3)` 10.5,
/// `F(4×4)` 29 (`Bᵀ` multiplies by up to 5, `Aᵀ` by up to 8, `G`'s 1/6, 1/12 and 1/24 round,
/// and the output transform cancels frequencies many times the result's size, which magnifies
/// the GEMM's rounding). A one-tile float32 simulation (docs/benchmarks.md) gives the same order
/// and no gain from other interpolation points or from weights transformed in f64. The bounds
/// leave about 3× over the measured worst.
const WINOGRAD_BOUND: [(Variant, f64); 3] = [(Variant::F2x2, 5.0), (Variant::F3x3, 30.0), (Variant::F4x4, 80.0)];

#[test]
fn winograd_matches_the_scalar_reference_over_random_shapes() {
    let mut rng = Rng(0x0005_EED0_F3A3);
    let mut worst = [0.0f64; 3];
    for case in 0..360 {
        let (vi, (variant, bound)) = (case % 3, WINOGRAD_BOUND[case % 3]);
        let d = [1, 1, 2, 4][rng.below(4)];
        let mut channels = || match rng.below(3) {
            0 => rng.range(1, 8),
            1 => rng.range(9, 40),
            _ => rng.range(60, 170),
        };
        let (cin, cout) = (channels(), channels());
        let n = rng.range(1, 2);
        let padding = [rng.below(d + 2), rng.below(d + 2), rng.below(d + 2), rng.below(d + 2)];
        let span = 2 * d + 1;
        let h = rng.range(span.saturating_sub(padding[0] + padding[2]).max(1), if cin * cout > 4000 { 13 } else { 23 });
        let w = rng.range(span.saturating_sub(padding[1] + padding[3]).max(1), if cin * cout > 4000 { 14 } else { 25 });
        let p = Conv2dParams { padding, dilation: [d, d], ..Default::default() };
        let (xs, ws) = ([n, cin, h, w], [cout, cin, 3, 3]);
        let x = rng.normal_vec(xs.iter().product());
        let wt = rng.normal_vec(ws.iter().product());
        let (bias, scale, shift) = (rng.normal_vec(cout), rng.normal_vec(cout), rng.normal_vec(cout));
        let (plain, out_shape) = conv_reference(&x, xs, &wt, ws, p, &Epilogue::default());
        let residual = rng.normal_vec(out_shape.iter().product());
        let e = Epilogue {
            bias: (rng.below(2) == 0).then_some(&bias[..]),
            affine: (rng.below(2) == 0).then_some((&scale[..], &shift[..])),
            residual: (rng.below(2) == 0).then_some(&residual[..]),
            activation: ACTIVATIONS[rng.below(ACTIVATIONS.len())],
        };
        let (want, want_shape) = conv_reference(&x, xs, &wt, ws, p, &e);
        let what = format!("case {case}: {variant:?} x {xs:?} w {ws:?} {p:?} {:?}", e.activation);
        let run = |e: &Epilogue<'_>| winograd::conv2d(&x, xs, &wt, ws, p, e, variant).unwrap_or_else(|err| panic!("{what}: {err}"));
        let ((got_plain, _), (got, got_shape)) = (run(&Epilogue::default()), run(&e));
        assert_eq!(got_shape, want_shape, "{what}");
        // The error scale of each output plane: ε·max Σ|x·w| over its pixels (a tile's pixels
        // share their inputs' rounding through the transforms, so a pixel at the border, which
        // sums few products, still sees its neighbours' magnitude).
        let abs = |v: &[f32]| v.iter().map(|a| a.abs()).collect::<Vec<f32>>();
        let (magnitude, _) = conv_reference(&abs(&x), xs, &abs(&wt), ws, p, &Epilogue::default());
        let plane = out_shape[2] * out_shape[3];
        let scale_of: Vec<f64> = magnitude.chunks(plane).map(|m| f32::EPSILON as f64 * m.iter().fold(1e-30f64, |a, &b| a.max(b))).collect();
        // The convolution alone, within the bound.
        for (i, (&g, &r)) in got_plain.iter().zip(&plain).enumerate() {
            let (err, unit) = ((g as f64 - r).abs(), scale_of[i / plane]);
            worst[vi] = worst[vi].max(err / unit);
            assert!(err <= bound * unit, "{what}, no epilogue: element {i}: {g} vs {r} (tolerance {:e})", bound * unit);
        }
        // With the epilogue: the error is multiplied by |scale| at most and by the activation's
        // slope (≤ 1.5, HardSwish's), and the epilogue rounds relative to the value.
        for (i, (&g, &r)) in got.iter().zip(&want).enumerate() {
            let c = (i / plane) % cout;
            let gain = 1.5 * e.affine.map_or(1.0, |(s, _)| (s[c].abs() as f64).max(1.0));
            let tol = bound * scale_of[i / plane] * gain + 2e-6 * r.abs() + 1e-6;
            assert!((g as f64 - r).abs() <= tol, "{what}: element {i}: {g} vs {r} (tolerance {tol:e})");
        }
    }
    println!("worst error in ε·max Σ|x·w| of the plane: F(2×2) {:.2}, F(3×3) {:.2}, F(4×4) {:.2}", worst[0], worst[1], worst[2]);
}

#[test]
fn winograd_choice_and_switch() {
    // A ResNet-50 layer: the automatic choice takes Winograd, agrees with the reference, and
    // HUB_WINOGRAD's switch sends it back to the direct path.
    let mut rng = Rng(11);
    let (xs, ws) = ([1, 64, 56, 56], [64, 64, 3, 3]);
    let p = Conv2dParams { padding: [1; 4], ..Default::default() };
    // (The variant the default chooses; HUB_WINOGRAD=f3 or f4 in the environment picks another.)
    let chosen = winograd::choose(xs, ws, p);
    assert!(chosen.is_some(), "{chosen:?}");
    // Not Winograd's: strided, grouped, 1×1, unequal dilations.
    assert_eq!(winograd::choose(xs, ws, Conv2dParams { stride: [2, 2], ..p }), None);
    assert_eq!(winograd::choose(xs, [64, 32, 3, 3], Conv2dParams { groups: 2, ..p }), None);
    assert_eq!(winograd::choose(xs, [64, 64, 1, 1], Conv2dParams::default()), None);
    assert_eq!(winograd::choose(xs, ws, Conv2dParams { dilation: [1, 2], ..p }), None);
    assert!(winograd::conv2d(&[0.0; 64 * 9], [1, 64, 3, 3], &[0.0; 64 * 64], [64, 64, 1, 1], Conv2dParams::default(), &Epilogue::default(), Variant::F4x4).is_err());
    let x = rng.normal_vec(xs.iter().product());
    let wt = rng.normal_vec(ws.iter().product());
    let e = Epilogue { activation: Activation::Relu, ..Default::default() };
    let (want, _) = conv_reference(&x, xs, &wt, ws, p, &e);
    let abs = |v: &[f32]| v.iter().map(|a| a.abs()).collect::<Vec<f32>>();
    let (magnitude, _) = conv_reference(&abs(&x), xs, &abs(&wt), ws, p, &Epilogue::default());
    let unit = f32::EPSILON as f64 * magnitude.iter().fold(0.0f64, |a, &b| a.max(b));
    let (auto, _) = conv2d(&x, xs, &wt, ws, p, &e).unwrap();
    let worst = auto.iter().zip(&want).map(|(&g, &r)| (g as f64 - r).abs()).fold(0.0, f64::max);
    let bound = WINOGRAD_BOUND.iter().find(|(v, _)| Some(*v) == chosen).unwrap().1;
    assert!(worst <= bound * unit, "auto: worst {worst:e}, bound {:e}", bound * unit);
    assert!(winograd::enabled());
    winograd::set_enabled(false);
    let (direct, _) = conv2d(&x, xs, &wt, ws, p, &e).unwrap();
    winograd::set_enabled(true);
    let (again, _) = conv2d(&x, xs, &wt, ws, p, &e).unwrap();
    assert_eq!(auto, again, "Winograd is deterministic");
    assert_ne!(auto, direct, "the switch changes the path (the results round differently)");
    assert_close(&direct, &want, 16.0 * 24.0, "direct");
}
