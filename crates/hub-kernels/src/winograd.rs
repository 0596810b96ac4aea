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

use std::cell::RefCell;
use std::ops::Range;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::act::{with_simd, Epilogue};
use crate::geometry::{epilogue_tile, Conv2dParams, Geometry};
use crate::raw::{gemm_colmajor, par_grid, MatRef, TileMut};
use crate::KernelError;

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

// The cost model: nanoseconds of one thread per unit of work, and of the whole call, a
// least-squares fit to the times of the direct path and of `F(2×2)` over the 36 shapes of
// `examples/winograd_shapes.rs` (2 threads on a Zen 3 EPYC VM with AVX2; docs/benchmarks.md).
// Only their ratios matter. (`F(3×3)` and `F(4×4)`, chosen only on request, are estimated with
// the same constants.)
/// Direct path: per FLOP of its GEMM.
const DIRECT_NS_PER_FLOP: f64 = 0.0160;
/// Direct path: per value its im2col writes (`9·C_in` per output pixel).
const DIRECT_NS_PER_COL: f64 = 0.19;
/// Direct path: per call (tasks, tiles, their GEMM calls).
const DIRECT_NS_CALL: f64 = 214_000.0;
/// Winograd: per FLOP of the per-frequency GEMMs (rows padded to 16).
const GEMM_NS_PER_FLOP: f64 = 0.0151;
/// Input transform, per tile, input channel and frequency.
const IN_NS: f64 = 0.83;
/// Output transform (and epilogue), per tile, output channel and frequency.
const OUT_NS: f64 = 1.13;
/// Weight transform, per output channel, input channel and frequency.
const WEIGHT_NS: f64 = 1.30;
/// Winograd: per call.
const WINOGRAD_NS_CALL: f64 = 56_000.0;
/// Winograd is chosen when its estimate is below this fraction of the direct path's (on the
/// fitted shapes it then never takes the slower path).
const MARGIN: f64 = 0.9;
/// Fewest input and output channels for the automatic choice: below, the transforms dominate
/// and the measured times (SqueezeNet's 16 → 64) favour the direct path.
const MIN_CHANNELS: usize = 32;

/// The direct path's estimate on one thread.
fn direct_ns(g: &Geometry) -> f64 {
    let pixels = (g.n * g.oh * g.ow) as f64;
    let k = (g.cin * 9) as f64;
    pixels * k * (2.0 * g.cout as f64 * DIRECT_NS_PER_FLOP + DIRECT_NS_PER_COL)
}

/// How a convolution's work is split into tasks (`rows × cols` of the output matrix), and
/// what it is expected to cost.
struct Plan {
    /// Each task's output pixels: a run of whole bands.
    col_ranges: Vec<Range<usize>>,
    /// Output channels per task.
    m_step: usize,
    /// Estimated nanoseconds on the threads, weight transform included.
    ns: f64,
}

/// Tile blocks of a task with `tiles` tiles: the block size and the GEMM rows they take
/// (blocks padded to gemm's 16-row micro-kernel).
fn blocks(tiles: usize) -> (usize, usize) {
    if tiles == 0 {
        return (1, 0);
    }
    let per = tiles.div_ceil(tiles.div_ceil(BLOCK_TILES));
    let rows = tiles / per * per.next_multiple_of(16) + (tiles % per).next_multiple_of(16);
    (per, rows)
}

