//! Scaled dot-product attention over heads, read in place from strided views (a fused
//! query/key/value projection, a key/value cache) and written with the heads already merged:
//! one task per (batch, head), scores in a task-local buffer, a vectorised softmax.

use std::cell::RefCell;

use crate::act::{exp, with_simd};
use crate::raw::{gemm_into, par_grid, MatRef, TileMut};
use crate::KernelError;

/// A read-only view of a `[batch, heads, len, head_dim]` tensor: element `(b, h, i, j)` is
/// `data[offset + b·strides[0] + h·strides[1] + i·strides[2] + j·strides[3]]`.
#[derive(Clone, Copy, Debug)]
pub struct Heads<'a> {
    /// The whole buffer the view reads from.
    pub data: &'a [f32],
    /// Where element `(0, 0, 0, 0)` is.
    pub offset: usize,
    /// `[batch, heads, len, head_dim]`.
    pub dims: [usize; 4],
    /// Element strides of the four dimensions.
    pub strides: [usize; 4],
}

impl<'a> Heads<'a> {
    /// A view of a contiguous `[batch, len, heads·head_dim]` block starting at column `col`
    /// of a row-major matrix of `row_len` columns (e.g. the `q`, `k` or `v` third of a fused
    /// `[batch·len, 3·d]` projection).
    pub fn of_rows(data: &'a [f32], col: usize, row_len: usize, batch: usize, len: usize, heads: usize, head_dim: usize) -> Self {
        Self { data, offset: col, dims: [batch, heads, len, head_dim], strides: [len * row_len, head_dim, row_len, 1] }
    }

    /// Checks that every element lies inside `data`.
    fn check(&self, what: &str) -> Result<(), KernelError> {
        if self.dims.contains(&0) {
            return Err(KernelError::Shape(format!("attention {what} is empty: {:?}", self.dims)));
        }
        let last = self.dims.iter().zip(&self.strides).try_fold(self.offset, |acc, (&d, &s)| (d - 1).checked_mul(s).and_then(|x| acc.checked_add(x)));
        match last {
            Some(last) if last < self.data.len() => Ok(()),
            _ => Err(KernelError::Shape(format!(
                "attention {what} view {:?} with strides {:?} at {} reads past its {} values",
                self.dims,
                self.strides,
                self.offset,
                self.data.len()
            ))),
        }
    }

    fn matrix(&self, b: usize, h: usize, transposed: bool) -> MatRef<'a> {
        let [_, _, len, hd] = self.dims;
        let at = self.offset + b * self.strides[0] + h * self.strides[1];
        let (s_pos, s_dim) = (self.strides[2], self.strides[3]);
        if transposed {
            MatRef::new(&self.data[at..], hd, len, s_dim, s_pos)
        } else {
            MatRef::new(&self.data[at..], len, hd, s_pos, s_dim)
        }
    }
}

/// Which (query, key) pairs attention may not use: `data[b·qs·k_len + i·k_len + j]` is `true`
/// when query `i` of batch item `b` may not see key `j`; `dims = [batch or 1, q_len or 1,
/// k_len]` (a dimension of 1 applies to all).
#[derive(Clone, Copy, Debug)]
pub struct Mask<'a> {
    /// `true` where attention is not allowed.
    pub data: &'a [bool],
    /// `[batch or 1, q_len or 1, k_len]`.
    pub dims: [usize; 3],
}

