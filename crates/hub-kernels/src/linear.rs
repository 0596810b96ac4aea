//! Fully connected layers: `act(x · W + bias + residual)` on gemm, tiles in parallel, epilogue
//! fused; several weight matrices side by side in one call (a transformer's query, key and
//! value projections as one).

use std::ops::Range;

use crate::act::{activate_slice, with_simd, Activation};
use crate::raw::{par_grid, MatRef, TileMut};
use crate::KernelError;

/// How the weight matrix is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightLayout {
    /// `[in, out]` (burn's `Linear`).
    InOut,
    /// `[out, in]` (PyTorch's `nn.Linear`).
    OutIn,
}

/// One weight matrix of a linear layer and its bias.
#[derive(Clone, Copy, Debug)]
pub struct LinearPart<'a> {
    /// `[d_in, d_out]` or `[d_out, d_in]` by `layout`.
    pub weight: &'a [f32],
    /// Its output width.
    pub d_out: usize,
    /// How `weight` is laid out.
    pub layout: WeightLayout,
    /// `[d_out]`.
    pub bias: Option<&'a [f32]>,
}

/// `act(x · W + bias)` for `rows` input rows of `d_in` values.
///
/// # Shapes
/// - x: `[rows, d_in]` (contiguous); weight: `[d_in, d_out]` or `[d_out, d_in]` by `layout`
/// - bias: `[d_out]`; output: `[rows, d_out]`
///
/// # Errors
/// [`KernelError::Shape`] when the lengths do not fit the shapes.
#[allow(clippy::too_many_arguments)]
pub fn linear(
    x: &[f32],
    rows: usize,
    d_in: usize,
    weight: &[f32],
    d_out: usize,
    layout: WeightLayout,
    bias: Option<&[f32]>,
    activation: Activation,
) -> Result<Vec<f32>, KernelError> {
    linear_fused(x, rows, d_in, &[LinearPart { weight, d_out, layout, bias }], None, activation)
}

/// `act([x·W₁ + b₁ | x·W₂ + b₂ | …] + residual)`: the parts' outputs side by side in one
/// `[rows, Σ d_out]` matrix (one pass over `x` for several projections), then an optional
/// residual of that shape, then the activation (PyTorch's order: bias, residual, activation).
///
/// # Shapes
/// - x: `[rows, d_in]` (contiguous); each part's weight `[d_in, d_out]` or `[d_out, d_in]`
/// - residual: `[rows, Σ d_out]`; output: `[rows, Σ d_out]`
///
/// # Errors
/// [`KernelError::Shape`] when the lengths do not fit the shapes.
pub fn linear_fused(
    x: &[f32],
    rows: usize,
    d_in: usize,
    parts: &[LinearPart<'_>],
    residual: Option<&[f32]>,
    activation: Activation,
) -> Result<Vec<f32>, KernelError> {
    let shape = |m: String| Err(KernelError::Shape(m));
    let len = |a: usize, b: usize| a.checked_mul(b).ok_or_else(|| KernelError::Shape(format!("{a}×{b} overflows")));
    let d_total = parts.iter().try_fold(0usize, |t, p| t.checked_add(p.d_out)).unwrap_or(0);
    if rows == 0 || d_in == 0 || d_total == 0 || parts.iter().any(|p| p.d_out == 0) {
        return shape(format!("empty linear layer: {rows} rows, {d_in} → {d_total}"));
    }
    if x.len() != len(rows, d_in)? {
        return shape(format!("linear layer: input has {} values for {rows}×{d_in}", x.len()));
    }
    for p in parts {
        if p.weight.len() != len(d_in, p.d_out)? {
            return shape(format!("linear layer: weight has {} values for {d_in}×{}", p.weight.len(), p.d_out));
        }
        if p.bias.is_some_and(|b| b.len() != p.d_out) {
            return shape(format!("linear bias has {} values, expected {}", p.bias.map_or(0, <[f32]>::len), p.d_out));
        }
    }
    let out_len = len(rows, d_total)?;
    if residual.is_some_and(|r| r.len() != out_len) {
        return shape(format!("linear residual has {} values, expected {rows}×{d_total}", residual.map_or(0, <[f32]>::len)));
    }
    let threads = rayon::current_num_threads().max(1);
    if rows <= GEMV_ROWS {
        return Ok(few_rows(x, rows, d_in, parts, d_total, residual, activation, threads));
    }
    let mut out = vec![0.0f32; out_len];
    // Every tile packs the weight columns it reads, and a short row block leaves gemm's
    // micro-kernel half empty: keep whole row blocks of at least 256 rows (all rows, for a
    // transformer's sequence or one image) and split the output columns among the threads.
    let row_step = if rows >= 512 { rows.div_ceil(2 * threads).max(256) } else { rows };
    let row_ranges: Vec<_> = (0..rows).step_by(row_step).map(|r| r..(r + row_step).min(rows)).collect();
    let col_tasks = (2 * threads).div_ceil(row_ranges.len());
    // Column blocks never straddle two parts: each tile reads one weight matrix.
    let mut col_ranges: Vec<Range<usize>> = Vec::new();
    let mut owner = Vec::new();
    let mut c0 = 0;
    for (i, p) in parts.iter().enumerate() {
        let block = (d_total.div_ceil(col_tasks)).next_multiple_of(16).min(p.d_out);
        for c in (0..p.d_out).step_by(block) {
            col_ranges.push(c0 + c..c0 + (c + block).min(p.d_out));
            owner.push((i, c0));
        }
        c0 += p.d_out;
    }
    par_grid(&mut out, rows, d_total, &row_ranges, &col_ranges, |mut tile: TileMut<'_>| {
        let (r, c) = (tile.rows(), tile.cols());
        let block = col_ranges.partition_point(|cr| cr.start < c.start);
        let (part, start) = owner[block];
        let p = &parts[part];
        let lc = c.start - start..c.end - start;
        let lhs = MatRef::new(&x[r.start * d_in..r.end * d_in], r.len(), d_in, d_in, 1);
        let (w0, w_rs, w_cs) = match p.layout {
            WeightLayout::InOut => (lc.start, p.d_out, 1),
            WeightLayout::OutIn => (lc.start * d_in, 1, d_in),
        };
        let rhs = MatRef::new(&p.weight[w0..], d_in, c.len(), w_rs, w_cs);
        tile.gemm(lhs, rhs);
        if p.bias.is_none() && residual.is_none() && activation == Activation::None {
            return;
        }
        with_simd(
            #[inline(always)]
            || {
                for i in 0..r.len() {
                    let at = (r.start + i) * d_total;
                    let res = residual.map(|res| &res[at + c.start..at + c.end]);
                    row_epilogue(tile.row_mut(i), p.bias.map(|b| &b[lc.clone()]), res, activation);
                }
            },
        );
    });
    Ok(out)
}

