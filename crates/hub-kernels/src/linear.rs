//! Fully connected layers: `act(x · W + bias)` on gemm, tiles in parallel, epilogue fused.

use crate::act::{activate_slice, with_simd, Activation};
use crate::raw::{par_tiles, MatRef, TileMut};
use crate::KernelError;

/// How the weight matrix is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightLayout {
    /// `[in, out]` (burn's `Linear`).
    InOut,
    /// `[out, in]` (PyTorch's `nn.Linear`).
    OutIn,
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
    if rows == 0 || d_in == 0 || d_out == 0 {
        return Err(KernelError::Shape(format!("empty linear layer: {rows} rows, {d_in} → {d_out}")));
    }
    let len = |a: usize, b: usize| a.checked_mul(b).ok_or_else(|| KernelError::Shape(format!("{a}×{b} overflows")));
    if x.len() != len(rows, d_in)? || weight.len() != len(d_in, d_out)? {
        return Err(KernelError::Shape(format!(
            "linear layer: input has {} values for {rows}×{d_in}, weight {} for {d_in}×{d_out}",
            x.len(),
            weight.len()
        )));
    }
    let out_len = len(rows, d_out)?;
    if let Some(b) = bias {
        if b.len() != d_out {
            return Err(KernelError::Shape(format!("linear bias has {} values, expected {d_out}", b.len())));
        }
    }
    let mut out = vec![0.0f32; out_len];
    let threads = rayon::current_num_threads().max(1);
    // Row blocks of the input; with few rows (one token, one image) split the outputs instead.
    let row_step = rows.div_ceil(2 * threads).max(16).min(rows);
    let row_ranges: Vec<_> = (0..rows).step_by(row_step).map(|r| r..(r + row_step).min(rows)).collect();
    let col_block = if row_ranges.len() >= 2 * threads { d_out } else { d_out.div_ceil(2 * threads).next_multiple_of(16).min(d_out) };
    let (w_rs, w_cs) = match layout {
        WeightLayout::InOut => (d_out, 1),
        WeightLayout::OutIn => (1, d_in),
    };
    par_tiles(&mut out, rows, d_out, &row_ranges, col_block, |mut tile: TileMut<'_>| {
        let (r, c) = (tile.rows(), tile.cols());
        let lhs = MatRef::new(&x[r.start * d_in..r.end * d_in], r.len(), d_in, d_in, 1);
        let w0 = match layout {
            WeightLayout::InOut => c.start,
            WeightLayout::OutIn => c.start * d_in,
        };
        let rhs = MatRef::new(&weight[w0..], d_in, c.len(), w_rs, w_cs);
        tile.gemm(lhs, rhs);
        if bias.is_none() && activation == Activation::None {
            return;
        }
        with_simd(
            #[inline(always)]
            || {
                for i in 0..r.len() {
                    let row = tile.row_mut(i);
                    // Along an output row the bias changes per element (the channel epilogue does
                    // not apply): a row add, then the activation.
                    if let Some(b) = bias {
                        row.iter_mut().zip(&b[c.clone()]).for_each(|(v, b)| *v += *b);
                    }
                    activate_slice(activation, row);
                }
            },
        );
    });
    Ok(out)
}
