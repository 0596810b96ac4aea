//! Winograd convolution for 3×3 stride-1 kernels (Lavin & Gray, "Fast Algorithms for
//! Convolutional Neural Networks", CVPR 2016): `F(2×2, 3×3)`, `F(3×3, 3×3)` and `F(4×4, 3×3)`,
//! dilated kernels included.
//!
//! An `F(m×m, 3×3)` convolution computes each `m×m` block of output pixels ("tile") from an
//! `a×a` block of input (`a = m + 2`) as `Aᵀ [ Σ_ci (G g Gᵀ) ⊙ (Bᵀ d B) ] A`: after the input
//! transform `Bᵀ d B` and the weight transform `G g Gᵀ`, the sum over input channels is one GEMM
//! per frequency `ξ < a²`, `M_ξ[tiles, C_out] = V_ξ[tiles, C_in] · U_ξ[C_in, C_out]`, and the
//! output transform `Aᵀ M A` gives the pixels. That is `a²` multiplications per tile and channel
//! pair instead of `9·m²`: 2.25× fewer for `F(2×2)`, 3.24× for `F(3×3)`, 4× for `F(4×4)`.
//!
//! A kernel dilated by `d` (stride 1) is a plain 3×3 convolution on each of the `d×d`
//! interleaved sub-grids of the input (pixels `(sy + d·i, sx + d·j)`), so a tile here is `m×m`
//! output pixels `d` apart, read from an `a×a` input block with step `d`: no copy of the input
//! is split out, and all sub-grids' tiles share one GEMM per frequency.
//!
//! Layouts: the transformed weights `U[ξ][C_out][C_in]` are computed once per call (in parallel
//! over output channels; what that costs is in docs/benchmarks.md), into a buffer kept between
//! calls; each task takes a run of bands of output rows (`m·d` rows: every sub-grid's tile row)
//! of one image and a range of output channels, copies each input channel's rows under a block
//! of tiles into a zero-padded plane, transforms the tiles 8 at a time (one SIMD lane per tile)
//! into `V[ξ][C_in][tiles]`, runs the `a²` GEMMs (`gemm`, reading `V` and `U` where they lie),
//! transforms `M[ξ][C_out][tiles]` back into its output rows and applies the fused epilogue
//! there, as the direct path does. Large `C_in` is split into chunks whose partial products
//! accumulate, so that `V` stays in cache.
//!
//! Error: the transforms' constants round, and the output transform combines frequencies of
//! larger magnitude than the pixels they make, which amplifies the GEMMs' rounding. `F(2×2)`
//! (entries 0, ±1 and ½) is as exact as the direct sum; `F(3×3)` about 2× and `F(4×4)` about
//! 4× less exact (`tests/kernels.rs` states bounds; docs/benchmarks.md has the measurements and
//! what they do to the parity suites), so [`crate::conv2d`] chooses only `F(2×2)` unless
//! `HUB_WINOGRAD` asks for another.

mod cost;
mod tiles;
mod transform;
mod weights;

use std::sync::atomic::{AtomicU8, Ordering};

use crate::act::Epilogue;
use crate::geometry::{Conv2dParams, Geometry};
use crate::KernelError;

use cost::{direct_ns, plan, DIRECT_NS_CALL, MARGIN, MIN_CHANNELS, WINOGRAD_NS_CALL};
use tiles::{run_with, Tiling};
use transform::{F2, F3, F4, Transform};

/// Which Winograd transform to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// `F(2×2, 3×3)`: 4×4 input tiles, 16 products per tile and channel pair (2.25× fewer
    /// multiplications than direct).
    F2x2,
    /// `F(3×3, 3×3)`: 5×5 input tiles, 25 products per tile and channel pair (3.24× fewer), with
    /// about twice the direct path's rounding: chosen only with `HUB_WINOGRAD=f3`.
    F3x3,
    /// `F(4×4, 3×3)`: 6×6 input tiles, 36 products per tile and channel pair (4× fewer), with
    /// about four times the direct path's rounding: chosen only with `HUB_WINOGRAD=f4`.
    F4x4,
}

impl Variant {
    const ALL: [Variant; 3] = [Variant::F2x2, Variant::F3x3, Variant::F4x4];

    fn bit(self) -> u8 {
        match self {
            Variant::F2x2 => 1,
            Variant::F3x3 => 2,
            Variant::F4x4 => 4,
        }
    }
}

/// The variants [`crate::conv2d`] may choose, as bits of [`Variant::bit`], with [`READ`] set once
/// the environment has been read (0: not read yet).
static ALLOWED: AtomicU8 = AtomicU8::new(0);
const READ: u8 = 0x80;
/// What the automatic choice considers by default: `F(2×2)`, the variant as exact as the direct
/// path (`F(3×3)` and `F(4×4)` fail the parity suites' contract on the deepest random networks:
/// docs/benchmarks.md).
const DEFAULT: u8 = 1;

fn allowed() -> u8 {
    match ALLOWED.load(Ordering::Relaxed) {
        0 => {
            let bits = match std::env::var("HUB_WINOGRAD").map(|v| v.trim().to_ascii_lowercase()) {
                Ok(v) if matches!(v.as_str(), "off" | "0" | "false" | "no") => 0,
                Ok(v) if v == "f2" => Variant::F2x2.bit(),
                Ok(v) if v == "f3" => Variant::F3x3.bit(),
                Ok(v) if v == "f4" => Variant::F4x4.bit(),
                _ => DEFAULT,
            };
            ALLOWED.store(READ | bits, Ordering::Relaxed);
            bits
        }
        v => v & !READ,
    }
}

