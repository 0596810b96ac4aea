//! hub's own CPU kernels, in pure Rust and without burn: the fast paths behind hub-models'
//! layers on burn's flex backend.
//!
//! - [`conv::conv2d`]: convolution as GEMM on `gemm` (runtime-dispatched AVX2/FMA/AVX-512
//!   micro-kernels), weights in PyTorch's layout, im2col one L2-sized block at a time, depthwise
//!   direct, and a fused epilogue ([`Epilogue`]: bias, inference BatchNorm, residual,
//!   [`Activation`]);
//! - [`winograd`]: 3×3 stride-1 convolutions (dilated too) by Winograd's `F(2×2, 3×3)` (and, on
//!   request, the faster but less exact `F(3×3)` and `F(4×4)`), chosen by [`conv::conv2d`]
//!   where a cost model says they save time;
//! - [`linear::linear`], [`linear::linear_fused`]: fully connected layers with bias, residual
//!   and activation fused, several projections in one call;
//! - [`attention::attention`]: scaled dot-product attention over heads, read from strided views
//!   (a fused QKV projection, a key/value cache), heads merged on output;
//! - [`pool`]: max/average pooling, channel concatenation and channel shuffle on NCHW tensors;
//! - [`act`]: vectorised activations (polynomial `exp`, `erf`, `tanh`);
//! - [`threads`]: how many threads every kernel (and burn's flex) uses.
//!
//! Every kernel validates its shapes against the slices' lengths and returns
//! [`KernelError`] instead of panicking. Only `src/raw.rs` uses `unsafe` (the gemm call and
//! the disjoint output tiles); the tests compare every path with a scalar reference.
#![warn(missing_docs)]

pub mod act;
pub mod attention;
pub mod conv;
mod geometry;
pub mod linear;
pub mod pool;
mod raw;
pub mod threads;
pub mod winograd;

pub use act::{Activation, Epilogue};
pub use conv::{conv2d, Conv2dParams};
pub use attention::{attention, Heads, Mask};
pub use linear::{linear, linear_fused, LinearPart, WeightLayout};
pub use pool::{cat_channels, channel_shuffle, pool2d, Pool2dParams, PoolKind};

use std::sync::atomic::{AtomicU8, Ordering};

/// Why a kernel refused its arguments.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KernelError {
    /// Shapes, lengths or parameters that do not fit together.
    #[error("kernel arguments do not fit: {0}")]
    Shape(String),
    /// The thread pool could not be configured.
    #[error("thread pool: {0}")]
    Threads(String),
}

/// 0 = not read yet, 1 = on, 2 = off.
static ENABLED: AtomicU8 = AtomicU8::new(0);

/// Whether the fast kernels are used (callers fall back to their portable path when not).
/// On by default; `HUB_KERNELS=off` (or `0`, `false`) turns them off for the whole process,
/// and [`set_enabled`] at any time.
pub fn enabled() -> bool {
    match ENABLED.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let off = std::env::var("HUB_KERNELS").is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "off" | "0" | "false" | "no"));
            ENABLED.store(if off { 2 } else { 1 }, Ordering::Relaxed);
            !off
        }
    }
}

/// Turns the fast kernels on or off for the whole process (the parity suites run both).
pub fn set_enabled(on: bool) {
    ENABLED.store(if on { 1 } else { 2 }, Ordering::Relaxed);
}

/// The SIMD level the kernels dispatch to on this CPU (`"avx512"`, `"avx2+fma"`, `"neon"` or
/// `"portable"`), for reports.
pub fn simd_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            return "avx512";
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return "avx2+fma";
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        return "neon";
    }
    #[allow(unreachable_code)]
    "portable"
}
