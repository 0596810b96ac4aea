//! The driver: tiles of the output, tasks over bands and output channels, the input and output
//! transforms of each block of tiles and the per-frequency GEMMs between them.

use std::cell::RefCell;

use crate::act::{with_simd, Epilogue};
use crate::geometry::{epilogue_tile, Geometry};
use crate::raw::{gemm_colmajor, par_grid, MatRef, TileMut};

use super::cost::{blocks, plan, Plan};
use super::transform::{input_2d, output_2d, Transform, LANES, ZERO};
use super::weights::{keep_weights, transform_weights};

/// Where the tiles of a convolution lie: bands of `m·d` output rows, each holding the same
/// tiles, one per `(sub-grid row, sub-grid column, tile column)`.
pub(super) struct Tiling {
    /// Output tile side.
    pub(super) m: usize,
    /// Dilation: output pixels of one tile are `d` apart.
    pub(super) d: usize,
    /// Bands per image, `⌈H'/(m·d)⌉`.
    pub(super) bands: usize,
    /// Each tile of a band: (first output row within the band, first output column).
    pub(super) template: Vec<(usize, usize)>,
}

impl Tiling {
    pub(super) fn new(g: &Geometry, m: usize) -> Self {
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

    pub(super) fn band_rows(&self) -> usize {
        self.m * self.d
    }
}

/// A tile's first output pixel.
#[derive(Clone, Copy)]
pub(super) struct Pos {
    oy: usize,
    ox: usize,
}

/// Tiles per GEMM block (the GEMM's row count; a multiple of 16, gemm's micro-kernel height).
pub(super) const BLOCK_TILES: usize = 64;
/// Bytes of the transformed input block `V` kept per thread: `C_in` is split into chunks
/// that fit.
pub(super) const V_BYTES: usize = 8 << 20;

pub(super) struct Scratch {
    v: Vec<f32>,
    m: Vec<f32>,
    pos: Vec<Pos>,
    pad: Vec<f32>,
    wins_out: Vec<Window>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch { v: Vec::new(), m: Vec::new(), pos: Vec::new(), pad: Vec::new(), wins_out: Vec::new() }) };
}

pub(super) fn run_with<T: Transform>(g: &Geometry, x: &[f32], weight: &[f32], e: &Epilogue<'_>, out: &mut [f32]) {
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
pub(super) fn task<T: Transform>(g: &Geometry, tiling: &Tiling, x: &[f32], u: &[f32], tile: &mut TileMut<'_>, s: &mut Scratch) {
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
pub(super) struct Window {
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
pub(super) fn input_transform<T: Transform>(g: &Geometry, d: usize, x: &[f32], block: &[Pos], tbp: usize, v: &mut [f32], pad: &mut Vec<f32>) {
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
pub(super) fn output_transform<T: Transform>(g: &Geometry, d: usize, m: &[f32], cor: usize, wins: &[Window], tbp: usize, tile: &mut TileMut<'_>) {
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
