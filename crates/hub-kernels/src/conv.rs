//! 2-D convolution on NCHW `f32` tensors with a fused epilogue.
//!
//! - Depthwise (`groups = C_in = C_out`): a direct kernel per channel plane, rows accumulated
//!   with contiguous (stride 1) or strided reads; parallel over planes.
//! - 3×3 stride-1 convolutions (any padding and dilation, groups 1) where
//!   [`crate::winograd::choose`] estimates it faster: Winograd `F(2×2, 3×3)`
//!   ([`crate::winograd`]; `HUB_WINOGRAD=off` turns it off).
//! - Everything else: a GEMM per image and group, `out[C_out/g, H'·W'] = W[C_out/g, K] ·
//!   cols[K, H'·W']` with `K = C_in/g · kh · kw`, where the weights are used in PyTorch's own
//!   `[C_out, C_in/g, kh, kw]` order (no re-layout), 1×1 stride-1 convolutions read the input
//!   in place, and others gather `cols` one L2-sized block of output pixels at a time into a
//!   per-thread buffer (the full im2col matrix is never written out). Each output tile gets its
//!   epilogue (bias, folded BatchNorm, residual, activation) while it is still in cache.

use std::cell::RefCell;
use std::ops::Range;

use rayon::prelude::*;

use crate::act::{epilogue_run, with_simd, Epilogue};
use crate::geometry::{epilogue_tile, Geometry};
use crate::raw::{par_tiles, MatRef, TileMut};
use crate::{winograd, KernelError};

pub use crate::geometry::Conv2dParams;


/// `act(conv(x, weight) + …)`: a 2-D convolution of `x` (`[N, C_in, H, W]`, contiguous) with
/// `weight` (`[C_out, C_in/groups, kh, kw]`, PyTorch's layout) and the epilogue fused.
///
/// # Shapes
/// - x: `[N, C_in, H, W]`; weight: `[C_out, C_in/groups, kh, kw]`
/// - epilogue bias/scale/shift: `[C_out]`; residual: the output's shape
/// - output: `[N, C_out, H', W']` with `H' = (H + pt + pb − dh·(kh−1) − 1)/sh + 1` (same for W')
///
/// # Errors
/// [`KernelError::Shape`] when lengths, shapes, groups or the epilogue do not fit together.
pub fn conv2d(
    x: &[f32],
    x_shape: [usize; 4],
    weight: &[f32],
    weight_shape: [usize; 4],
    params: Conv2dParams,
    epilogue: &Epilogue<'_>,
) -> Result<(Vec<f32>, [usize; 4]), KernelError> {
    let g = Geometry::checked(x, x_shape, weight, weight_shape, params, epilogue)?;
    let mut out = vec![0.0f32; g.out_len()];
    let winograd = winograd::choose_for(&g, rayon::current_num_threads());
    if g.depthwise() {
        depthwise(&g, x, weight, epilogue, &mut out);
    } else if let Some(v) = winograd {
        winograd::run(v, &g, x, weight, epilogue, &mut out);
    } else {
        grouped_gemm(&g, x, weight, epilogue, &mut out);
    }
    Ok((out, [g.n, g.cout, g.oh, g.ow]))
}

/// Elements of one im2col block kept per thread (1 MiB: inside a Zen or Skylake L2).
const COLS_BLOCK_ELEMS: usize = 256 * 1024;

thread_local! {
    static COLS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

fn grouped_gemm(g: &Geometry, x: &[f32], weight: &[f32], e: &Epilogue<'_>, out: &mut [f32]) {
    let groups = g.p.groups;
    let (mg, cig) = (g.cout / groups, g.cin / groups);
    let k = cig * g.kh * g.kw;
    let (hw_in, hw) = (g.h * g.w, g.oh * g.ow);
    let threads = rayon::current_num_threads().max(1);
    // Output pixels per tile: the whole image for 1×1 stride-1 layers unless the threads need
    // more tiles; an L2-sized im2col block otherwise.
    // A multiple of 64 pixels, so that gemm runs its full-width micro-kernel on every block.
    let mut col_block = if g.pointwise() { hw } else { (COLS_BLOCK_ELEMS / k / 64 * 64).clamp(64, hw.max(64)) };
    let tiles_per = |cb: usize| g.n * groups * hw.div_ceil(cb);
    while tiles_per(col_block) < 2 * threads && col_block >= 128 {
        col_block = col_block.div_ceil(2);
    }
    // Few tiles (late layers, small images): split the output channels too.
    let m_parts = (2 * threads).div_ceil(tiles_per(col_block)).clamp(1, (mg / 16).max(1));
    let m_step = mg.div_ceil(m_parts);
    let mut row_ranges = Vec::with_capacity(g.n * groups * m_parts);
    for img_group in 0..g.n * groups {
        let base = img_group * mg;
        row_ranges.extend((0..mg).step_by(m_step).map(|r| base + r..base + (r + m_step).min(mg)));
    }
    let rows = g.n * g.cout;
    par_tiles(out, rows, hw, &row_ranges, col_block, |mut tile: TileMut<'_>| {
        let r = tile.rows();
        let (img, c0) = (r.start / g.cout, r.start % g.cout);
        let group = c0 / mg;
        let lhs = MatRef::new(&weight[c0 * k..(c0 + r.len()) * k], r.len(), k, k, 1);
        let cols = tile.cols();
        let x_group = &x[(img * g.cin + group * cig) * hw_in..(img * g.cin + (group + 1) * cig) * hw_in];
        if g.pointwise() {
            let rhs = MatRef::new(&x_group[cols.start..], cig, cols.len(), hw_in, 1);
            tile.gemm(lhs, rhs);
        } else {
            COLS.with_borrow_mut(|buf| {
                buf.resize(k * cols.len(), 0.0);
                let block = &mut buf[..k * cols.len()];
                im2col(g, x_group, cols.clone(), block);
                tile.gemm(lhs, MatRef::new(block, k, cols.len(), cols.len(), 1));
            });
        }
        epilogue_tile(g, e, &mut tile, img, c0);
    });
}


