//! The cost model that chooses between Winograd and the direct path, and how a Winograd
//! convolution is split into tasks.

use std::ops::Range;

use crate::geometry::Geometry;

use super::tiles::{Tiling, BLOCK_TILES};

// The cost model: nanoseconds of one thread per unit of work, and of the whole call, a
// least-squares fit to the times of the direct path and of `F(2×2)` over the 36 shapes of
// `examples/winograd_shapes.rs` (2 threads on a Zen 3 EPYC VM with AVX2; docs/benchmarks.md).
// Only their ratios matter. (`F(3×3)` and `F(4×4)`, chosen only on request, are estimated with
// the same constants.)
/// Direct path: per FLOP of its GEMM.
pub(super) const DIRECT_NS_PER_FLOP: f64 = 0.0160;
/// Direct path: per value its im2col writes (`9·C_in` per output pixel).
pub(super) const DIRECT_NS_PER_COL: f64 = 0.19;
/// Direct path: per call (tasks, tiles, their GEMM calls).
pub(super) const DIRECT_NS_CALL: f64 = 214_000.0;
/// Winograd: per FLOP of the per-frequency GEMMs (rows padded to 16).
pub(super) const GEMM_NS_PER_FLOP: f64 = 0.0151;
/// Input transform, per tile, input channel and frequency.
pub(super) const IN_NS: f64 = 0.83;
/// Output transform (and epilogue), per tile, output channel and frequency.
pub(super) const OUT_NS: f64 = 1.13;
/// Weight transform, per output channel, input channel and frequency.
pub(super) const WEIGHT_NS: f64 = 1.30;
/// Winograd: per call.
pub(super) const WINOGRAD_NS_CALL: f64 = 56_000.0;
/// Winograd is chosen when its estimate is below this fraction of the direct path's (on the
/// fitted shapes it then never takes the slower path).
pub(super) const MARGIN: f64 = 0.9;
/// Fewest input and output channels for the automatic choice: below, the transforms dominate
/// and the measured times (SqueezeNet's 16 → 64) favour the direct path.
pub(super) const MIN_CHANNELS: usize = 32;

/// The direct path's estimate on one thread.
pub(super) fn direct_ns(g: &Geometry) -> f64 {
    let pixels = (g.n * g.oh * g.ow) as f64;
    let k = (g.cin * 9) as f64;
    pixels * k * (2.0 * g.cout as f64 * DIRECT_NS_PER_FLOP + DIRECT_NS_PER_COL)
}

/// How a convolution's work is split into tasks (`rows × cols` of the output matrix), and
/// what it is expected to cost.
pub(super) struct Plan {
    /// Each task's output pixels: a run of whole bands.
    pub(super) col_ranges: Vec<Range<usize>>,
    /// Output channels per task.
    pub(super) m_step: usize,
    /// Estimated nanoseconds on the threads, weight transform included.
    pub(super) ns: f64,
}

/// Tile blocks of a task with `tiles` tiles: the block size and the GEMM rows they take
/// (blocks padded to gemm's 16-row micro-kernel).
pub(super) fn blocks(tiles: usize) -> (usize, usize) {
    if tiles == 0 {
        return (1, 0);
    }
    let per = tiles.div_ceil(tiles.div_ceil(BLOCK_TILES));
    let rows = tiles / per * per.next_multiple_of(16) + (tiles % per).next_multiple_of(16);
    (per, rows)
}

/// The cheapest split (by the cost model) of the bands into groups and of the output channels
/// into parts, such that the tasks share the threads evenly.
pub(super) fn plan(g: &Geometry, tiling: &Tiling, a2: usize, threads: usize) -> Plan {
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
