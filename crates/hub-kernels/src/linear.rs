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
    let mut out = vec![0.0f32; out_len];
    let threads = rayon::current_num_threads().max(1);
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
        let xs = &x[r.start * d_in..r.end * d_in];
        if r.len() <= GEMV_ROWS {
            gemv_tile(&mut tile, xs, d_in, p, lc.clone());
        } else {
            let lhs = MatRef::new(xs, r.len(), d_in, d_in, 1);
            let (w0, w_rs, w_cs) = match p.layout {
                WeightLayout::InOut => (lc.start, p.d_out, 1),
                WeightLayout::OutIn => (lc.start * d_in, 1, d_in),
            };
            let rhs = MatRef::new(&p.weight[w0..], d_in, c.len(), w_rs, w_cs);
            tile.gemm(lhs, rhs);
        }
        if p.bias.is_none() && residual.is_none() && activation == Activation::None {
            return;
        }
        with_simd(
            #[inline(always)]
            || {
                for i in 0..r.len() {
                    let row = tile.row_mut(i);
                    // Along an output row the bias changes per element (the channel epilogue does
                    // not apply): a row add, the residual, then the activation.
                    if let Some(b) = p.bias {
                        row.iter_mut().zip(&b[lc.clone()]).for_each(|(v, b)| *v += *b);
                    }
                    if let Some(res) = residual {
                        let at = (r.start + i) * d_total;
                        row.iter_mut().zip(&res[at + c.start..at + c.end]).for_each(|(v, r)| *v += *r);
                    }
                    activate_slice(activation, row);
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

thread_local! {
    static ACC: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `tile = xs · W[:, cols]` for a few rows, reading each weight once: row-wise multiply-adds
/// for `[in, out]` weights, dot products for `[out, in]` ones.
fn gemv_tile(tile: &mut TileMut<'_>, xs: &[f32], d_in: usize, p: &LinearPart<'_>, cols: Range<usize>) {
    let (rows, n) = (xs.len() / d_in, cols.len());
    ACC.with_borrow_mut(|acc| {
        acc.clear();
        acc.resize(rows * n, 0.0);
        with_simd(
            #[inline(always)]
            || match p.layout {
                WeightLayout::InOut => {
                    for i in 0..d_in {
                        let w = &p.weight[i * p.d_out + cols.start..i * p.d_out + cols.end];
                        for (r, a) in acc.chunks_exact_mut(n).enumerate() {
                            let xv = xs[r * d_in + i];
                            a.iter_mut().zip(w).for_each(|(a, w)| *a += xv * w);
                        }
                    }
                }
                WeightLayout::OutIn => {
                    for (j, col) in cols.clone().enumerate() {
                        let w = &p.weight[col * d_in..(col + 1) * d_in];
                        for r in 0..rows {
                            acc[r * n + j] = dot(&xs[r * d_in..(r + 1) * d_in], w);
                        }
                    }
                }
            },
        );
        for (r, a) in acc.chunks_exact(n).enumerate() {
            tile.row_mut(r).copy_from_slice(a);
        }
    });
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