/// The cheapest split (by the cost model) of the bands into groups and of the output channels
/// into parts, such that the tasks share the threads evenly.
fn plan(g: &Geometry, tiling: &Tiling, a2: usize, threads: usize) -> Plan {
    let bands = tiling.bands;
    let band_rows = tiling.band_rows();
    let band_tiles: Vec<usize> = (0..bands).map(|b| tiling.template.iter().filter(|&&(sy, _)| b * band_rows + sy < g.oh).count()).collect();
    let (cin, a2f) = (g.cin as f64, a2 as f64);
    let weights = (g.cout * g.cin * a2) as f64 * WEIGHT_NS / threads as f64;
    let mut best: Option<(f64, usize, usize)> = None;
    for groups in 1..=bands.min(64) {
        let (mut rows, mut tiles) = (0, 0);
        for i in 0..groups {
            let t: usize = band_tiles[i * bands / groups..(i + 1) * bands / groups].iter().sum();
            rows = rows.max(blocks(t).1);
            tiles = tiles.max(t);
        }
        for parts in 1..=8usize {
            let m_step = g.cout.div_ceil(parts).next_multiple_of(8).min(g.cout);
            if parts > 1 && (m_step < 16 || g.cout.div_ceil(m_step) != parts) {
                continue;
            }
            let tasks = g.n * groups * parts;
            let task = rows as f64 * m_step as f64 * cin * a2f * 2.0 * GEMM_NS_PER_FLOP + tiles as f64 * a2f * (cin * IN_NS + m_step as f64 * OUT_NS);
            let ns = tasks.div_ceil(threads) as f64 * task + weights;
            if best.is_none_or(|(c, _, _)| ns < c) {
                best = Some((ns, groups, m_step));
            }
        }
    }
    let (ns, groups, m_step) = best.unwrap_or((f64::INFINITY, 1, g.cout));
    let (band_px, hw) = (band_rows * g.ow, g.oh * g.ow);
    let col_ranges = (0..groups).map(|i| (i * bands / groups * band_px).min(hw)..((i + 1) * bands / groups * band_px).min(hw)).filter(|r| !r.is_empty()).collect();
    Plan { col_ranges, m_step, ns }
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

const LANES: usize = 8;
/// Eight values, one per tile (or channel), that LLVM keeps in one AVX2 register.
type L = [f32; LANES];
const ZERO: L = [0.0; LANES];

#[inline(always)]
fn add(mut a: L, b: L) -> L {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
    a
}

#[inline(always)]
fn sub(mut a: L, b: L) -> L {
    for (x, y) in a.iter_mut().zip(b) {
        *x -= y;
    }
    a
}

#[inline(always)]
fn mul(mut a: L, s: f32) -> L {
    for x in a.iter_mut() {
        *x *= s;
    }
    a
}

/// One transform pair: the 1-D input (`Bᵀ`), weight (`G`) and output (`Aᵀ`) transforms, applied
/// to columns and then rows for the 2-D ones. Arrays are sized for the largest variant; a
/// variant reads and writes only its first `A` (or `M`) entries.
trait Transform {
    /// Output tile side.
    const M: usize;
    /// Input tile side, `M + 2`.
    const A: usize = Self::M + 2;
    fn input(d: &[L; 6]) -> [L; 6];
    fn weight(g: &[L; 3]) -> [L; 6];
    fn output(m: &[L; 6]) -> [L; 4];
}

/// `F(4, 3)` at the points 0, ±1, ±2, ∞.
struct F4;

impl Transform for F4 {
    const M: usize = 4;

    #[inline(always)]
    fn input(d: &[L; 6]) -> [L; 6] {
        // Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
        let s34 = add(d[3], d[4]);
        let s12 = add(d[1], d[2]);
        let d43 = sub(d[4], d[3]);
        let d12 = sub(d[1], d[2]);
        let d42 = sub(d[4], d[2]);
        let d31 = sub(d[3], d[1]);
        [
            add(sub(mul(d[0], 4.0), mul(d[2], 5.0)), d[4]),
            sub(s34, mul(s12, 4.0)),
            add(d43, mul(d12, 4.0)),
            add(d42, mul(d31, 2.0)),
            sub(d42, mul(d31, 2.0)),
            add(sub(mul(d[1], 4.0), mul(d[3], 5.0)), d[5]),
        ]
    }

    #[inline(always)]
    fn weight(g: &[L; 3]) -> [L; 6] {
        // G = [1/4 0 0; −1/6 −1/6 −1/6; −1/6 1/6 −1/6; 1/24 1/12 1/6; 1/24 −1/12 1/6; 0 0 1]
        let s02 = add(g[0], g[2]);
        let q = add(mul(g[0], 1.0 / 24.0), mul(g[2], 1.0 / 6.0));
        let r = mul(g[1], 1.0 / 12.0);
        [
            mul(g[0], 0.25),
            mul(add(s02, g[1]), -1.0 / 6.0),
            mul(sub(s02, g[1]), -1.0 / 6.0),
            add(q, r),
            sub(q, r),
            g[2],
        ]
    }

    #[inline(always)]
    fn output(m: &[L; 6]) -> [L; 4] {
        // Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
        let s12 = add(m[1], m[2]);
        let s34 = add(m[3], m[4]);
        let d12 = sub(m[1], m[2]);
        let d34 = sub(m[3], m[4]);
        [add(add(m[0], s12), s34), add(d12, mul(d34, 2.0)), add(s12, mul(s34, 4.0)), add(add(d12, mul(d34, 8.0)), m[5])]
    }
}

/// `F(3, 3)` at the points 0, ±1, 2, ∞.
struct F3;

impl Transform for F3 {
    const M: usize = 3;

    #[inline(always)]
    fn input(d: &[L; 6]) -> [L; 6] {
        // Bᵀ = [2 −1 −2 1 0; 0 2 1 −1 0; 0 −2 3 −1 0; 0 −1 0 1 0; 0 2 −1 −2 1]
        let d31 = sub(d[3], d[1]);
        [
            add(mul(sub(d[0], d[2]), 2.0), d31),
            sub(add(mul(d[1], 2.0), d[2]), d[3]),
            sub(sub(mul(d[2], 3.0), mul(d[1], 2.0)), d[3]),
            d31,
            sub(sub(d[4], d[2]), mul(d31, 2.0)),
            ZERO,
        ]
    }

    #[inline(always)]
    fn weight(g: &[L; 3]) -> [L; 6] {
        // G = [1/2 0 0; 1/2 1/2 1/2; 1/6 −1/6 1/6; 1/6 1/3 2/3; 0 0 1]
        let s02 = add(g[0], g[2]);
        [
            mul(g[0], 0.5),
            mul(add(s02, g[1]), 0.5),
            mul(sub(s02, g[1]), 1.0 / 6.0),
            add(add(mul(g[0], 1.0 / 6.0), mul(g[1], 1.0 / 3.0)), mul(g[2], 2.0 / 3.0)),
            g[2],
            ZERO,
        ]
    }

    #[inline(always)]
    fn output(m: &[L; 6]) -> [L; 4] {
        // Aᵀ = [1 1 1 1 0; 0 1 −1 2 0; 0 1 1 4 1]
        let s12 = add(m[1], m[2]);
        [add(add(m[0], s12), m[3]), add(sub(m[1], m[2]), mul(m[3], 2.0)), add(add(s12, mul(m[3], 4.0)), m[4]), ZERO]
    }
}

/// `F(2, 3)` at the points 0, ±1, ∞.
struct F2;

impl Transform for F2 {
    const M: usize = 2;

    #[inline(always)]
    fn input(d: &[L; 6]) -> [L; 6] {
        // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
        [sub(d[0], d[2]), add(d[1], d[2]), sub(d[2], d[1]), sub(d[1], d[3]), ZERO, ZERO]
    }

    #[inline(always)]
    fn weight(g: &[L; 3]) -> [L; 6] {
        // G = [1 0 0; 1/2 1/2 1/2; 1/2 −1/2 1/2; 0 0 1]
        let s02 = add(g[0], g[2]);
        [g[0], mul(add(s02, g[1]), 0.5), mul(sub(s02, g[1]), 0.5), g[2], ZERO, ZERO]
    }

    #[inline(always)]
    fn output(m: &[L; 6]) -> [L; 4] {
        // Aᵀ = [1 1 1 0; 0 1 −1 −1]
        [add(add(m[0], m[1]), m[2]), sub(sub(m[1], m[2]), m[3]), ZERO, ZERO]
    }
}

/// `Bᵀ p B` for an `A×A` patch `p[row][col]`.
#[inline(always)]
fn input_2d<T: Transform>(p: &[[L; 6]; 6]) -> [[L; 6]; 6] {
    let mut cols = [[ZERO; 6]; 6];
    for b in 0..T::A {
        let mut col = [ZERO; 6];
        for a in 0..T::A {
            col[a] = p[a][b];
        }
        let c = T::input(&col);
        for a in 0..T::A {
            cols[a][b] = c[a];
        }
    }
    let mut out = [[ZERO; 6]; 6];
    for a in 0..T::A {
        out[a] = T::input(&cols[a]);
    }
    out
}

/// `Aᵀ q A` for an `A×A` block `q[row][col]`: the `M×M` output pixels.
#[inline(always)]
fn output_2d<T: Transform>(q: &[[L; 6]; 6]) -> [[L; 4]; 4] {
    let mut cols = [[ZERO; 6]; 4];
    for b in 0..T::A {
        let mut col = [ZERO; 6];
        for a in 0..T::A {
            col[a] = q[a][b];
        }
        let c = T::output(&col);
        for i in 0..T::M {
            cols[i][b] = c[i];
        }
    }
    let mut out = [[ZERO; 4]; 4];
    for i in 0..T::M {
        out[i] = T::output(&cols[i]);
    }
    out
}

/// The transformed weights' buffer, kept between calls (up to [`KEEP_WEIGHTS`] values) so that
/// its pages are not faulted in afresh on every call.
static WEIGHTS: Mutex<Vec<f32>> = Mutex::new(Vec::new());
/// The most transformed-weight values kept between calls (64 MiB).
const KEEP_WEIGHTS: usize = 16 << 20;

/// `U[ξ][co][ci] = (G g Gᵀ)_ξ` for every output channel `co` and input channel `ci`, eight
/// input channels per SIMD step, in parallel over runs of output channels (each task writes its
/// run's row of every frequency). Returns the buffer (to give back with [`keep_weights`]) and
/// the length used.
fn transform_weights<T: Transform>(w: &[f32], cout: usize, cin: usize) -> (Vec<f32>, usize) {
    let a2 = T::A * T::A;
    let len = cout * a2 * cin;
    let mut u = std::mem::take(&mut *WEIGHTS.lock().unwrap_or_else(|e| e.into_inner()));
    if u.len() < len {
        u = vec![0.0f32; len];
    }
    // Every value of `u[..len]` is written below: task `t` gets output channels
    // `t·run..(t+1)·run` of each frequency's `[C_out][C_in]` slab.
    let run = cout.div_ceil(4 * rayon::current_num_threads().max(1)).max(1);
    let mut tasks: Vec<Vec<&mut [f32]>> = (0..cout.div_ceil(run)).map(|_| Vec::with_capacity(a2)).collect();
    for slab in u[..len].chunks_mut(cout * cin) {
        for (task, rows) in tasks.iter_mut().zip(slab.chunks_mut(run * cin)) {
            task.push(rows);
        }
    }
    tasks.into_par_iter().enumerate().for_each(|(t, mut slabs)| {
        // One output channel's `[ξ][C_in]` block at a time, then one contiguous row per slab
        // (36 scattered 8-value stores per step thrash the caches and TLB).
        let mut block = vec![0.0f32; a2 * cin];
        for r in 0..slabs[0].len() / cin {
            let co = t * run + r;
            with_simd(
                #[inline(always)]
                || {
                    for c0 in (0..cin).step_by(LANES) {
                        let lanes = LANES.min(cin - c0);
                        let mut g = [[ZERO; 3]; 3];
                        for l in 0..lanes {
                            let k = &w[(co * cin + c0 + l) * 9..][..9];
                            for (t, &v) in k.iter().enumerate() {
                                g[t / 3][t % 3][l] = v;
                            }
                        }
                        let mut cols = [[ZERO; 3]; 6];
                        for kx in 0..3 {
                            let c = T::weight(&[g[0][kx], g[1][kx], g[2][kx]]);
                            for a in 0..T::A {
                                cols[a][kx] = c[a];
                            }
                        }
                        for (a, col) in cols.iter().enumerate().take(T::A) {
                            let row = T::weight(col);
                            for (b, rb) in row.iter().enumerate().take(T::A) {
                                let dst = &mut block[(a * T::A + b) * cin + c0..];
                                if lanes == LANES {
                                    dst[..LANES].copy_from_slice(rb);
                                } else {
                                    dst[..lanes].copy_from_slice(&rb[..lanes]);
                                }
                            }
                        }
                    }
                },
            );
            for (slab, src) in slabs.iter_mut().zip(block.chunks_exact(cin)) {
                slab[r * cin..(r + 1) * cin].copy_from_slice(src);
            }
        }
    });
    (u, len)
}

/// Gives the transformed weights' buffer back for the next call, when it is not too large.
fn keep_weights(u: Vec<f32>) {
    if u.len() <= KEEP_WEIGHTS {
        let mut kept = WEIGHTS.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() < u.len() {
            *kept = u;
        }
    }
}

/// Where the tiles of a convolution lie: bands of `m·d` output rows, each holding the same
/// tiles, one per `(sub-grid row, sub-grid column, tile column)`.
struct Tiling {
    /// Output tile side.
    m: usize,
    /// Dilation: output pixels of one tile are `d` apart.
    d: usize,
    /// Bands per image, `⌈H'/(m·d)⌉`.
    bands: usize,
    /// Each tile of a band: (first output row within the band, first output column).
    template: Vec<(usize, usize)>,
}

impl Tiling {
    fn new(g: &Geometry, m: usize) -> Self {
        let d = g.p.dilation[0];
        let mut template = Vec::new();
        for sy in 0..d.min(g.oh) {
            for sx in 0..d.min(g.ow) {
                let cols = (g.ow - sx).div_ceil(d).div_ceil(m);
                template.extend((0..cols).map(|tx| (sy, sx + tx * m * d)));
            }
        }
        Self { m, d, bands: g.oh.div_ceil(m * d), template }
    }

    fn band_rows(&self) -> usize {
        self.m * self.d
    }
}

/// A tile's first output pixel.
#[derive(Clone, Copy)]
struct Pos {
    oy: usize,
    ox: usize,
}

/// Tiles per GEMM block (the GEMM's row count; a multiple of 16, gemm's micro-kernel height).
const BLOCK_TILES: usize = 64;
/// Bytes of the transformed input block `V` kept per thread: `C_in` is split into chunks
/// that fit.
const V_BYTES: usize = 8 << 20;

struct Scratch {
    v: Vec<f32>,
    m: Vec<f32>,
    pos: Vec<Pos>,
    pad: Vec<f32>,
    wins_out: Vec<Window>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch { v: Vec::new(), m: Vec::new(), pos: Vec::new(), pad: Vec::new(), wins_out: Vec::new() }) };
}