/// Up to this many input rows (one image, one token, a few of them), the weights are streamed
/// once and multiplied in place: packing them for gemm would cost more than the product, which
/// is bound by reading the weights from memory.
const GEMV_ROWS: usize = 8;

/// `act(x · W + bias + residual)` for a few rows: the input dimension is split into one
/// contiguous block per thread (each streams its own rows of every weight matrix once), the
/// partial products are summed in a fixed order, then the epilogue is applied.
#[allow(clippy::too_many_arguments)]
fn few_rows(x: &[f32], rows: usize, d_in: usize, parts: &[LinearPart<'_>], d_total: usize, residual: Option<&[f32]>, activation: Activation, threads: usize) -> Vec<f32> {
    use rayon::prelude::*;
    // At least 64 input rows per block, so that small layers stay on one thread.
    let step = d_in.div_ceil(threads).max(64);
    let blocks: Vec<Range<usize>> = (0..d_in).step_by(step).map(|k| k..(k + step).min(d_in)).collect();
    let partials: Vec<Vec<f32>> = blocks.par_iter().map(|k| partial_product(x, rows, d_in, parts, d_total, k.clone())).collect();
    let mut partials = partials.into_iter();
    let mut out = partials.next().expect("d_in > 0 gives at least one block");
    for p in partials {
        out.iter_mut().zip(&p).for_each(|(o, p)| *o += p);
    }
    with_simd(
        #[inline(always)]
        || {
            for (r, row) in out.chunks_exact_mut(d_total).enumerate() {
                let mut c0 = 0;
                for p in parts {
                    let at = r * d_total + c0;
                    let res = residual.map(|res| &res[at..at + p.d_out]);
                    row_epilogue(&mut row[c0..c0 + p.d_out], p.bias, res, activation);
                    c0 += p.d_out;
                }
            }
        },
    );
    out
}

/// `x[:, k] · W[k, :]` over the input block `k`, for every part, as a `[rows, d_total]` matrix.
fn partial_product(x: &[f32], rows: usize, d_in: usize, parts: &[LinearPart<'_>], d_total: usize, k: Range<usize>) -> Vec<f32> {
    let mut acc = vec![0.0f32; rows * d_total];
    with_simd(
        #[inline(always)]
        || {
            let mut c0 = 0;
            for p in parts {
                let n = p.d_out;
                match p.layout {
                    WeightLayout::InOut => {
                        for i in k.clone() {
                            let w = &p.weight[i * n..(i + 1) * n];
                            for r in 0..rows {
                                let xv = x[r * d_in + i];
                                let a = &mut acc[r * d_total + c0..r * d_total + c0 + n];
                                a.iter_mut().zip(w).for_each(|(a, w)| *a += xv * w);
                            }
                        }
                    }
                    WeightLayout::OutIn => {
                        for j in 0..n {
                            let w = &p.weight[j * d_in + k.start..j * d_in + k.end];
                            for r in 0..rows {
                                acc[r * d_total + c0 + j] = dot(&x[r * d_in + k.start..r * d_in + k.end], w);
                            }
                        }
                    }
                }
                c0 += n;
            }
        },
    );
    acc
}

/// A run of one output row after the product: along a row the bias changes per element (the
/// channel epilogue does not apply), so a row add, then the residual, then the activation.
#[inline(always)]
fn row_epilogue(row: &mut [f32], bias: Option<&[f32]>, residual: Option<&[f32]>, activation: Activation) {
    if let Some(b) = bias {
        row.iter_mut().zip(b).for_each(|(v, b)| *v += *b);
    }
    if let Some(r) = residual {
        row.iter_mut().zip(r).for_each(|(v, r)| *v += *r);
    }
    activate_slice(activation, row);
}

/// `Σ a·b` over 16 independent lanes (so it vectorises), then across them.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for ((l, x), y) in lanes.iter_mut().zip(x).zip(y) {
            *l += x * y;
        }
    }
    lanes.iter().sum::<f32>() + tail
}
