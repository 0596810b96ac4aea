//! Activations and the fused epilogue, vectorised: branch-free polynomial `exp`, `erf` and `tanh`
//! written as plain scalar code that LLVM turns into AVX2/AVX-512 instructions inside a
//! [`pulp`] runtime dispatch (no `unsafe`: pulp compiles the `#[inline(always)]` bodies with the
//! features the CPU was found to have, and a portable version for every other CPU).

use std::sync::atomic::{AtomicU8, Ordering};

use pulp::{Arch, Simd, WithSimd};

/// An elementwise activation applied after a layer (PyTorch's definitions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Activation {
    /// The identity.
    #[default]
    None,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `x · σ(x)` (SiLU / swish).
    Silu,
    /// `x · relu6(x + 3) / 6`.
    HardSwish,
    /// `relu6(x + 3) / 6` (PyTorch's `hardsigmoid`).
    HardSigmoid,
    /// `σ(x) = 1 / (1 + e^(−x))`.
    Sigmoid,
    /// `x · Φ(x) = x/2 · (1 + erf(x/√2))` (PyTorch's default, exact GELU).
    Gelu,
    /// `x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))` (GPT-2's `gelu_new`).
    GeluTanh,
    /// `tanh(x)`.
    Tanh,
}

/// `e^x` for `x` in about `[-87.3, 88.3]` (outside it, the nearest end), to about 1 ulp: Cody–Waite
/// range reduction by `ln 2` and a degree-5 minimax polynomial (Cephes' `expf`). NaN stays NaN.
// Cephes' published coefficients, kept as written (f32 rounds the last digits).
#[allow(clippy::excessive_precision)]
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5·2²³: adding it rounds to the nearest integer, which then sits in the low mantissa bits.
    const SHIFTER: f32 = 12_582_912.0;
    let x = x.clamp(-87.33, 88.37);
    let t = x * LOG2E + SHIFTER;
    let n = t - SHIFTER;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 5.000_000_1e-1;
    let y = p * (r * r) + r + 1.0;
    let e = (t.to_bits().wrapping_sub(SHIFTER.to_bits()) as i32).wrapping_add(127) << 23;
    y * f32::from_bits(e as u32)
}

/// `erf(x)` (Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7: the formula PyTorch's
/// vectorised CPU `erf` uses).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (0.327_591_1 * a + 1.0);
    let mut p = 1.061_405_4_f32;
    p = p * t - 1.453_152_1;
    p = p * t + 1.421_413_7;
    p = p * t - 0.284_496_72;
    p = p * t + 0.254_829_6;
    let y = 1.0 - p * t * exp(-a * a);
    y.copysign(x)
}

/// `tanh(x)` as `1 − 2/(e^(2|x|) + 1)` with the sign of `x`.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let a = x.abs();
    // Below 2⁻¹², tanh(x) = x to f32 precision, and the formula would lose relative accuracy.
    let y = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
    let y = if a < 2.441_406_2e-4 { a } else { y };
    y.copysign(x)
}

/// `act(x)` for one value.
#[inline(always)]
pub fn activate(act: Activation, x: f32) -> f32 {
    match act {
        Activation::None => x,
        Activation::Relu => x.max(0.0),
        Activation::Relu6 => x.clamp(0.0, 6.0),
        Activation::Silu => x / (1.0 + exp(-x)),
        Activation::HardSwish => x * (x + 3.0).clamp(0.0, 6.0) / 6.0,
        Activation::HardSigmoid => (x + 3.0).clamp(0.0, 6.0) / 6.0,
        Activation::Sigmoid => 1.0 / (1.0 + exp(-x)),
        Activation::Gelu => 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2)),
        Activation::GeluTanh => {
            const K: f32 = 0.797_884_6; // √(2/π)
            0.5 * x * (1.0 + tanh(K * (x + 0.044_715 * x * x * x)))
        }
        Activation::Tanh => tanh(x),
    }
}

#[inline(always)]
pub(crate) fn activate_slice(act: Activation, xs: &mut [f32]) {
    // One loop per activation, so each vectorises on its own.
    macro_rules! each {
        ($f:expr) => {
            for v in xs.iter_mut() {
                *v = $f(*v);
            }
        };
    }
    match act {
        Activation::None => {}
        Activation::Relu => each!(|x: f32| x.max(0.0)),
        Activation::Relu6 => each!(|x: f32| x.clamp(0.0, 6.0)),
        Activation::Silu => each!(|x| activate(Activation::Silu, x)),
        Activation::HardSwish => each!(|x| activate(Activation::HardSwish, x)),
        Activation::HardSigmoid => each!(|x| activate(Activation::HardSigmoid, x)),
        Activation::Sigmoid => each!(|x| activate(Activation::Sigmoid, x)),
        Activation::Gelu => each!(|x| activate(Activation::Gelu, x)),
        Activation::GeluTanh => each!(|x| activate(Activation::GeluTanh, x)),
        Activation::Tanh => each!(|x| activate(Activation::Tanh, x)),
    }
}

/// Applies `act` to every element of `xs` in place, with the widest SIMD the CPU has.
pub fn apply(act: Activation, xs: &mut [f32]) {
    if act != Activation::None {
        with_simd(
            #[inline(always)]
            || activate_slice(act, xs),
        );
    }
}