thread_local! {
    static SCORES: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `softmax(q·kᵀ · scale, masked)·v` per batch item and head, with masked scores set to
/// `f32::MIN` before the softmax (as `transformers` does: a fully masked row stays finite,
/// uniform). The output has the heads merged: `[batch, q_len, heads·head_dim]`.
///
/// # Shapes
/// - q: `[batch, heads, q_len, head_dim]`; k, v: `[batch, heads, k_len, head_dim]`
/// - mask: `[batch or 1, q_len or 1, k_len]`
/// - output: `[batch, q_len, heads·head_dim]`
///
/// # Errors
/// [`KernelError::Shape`] when the views disagree, read past their buffers, or the mask does
/// not fit.
pub fn attention(q: &Heads<'_>, k: &Heads<'_>, v: &Heads<'_>, mask: Option<&Mask<'_>>, scale: f32) -> Result<Vec<f32>, KernelError> {
    q.check("query")?;
    k.check("key")?;
    v.check("value")?;
    let [batch, heads, q_len, hd] = q.dims;
    let k_len = k.dims[2];
    if k.dims != [batch, heads, k_len, hd] || v.dims != k.dims {
        return Err(KernelError::Shape(format!("attention shapes differ: q {:?}, k {:?}, v {:?}", q.dims, k.dims, v.dims)));
    }
    if let Some(m) = mask {
        let [mb, mq, mk] = m.dims;
        let fits = (mb == 1 || mb == batch) && (mq == 1 || mq == q_len) && mk == k_len;
        if !fits || m.data.len() != mb * mq * mk {
            return Err(KernelError::Shape(format!(
                "attention mask {:?} ({} values) does not fit batch {batch}, {q_len} queries, {k_len} keys",
                m.dims,
                m.data.len()
            )));
        }
    }
    let d = heads * hd;
    let rows = batch * q_len;
    let mut out = vec![0.0f32; rows * d];
    let row_ranges: Vec<_> = (0..batch).map(|b| b * q_len..(b + 1) * q_len).collect();
    let col_ranges: Vec<_> = (0..heads).map(|h| h * hd..(h + 1) * hd).collect();
    par_grid(&mut out, rows, d, &row_ranges, &col_ranges, |mut tile: TileMut<'_>| {
        let (b, h) = (tile.rows().start / q_len, tile.cols().start / hd);
        SCORES.with_borrow_mut(|buf| {
            buf.resize(q_len * k_len, 0.0);
            let scores = &mut buf[..q_len * k_len];
            gemm_into(scores, q.matrix(b, h, false), k.matrix(b, h, true));
            let mask_rows = mask.map(|m| {
                let [mb, mq, _] = m.dims;
                let base = if mb == 1 { 0 } else { b * mq * k_len };
                (m, base, mq)
            });
            with_simd(
                #[inline(always)]
                || {
                    for (i, row) in scores.chunks_exact_mut(k_len).enumerate() {
                        let masked = mask_rows.map(|(m, base, mq)| {
                            let at = base + if mq == 1 { 0 } else { i * k_len };
                            &m.data[at..at + k_len]
                        });
                        softmax_row(row, scale, masked);
                    }
                },
            );
            tile.gemm(MatRef::new(scores, q_len, k_len, k_len, 1), v.matrix(b, h, false));
        });
    });
    Ok(out)
}

/// `row = softmax(row · scale)` with masked entries at `f32::MIN`.
#[inline(always)]
fn softmax_row(row: &mut [f32], scale: f32, masked: Option<&[bool]>) {
    row.iter_mut().for_each(|s| *s *= scale);
    if let Some(m) = masked {
        row.iter_mut().zip(m).for_each(|(s, &m)| {
            if m {
                *s = f32::MIN;
            }
        });
    }
    let max = lanes_fold(row, f32::MIN, f32::max);
    row.iter_mut().for_each(|s| *s = exp(*s - max));
    let inv = 1.0 / lanes_fold(row, 0.0, |a, b| a + b);
    row.iter_mut().for_each(|s| *s *= inv);
}

/// A reduction over 16 independent lanes (so it vectorises), then across the lanes.
#[inline(always)]
fn lanes_fold(xs: &[f32], init: f32, f: impl Fn(f32, f32) -> f32 + Copy) -> f32 {
    let mut acc = [init; 16];
    let chunks = xs.chunks_exact(16);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = f(*a, x);
        }
    }
    let mut r = tail.iter().fold(init, |a, &x| f(a, x));
    for a in acc {
        r = f(r, a);
    }
    r
}