fn run_with<T: Transform>(g: &Geometry, x: &[f32], weight: &[f32], e: &Epilogue<'_>, out: &mut [f32]) {
    let tiling = Tiling::new(g, T::M);
    let (u_buf, u_len) = transform_weights::<T>(weight, g.cout, g.cin);
    let u = &u_buf[..u_len];
    let threads = rayon::current_num_threads().max(1);
    let Plan { col_ranges, m_step, .. } = plan(g, &tiling, T::A * T::A, threads);
    let mut row_ranges = Vec::new();
    for img in 0..g.n {
        let base = img * g.cout;
        row_ranges.extend((0..g.cout).step_by(m_step).map(|r| base + r..base + (r + m_step).min(g.cout)));
    }
    let hw = g.oh * g.ow;
    par_grid(out, g.n * g.cout, hw, &row_ranges, &col_ranges, |mut tile| {
        SCRATCH.with_borrow_mut(|s| task::<T>(g, &tiling, x, u, &mut tile, s));
        let r = tile.rows();
        epilogue_tile(g, e, &mut tile, r.start / g.cout, r.start % g.cout);
    });
    keep_weights(u_buf);
}

/// One task: the output channels `tile.rows()` of one image, over the bands `tile.cols()`.
fn task<T: Transform>(g: &Geometry, tiling: &Tiling, x: &[f32], u: &[f32], tile: &mut TileMut<'_>, s: &mut Scratch) {
    let a2 = T::A * T::A;
    let rows = tile.rows();
    let (img, co0, cor) = (rows.start / g.cout, rows.start % g.cout, rows.len());
    let cols = tile.cols();
    let band_px = tiling.band_rows() * g.ow;
    let (b0, b1) = (cols.start / band_px, cols.end.div_ceil(band_px));
    s.pos.clear();
    for b in b0..b1 {
        let y0 = b * tiling.band_rows();
        s.pos.extend(tiling.template.iter().filter(|&&(sy, _)| y0 + sy < g.oh).map(|&(sy, ox)| Pos { oy: y0 + sy, ox }));
    }
    let hw_in = g.h * g.w;
    let x_img = &x[img * g.cin * hw_in..(img + 1) * g.cin * hw_in];
    // Blocks of equal size, at most BLOCK_TILES each.
    let (per_block, _) = blocks(s.pos.len());
    let tbp_max = per_block.next_multiple_of(16);
    let kc_max = (V_BYTES / (4 * a2 * tbp_max)).clamp(64, g.cin.max(64));
    let chunks = g.cin.div_ceil(kc_max);
    let kc = g.cin.div_ceil(chunks);
    let Scratch { v, m, pos, pad, wins_out } = s;
    for block in pos.chunks(per_block) {
        let tbp = block.len().next_multiple_of(16);
        wins_out.clear();
        wins_out.extend(block.iter().map(|&t| Window::new(g, T::M, tiling.d, t, cols.start)));
        m.resize(a2 * cor * tbp, 0.0);
        for c0 in (0..g.cin).step_by(kc) {
            let kcc = kc.min(g.cin - c0);
            v.resize(a2 * kcc * tbp, 0.0);
            input_transform::<T>(g, tiling.d, &x_img[c0 * hw_in..(c0 + kcc) * hw_in], block, tbp, v, pad);
            for xi in 0..a2 {
                // V_ξ as a `tbp × kcc` matrix (tiles contiguous), U_ξ as `kcc × cor`.
                let lhs = MatRef::new(&v[xi * kcc * tbp..(xi + 1) * kcc * tbp], tbp, kcc, 1, tbp);
                let rhs = MatRef::new(&u[(xi * g.cout + co0) * g.cin + c0..], kcc, cor, 1, g.cin);
                gemm_colmajor(&mut m[xi * cor * tbp..(xi + 1) * cor * tbp], tbp, lhs, rhs, c0 > 0);
            }
        }
        output_transform::<T>(g, tiling.d, m, cor, wins_out, tbp, tile);
    }
}