/// What to do with one output channel's values after the accumulation, in PyTorch's order:
/// `act(((acc + bias) · scale + shift) + residual)`. A missing part is skipped (not applied as
/// 0 or 1), so results round exactly as the unfused layers do.
#[derive(Clone, Copy, Debug, Default)]
pub struct Epilogue<'a> {
    /// Per-channel bias of the layer itself.
    pub bias: Option<&'a [f32]>,
    /// Per-channel `(scale, shift)`: an inference BatchNorm folded as PyTorch's CPU kernel does
    /// (`scale = γ/√(var+ε)`, `shift = β − mean·scale`).
    pub affine: Option<(&'a [f32], &'a [f32])>,
    /// A tensor of the output's shape added before the activation (a residual connection).
    pub residual: Option<&'a [f32]>,
    /// The activation applied last.
    pub activation: Activation,
}

impl Epilogue<'_> {
    /// Whether the epilogue changes nothing.
    pub fn is_identity(&self) -> bool {
        self.bias.is_none() && self.affine.is_none() && self.residual.is_none() && self.activation == Activation::None
    }

    /// Checks the per-channel parts against `channels` and the residual against `len`.
    pub(crate) fn check(&self, channels: usize, len: usize) -> Result<(), crate::KernelError> {
        let bad = |what: &'static str, got: usize, want: usize| {
            Err(crate::KernelError::Shape(format!("epilogue {what} has {got} values, expected {want}")))
        };
        if let Some(b) = self.bias {
            if b.len() != channels {
                return bad("bias", b.len(), channels);
            }
        }
        if let Some((s, t)) = self.affine {
            if s.len() != channels || t.len() != channels {
                return bad("scale/shift", s.len().min(t.len()), channels);
            }
        }
        if let Some(r) = self.residual {
            if r.len() != len {
                return bad("residual", r.len(), len);
            }
        }
        Ok(())
    }
}

/// Applies the epilogue to a run of values of one channel `c`; `residual` is the matching run
/// of the residual tensor, when the epilogue has one.
#[inline(always)]
pub(crate) fn epilogue_run(e: &Epilogue<'_>, c: usize, xs: &mut [f32], residual: Option<&[f32]>) {
    if let Some(b) = e.bias {
        let b = b[c];
        xs.iter_mut().for_each(|v| *v += b);
    }
    if let Some((s, t)) = e.affine {
        let (s, t) = (s[c], t[c]);
        xs.iter_mut().for_each(|v| *v = *v * s + t);
    }
    if let Some(r) = residual {
        xs.iter_mut().zip(r).for_each(|(v, r)| *v += *r);
    }
    activate_slice(e.activation, xs);
}

/// 0 = not read yet, 1 = widest SIMD, 2 = portable forced.
static PORTABLE: AtomicU8 = AtomicU8::new(0);

/// Whether `HUB_KERNELS_SIMD=portable` forces the pulp-dispatched loops (activations, epilogues,
/// depthwise convolution, softmax, the few-row linear path, the Winograd transforms) onto their
/// portable build, compiled without the CPU's SIMD features (gemm keeps its own dispatch). A
/// test knob: the instruction-count guards (`cargo xtask bench-guard`) must fail with it.
pub fn portable_forced() -> bool {
    match PORTABLE.load(Ordering::Relaxed) {
        0 => {
            let forced = std::env::var("HUB_KERNELS_SIMD").is_ok_and(|v| v.trim().eq_ignore_ascii_case("portable"));
            PORTABLE.store(if forced { 2 } else { 1 }, Ordering::Relaxed);
            forced
        }
        v => v == 2,
    }
}

/// Runs `f` with the widest SIMD the CPU has (the portable build under
/// [`portable_forced`]): code `#[inline(always)]`'d into `f` is compiled for those features.
#[inline(always)]
pub(crate) fn with_simd<R>(f: impl FnOnce() -> R) -> R {
    struct Op<F>(F);
    impl<R, F: FnOnce() -> R> WithSimd for Op<F> {
        type Output = R;
        #[inline(always)]
        fn with_simd<S: Simd>(self, _: S) -> R {
            (self.0)()
        }
    }
    if portable_forced() {
        Op(f).with_simd(pulp::Scalar::new())
    } else {
        Arch::new().dispatch(Op(f))
    }
}

/// Applies `e` in place to an NCHW tensor `x` of `channels` channels and `plane` values per
/// channel (any batch), in parallel over the channel planes: a standalone inference BatchNorm
/// (with its activation) or a residual add.
///
/// # Errors
/// [`crate::KernelError::Shape`] when `x` is not a whole number of `channels × plane` images or
/// the epilogue's parts do not fit.
pub fn epilogue_nchw(x: &mut [f32], channels: usize, plane: usize, e: &Epilogue<'_>) -> Result<(), crate::KernelError> {
    use rayon::prelude::*;
    let image = channels.checked_mul(plane).filter(|&n| n > 0).ok_or_else(|| crate::KernelError::Shape(format!("{channels} channels of {plane} values")))?;
    if !x.len().is_multiple_of(image) {
        return Err(crate::KernelError::Shape(format!("{} values are not whole images of {channels}×{plane}", x.len())));
    }
    e.check(channels, x.len())?;
    if e.is_identity() {
        return Ok(());
    }
    // Small planes (late layers): hand each task several of them.
    let per_task = (16 * 1024 / plane).max(1);
    x.par_chunks_mut(plane * per_task).enumerate().for_each(|(t, chunk)| {
        with_simd(
            #[inline(always)]
            || {
                for (j, p) in chunk.chunks_mut(plane).enumerate() {
                    let i = t * per_task + j;
                    let res = e.residual.map(|r| &r[i * plane..(i + 1) * plane]);
                    epilogue_run(e, i % channels, p, res);
                }
            },
        );
    });
    Ok(())
}