/// Whether [`crate::conv2d`] may choose Winograd for 3×3 stride-1 convolutions (it does where
/// [`choose`] says so). On by default with `F(2×2)`; `HUB_WINOGRAD=off` (or `0`, `false`, `no`)
/// turns it off for the whole process, `HUB_WINOGRAD=f3` or `f4` chooses among that variant
/// instead (faster, less exact), and [`set_enabled`] switches at any time.
pub fn enabled() -> bool {
    allowed() != 0
}

/// Turns the automatic choice of Winograd in [`crate::conv2d`] on (with the default variants)
/// or off for the whole process.
pub fn set_enabled(on: bool) {
    ALLOWED.store(READ | if on { DEFAULT } else { 0 }, Ordering::Relaxed);
}

/// The variant [`crate::conv2d`] uses for a convolution of `x_shape` with `weight_shape`, or
/// `None` where it takes the direct path: groups 1, a 3×3 kernel, stride 1, equal dilations,
/// at least 32 channels in and out, and the variant whose estimated time (a cost
/// model of the transforms, the GEMMs and how the tasks share the threads, fitted to
/// `examples/winograd_shapes.rs`: docs/benchmarks.md) is below 0.9 times the direct
/// path's. Follows `HUB_WINOGRAD`'s restriction to one variant but not its `off`.
pub fn choose(x_shape: [usize; 4], weight_shape: [usize; 4], params: Conv2dParams) -> Option<Variant> {
    let g = Geometry::new(x_shape, weight_shape, params).ok()?;
    let bits = match allowed() {
        0 => DEFAULT,
        bits => bits,
    };
    choose_among(&g, rayon::current_num_threads(), bits)
}

/// What [`crate::conv2d`] runs: [`choose`]'s answer when Winograd is on.
pub(crate) fn choose_for(g: &Geometry, threads: usize) -> Option<Variant> {
    match allowed() {
        0 => None,
        bits => choose_among(g, threads, bits),
    }
}

fn choose_among(g: &Geometry, threads: usize, bits: u8) -> Option<Variant> {
    if !applicable(g) || g.cin < MIN_CHANNELS || g.cout < MIN_CHANNELS {
        return None;
    }
    let threads = threads.max(1);
    let direct = direct_ns(g) / threads as f64 + DIRECT_NS_CALL;
    let (v, ns) = Variant::ALL
        .into_iter()
        .filter(|v| bits & v.bit() != 0)
        .map(|v| (v, plan(g, &Tiling::new(g, v.m()), v.a() * v.a(), threads).ns + WINOGRAD_NS_CALL))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    (ns < MARGIN * direct).then_some(v)
}

/// Whether the Winograd path can compute this convolution at all.
fn applicable(g: &Geometry) -> bool {
    g.p.groups == 1 && g.kh == 3 && g.kw == 3 && g.p.stride == [1, 1] && g.p.dilation[0] == g.p.dilation[1]
}

/// `act(conv(x, weight) + …)` by Winograd's `variant`, whatever the shape's size (the tests
/// compare it with the direct path; [`crate::conv2d`] calls it where [`choose`] says so).
///
/// # Shapes
/// As [`crate::conv2d`], with a 3×3 kernel, groups 1, stride 1 and equal dilations.
///
/// # Errors
/// [`KernelError::Shape`] when the arguments do not fit together or the convolution is not one
/// Winograd computes.
pub fn conv2d(
    x: &[f32],
    x_shape: [usize; 4],
    weight: &[f32],
    weight_shape: [usize; 4],
    params: Conv2dParams,
    epilogue: &Epilogue<'_>,
    variant: Variant,
) -> Result<(Vec<f32>, [usize; 4]), KernelError> {
    let g = Geometry::checked(x, x_shape, weight, weight_shape, params, epilogue)?;
    if !applicable(&g) {
        return Err(KernelError::Shape(format!("Winograd needs a 3×3 kernel, groups 1, stride 1 and equal dilations: weight {weight_shape:?}, {params:?}")));
    }
    let mut out = vec![0.0f32; g.out_len()];
    run(variant, &g, x, weight, epilogue, &mut out);
    Ok((out, [g.n, g.cout, g.oh, g.ow]))
}

impl Variant {
    /// Output tile side.
    fn m(self) -> usize {
        match self {
            Variant::F2x2 => F2::M,
            Variant::F3x3 => F3::M,
            Variant::F4x4 => F4::M,
        }
    }

    /// Input tile side.
    fn a(self) -> usize {
        self.m() + 2
    }
}

/// Computes `out` (zeroed, `g.out_len()` values) for a validated, [`applicable`] geometry.
pub(crate) fn run(v: Variant, g: &Geometry, x: &[f32], weight: &[f32], e: &Epilogue<'_>, out: &mut [f32]) {
    match v {
        Variant::F2x2 => run_with::<F2>(g, x, weight, e, out),
        Variant::F3x3 => run_with::<F3>(g, x, weight, e, out),
        Variant::F4x4 => run_with::<F4>(g, x, weight, e, out),
    }
}