/// The part of a tile's `m×m` output pixels that lies inside the image: `rows × cols` of them,
/// the first at `base` in the task's output rows.
#[derive(Clone, Copy)]
struct Window {
    base: usize,
    rows: usize,
    cols: usize,
}

impl Window {
    /// The window of tile `t` (pixels `d` apart) in rows that start at pixel `px0`.
    fn new(g: &Geometry, m: usize, d: usize, t: Pos, px0: usize) -> Self {
        let inside = |first: usize, size: usize| (size.saturating_sub(first)).div_ceil(d).min(m);
        Self { base: t.oy * g.ow + t.ox - px0, rows: inside(t.oy, g.oh), cols: inside(t.ox, g.ow) }
    }
}

/// `V[ξ][ci][t] = (Bᵀ d B)_ξ` for the tiles `block` over the input channels `x` (`kcc`
/// planes). Each channel's rows under the block are first copied into `pad`, a zero-padded
/// plane that holds every tile's whole input block, so that all tiles read without bounds
/// (and a block at the image's edge costs as much as one inside).
fn input_transform<T: Transform>(g: &Geometry, d: usize, x: &[f32], block: &[Pos], tbp: usize, v: &mut [f32], pad: &mut Vec<f32>) {
    let hw_in = g.h * g.w;
    let kcc = x.len() / hw_in;
    let span = (T::A - 1) * d;
    let (pt, pl) = (g.p.padding[0] as isize, g.p.padding[1] as isize);
    // The padded plane covers input rows y_lo..y_hi and columns x_lo..x_hi (image coordinates,
    // possibly outside the image).
    let y_lo = block.iter().map(|t| t.oy).min().unwrap_or(0) as isize - pt;
    let y_hi = block.iter().map(|t| t.oy).max().unwrap_or(0) as isize + span as isize + 1 - pt;
    let (x_lo, x_hi) = (-pl, block.iter().map(|t| t.ox).max().unwrap_or(0) as isize + span as isize + 1 - pl);
    let pw = (x_hi - x_lo) as usize;
    pad.clear();
    pad.resize((y_hi - y_lo) as usize * pw, 0.0);
    // The part inside the image, rewritten for each channel; the rest stays zero.
    let (iy0, iy1) = (y_lo.max(0) as usize, (y_hi.min(g.h as isize)).max(0) as usize);
    let (ix0, ix1) = (0usize, (x_hi.min(g.w as isize)).max(0) as usize);
    let base: Vec<usize> = block.iter().map(|t| (t.oy as isize - pt - y_lo) as usize * pw + (t.ox as isize - pl - x_lo) as usize).collect();
    let dw = d * pw;
    with_simd(
        #[inline(always)]
        || {
            let mut p = [[ZERO; 6]; 6];
            for (ci, plane) in x.chunks_exact(hw_in).enumerate() {
                if ix0 < ix1 {
                    for iy in iy0..iy1 {
                        let dst = (iy as isize - y_lo) as usize * pw + (ix0 as isize - x_lo) as usize;
                        pad[dst..dst + ix1 - ix0].copy_from_slice(&plane[iy * g.w + ix0..iy * g.w + ix1]);
                    }
                }
                let pad = &pad[..];
                // Lanes past the block (up to `tbp`) are zero: their GEMM rows are never read.
                for t0 in (block.len().next_multiple_of(LANES)..tbp).step_by(LANES) {
                    for xi in 0..T::A * T::A {
                        v[(xi * kcc + ci) * tbp + t0..][..LANES].fill(0.0);
                    }
                }
                for (grp, bases) in base.chunks(LANES).enumerate() {
                    // Each value is built lane by lane in a register (lanes written to memory one
                    // by one and read back as a vector would stall on store forwarding). Lanes
                    // past the block repeat the first tile.
                    let lane: [usize; LANES] = std::array::from_fn(|l| bases.get(l).copied().unwrap_or(bases[0]));
                    let row_of = |b: usize| b / pw;
                    if d == 1 && bases.len() == LANES && (0..LANES).all(|l| lane[l] == lane[0] + l * T::M && row_of(lane[l]) == row_of(lane[0])) {
                        // Eight neighbouring tiles of one row: each row of their blocks is one
                        // contiguous run, whose strided lanes LLVM gathers with shuffles.
                        for (a, pa) in p.iter_mut().enumerate().take(T::A) {
                            let run = &pad[lane[0] + a * pw..][..(LANES - 1) * T::M + T::A];
                            for (b, pab) in pa.iter_mut().enumerate().take(T::A) {
                                *pab = std::array::from_fn(|l| run[l * T::M + b]);
                            }
                        }
                    } else {
                        for (a, pa) in p.iter_mut().enumerate().take(T::A) {
                            for (b, pab) in pa.iter_mut().enumerate().take(T::A) {
                                let off = a * dw + b * d;
                                *pab = std::array::from_fn(|l| pad[lane[l] + off]);
                            }
                        }
                    }
                    let q = input_2d::<T>(&p);
                    let t0 = grp * LANES;
                    for a in 0..T::A {
                        for b in 0..T::A {
                            v[((a * T::A + b) * kcc + ci) * tbp + t0..][..LANES].copy_from_slice(&q[a][b]);
                        }
                    }
                }
            }
        },
    );
}