/// Gathers the input values that output pixels `pixels` (flattened `oy·W' + ox`) see into
/// `block` (`[K, pixels.len()]`, row `(ci, ky, kx)`), zero where the kernel covers padding.
fn im2col(g: &Geometry, x: &[f32], pixels: Range<usize>, block: &mut [f32]) {
    let np = pixels.len();
    let [sh, sw] = g.p.stride;
    let [dh, dw] = g.p.dilation;
    let (pt, pl) = (g.p.padding[0], g.p.padding[1]);
    let cig = g.cin / g.p.groups;
    let mut rows = block.chunks_exact_mut(np);
    for ci in 0..cig {
        let plane = &x[ci * g.h * g.w..(ci + 1) * g.h * g.w];
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let Some(row) = rows.next() else { return };
                // Output columns ox whose input column ox·sw + kx·dw − pl lies in [0, W).
                let off = kx * dw;
                let ox_lo = pl.saturating_sub(off).div_ceil(sw).min(g.ow);
                let ox_hi = if g.w + pl > off { ((g.w + pl - off - 1) / sw + 1).min(g.ow) } else { 0 }.max(ox_lo);
                let mut p = pixels.start;
                let mut dst = 0;
                while p < pixels.end {
                    let (oy, ox0) = (p / g.ow, p % g.ow);
                    let run = (g.ow - ox0).min(pixels.end - p);
                    let seg = &mut row[dst..dst + run];
                    let iy = (oy * sh + ky * dh).checked_sub(pt).filter(|&iy| iy < g.h);
                    match iy {
                        None => seg.fill(0.0),
                        Some(iy) => {
                            let src = &plane[iy * g.w..(iy + 1) * g.w];
                            let (a, b) = (ox_lo.clamp(ox0, ox0 + run), ox_hi.clamp(ox0, ox0 + run));
                            seg[..a - ox0].fill(0.0);
                            seg[b - ox0..].fill(0.0);
                            if a < b {
                                let start = a * sw + off - pl;
                                let part = &mut seg[a - ox0..b - ox0];
                                if sw == 1 {
                                    part.copy_from_slice(&src[start..start + (b - a)]);
                                } else {
                                    part.iter_mut().zip(src[start..].iter().step_by(sw)).for_each(|(d, s)| *d = *s);
                                }
                            }
                        }
                    }
                    p += run;
                    dst += run;
                }
            }
        }
    }
}

/// Depthwise convolution: each output plane from its own input plane and `kh × kw` weights.
fn depthwise(g: &Geometry, x: &[f32], weight: &[f32], e: &Epilogue<'_>, out: &mut [f32]) {
    let (hw_in, hw) = (g.h * g.w, g.oh * g.ow);
    let kk = g.kh * g.kw;
    out.par_chunks_mut(hw).enumerate().for_each(|(plane, o)| {
        let c = plane % g.cout;
        let src = &x[plane * hw_in..(plane + 1) * hw_in];
        let wt = &weight[c * kk..(c + 1) * kk];
        with_simd(
            #[inline(always)]
            || {
                depthwise_plane(g, src, wt, o);
                let res = e.residual.map(|r| &r[plane * hw..(plane + 1) * hw]);
                epilogue_run(e, c, o, res);
            },
        );
    });
}

#[inline(always)]
fn depthwise_plane(g: &Geometry, src: &[f32], wt: &[f32], o: &mut [f32]) {
    let [sh, sw] = g.p.stride;
    let [dh, dw] = g.p.dilation;
    let (pt, pl) = (g.p.padding[0], g.p.padding[1]);
    for (oy, orow) in o.chunks_exact_mut(g.ow).enumerate() {
        for ky in 0..g.kh {
            let Some(iy) = (oy * sh + ky * dh).checked_sub(pt).filter(|&iy| iy < g.h) else { continue };
            let irow = &src[iy * g.w..(iy + 1) * g.w];
            for kx in 0..g.kw {
                let wv = wt[ky * g.kw + kx];
                let off = kx * dw;
                let lo = pl.saturating_sub(off).div_ceil(sw).min(g.ow);
                let hi = if g.w + pl > off { ((g.w + pl - off - 1) / sw + 1).min(g.ow) } else { 0 }.max(lo);
                if lo == hi {
                    continue;
                }
                let start = lo * sw + off - pl;
                let dst = &mut orow[lo..hi];
                if sw == 1 {
                    dst.iter_mut().zip(&irow[start..start + (hi - lo)]).for_each(|(d, s)| *d += wv * *s);
                } else {
                    dst.iter_mut().zip(irow[start..].iter().step_by(sw)).for_each(|(d, s)| *d += wv * *s);
                }
            }
        }
    }
}