/// Output pixels `Aᵀ M A` of the tiles whose output windows are `wins`, written into the task's
/// rows.
fn output_transform<T: Transform>(g: &Geometry, d: usize, m: &[f32], cor: usize, wins: &[Window], tbp: usize, tile: &mut TileMut<'_>) {
    let px0 = tile.cols().start;
    let dow = d * g.ow;
    // Every value the transform reads is overwritten for each group.
    let mut q = [[ZERO; 6]; 6];
    with_simd(
        #[inline(always)]
        || {
            for co in 0..cor {
                let row = tile.row_mut(co);
                for (grp, lanes) in wins.chunks(LANES).enumerate() {
                    let t0 = grp * LANES;
                    for (a, qa) in q.iter_mut().enumerate().take(T::A) {
                        for (b, qab) in qa.iter_mut().enumerate().take(T::A) {
                            qab.copy_from_slice(&m[((a * T::A + b) * cor + co) * tbp + t0..][..LANES]);
                        }
                    }
                    let y = output_2d::<T>(&q);
                    let w0 = lanes[0];
                    let full = |w: &Window| w.rows == T::M && w.cols == T::M;
                    if d == 1 && lanes.len() == LANES && (0..LANES).all(|l| full(&lanes[l]) && lanes[l].base == w0.base + l * T::M) && (w0.base + px0) % g.ow + LANES * T::M <= g.ow {
                        // Eight neighbouring whole tiles of one row: each output row is one
                        // contiguous run, interleaved from the lanes with shuffles.
                        for (i, yi) in y.iter().enumerate().take(T::M) {
                            let out = &mut row[w0.base + i * dow..][..LANES * T::M];
                            for l in 0..LANES {
                                for (j, yij) in yi.iter().enumerate().take(T::M) {
                                    out[l * T::M + j] = yij[l];
                                }
                            }
                        }
                        continue;
                    }
                    for (l, w) in lanes.iter().enumerate() {
                        if w.rows == T::M && w.cols == T::M {
                            for (i, yi) in y.iter().enumerate().take(T::M) {
                                let out = &mut row[w.base + i * dow..][..(T::M - 1) * d + 1];
                                for (j, yij) in yi.iter().enumerate().take(T::M) {
                                    out[j * d] = yij[l];
                                }
                            }
                        } else {
                            for (i, yi) in y.iter().enumerate().take(w.rows) {
                                let out = &mut row[w.base + i * dow..];
                                for (j, yij) in yi.iter().enumerate().take(w.cols) {
                                    out[j * d] = yij[l];
                                }
                            }
                        }
                    }
                }
            }
        },
    );
}
