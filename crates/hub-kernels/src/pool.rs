//! Pooling, channel concatenation and channel shuffle on NCHW tensors: the data movement around
//! the convolutions of Inception-style, Fire, dense and shuffle blocks, done as plane copies and
//! one pass per output plane (planes in parallel).

use rayon::prelude::*;

use crate::KernelError;

/// What a pooling window computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// The largest value of the window (padding never wins).
    Max,
    /// The mean of the window; with `count_include_pad` the padded positions inside the padded
    /// input count in the divisor (PyTorch's default), else only the real ones.
    Avg {
        /// PyTorch's `count_include_pad`.
        count_include_pad: bool,
    },
}

/// A 2-D pooling window, as PyTorch's `max_pool2d` / `avg_pool2d` take it (padding on both
/// sides of each dimension).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dParams {
    /// `[kh, kw]`.
    pub kernel: [usize; 2],
    /// `[sh, sw]`.
    pub stride: [usize; 2],
    /// `[ph, pw]`, applied on both sides.
    pub padding: [usize; 2],
    /// `[dh, dw]` (max pooling only; 1 for average pooling).
    pub dilation: [usize; 2],
    /// Round the output size up (a last window may start in the input and run past it).
    pub ceil_mode: bool,
}

/// PyTorch's pooling output size along one dimension (`pooling_output_shape`).
fn out_size(len: usize, k: usize, s: usize, p: usize, d: usize, ceil: bool) -> Option<usize> {
    let span = d.checked_mul(k.checked_sub(1)?)?.checked_add(1)?;
    let padded = len.checked_add(2 * p)?;
    if k == 0 || s == 0 || padded < span || p > span / 2 {
        return None;
    }
    let room = padded - span;
    let mut out = if ceil { room.div_ceil(s) } else { room / s } + 1;
    // The last window must start inside the input or its left padding.
    if ceil && (out - 1) * s >= len + p {
        out -= 1;
    }
    Some(out)
}

/// Pools every plane of `x` (`[n, c, h, w]`, contiguous).
///
/// # Shapes
/// - x: `[n, c, h, w]`; output: `[n, c, h', w']` by PyTorch's pooling arithmetic
///
/// # Errors
/// [`KernelError::Shape`] when the length does not fit the shape or the window does not fit
/// the input (PyTorch refuses the same: padding above half the window, a window larger than
/// the padded input).
pub fn pool2d(x: &[f32], shape: [usize; 4], kind: PoolKind, p: Pool2dParams) -> Result<(Vec<f32>, [usize; 4]), KernelError> {
    let [n, c, h, w] = shape;
    let bad = || KernelError::Shape(format!("pooling {p:?} over {shape:?} ({} values)", x.len()));
    let planes = n.checked_mul(c).ok_or_else(bad)?;
    if h == 0 || w == 0 || planes == 0 || planes.checked_mul(h * w) != Some(x.len()) {
        return Err(bad());
    }
    if matches!(kind, PoolKind::Avg { .. }) && p.dilation != [1, 1] {
        return Err(bad());
    }
    let oh = out_size(h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0], p.ceil_mode).ok_or_else(bad)?;
    let ow = out_size(w, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1], p.ceil_mode).ok_or_else(bad)?;
    let mut out = vec![0.0f32; planes * oh * ow];
    out.par_chunks_mut(oh * ow).zip(x.par_chunks(h * w)).for_each(|(o, plane)| pool_plane(plane, [h, w], o, [oh, ow], kind, &p));
    Ok((out, [n, c, oh, ow]))
}

/// The window of output index `o` along one dimension: `(first, end)` input positions clipped
/// to the input, and the unclipped size inside the padded input (average pooling's divisor).
fn window(o: usize, k: usize, s: usize, p: usize, len: usize) -> (usize, usize, usize) {
    let start = (o * s) as isize - p as isize;
    let end_padded = (start + k as isize).min((len + p) as isize);
    let size_padded = (end_padded - start) as usize;
    (start.max(0) as usize, (end_padded.min(len as isize)).max(0) as usize, size_padded)
}

/// The output positions `o` whose tap `o·s + off − p` lies in `0..len`, as a range.
fn taps(out: usize, s: usize, off: usize, p: usize, len: usize) -> std::ops::Range<usize> {
    // o·s + off ≥ p  and  o·s + off ≤ len − 1 + p
    let first = p.saturating_sub(off).div_ceil(s);
    let last = (len - 1 + p).checked_sub(off).map_or(0, |m| m / s + 1);
    first.min(out)..last.min(out).max(first.min(out))
}

fn pool_plane(x: &[f32], [h, w]: [usize; 2], out: &mut [f32], [oh, ow]: [usize; 2], kind: PoolKind, p: &Pool2dParams) {
    let [kh, kw] = p.kernel;
    let [sh, sw] = p.stride;
    let [ph, pw] = p.padding;
    let [dh, dw] = p.dilation;
    match kind {
        PoolKind::Max => {
            for oy in 0..oh {
                let row = &mut out[oy * ow..(oy + 1) * ow];
                row.fill(f32::NEG_INFINITY);
                for ky in 0..kh {
                    let Some(iy) = (oy * sh + ky * dh).checked_sub(ph).filter(|&iy| iy < h) else { continue };
                    let line = &x[iy * w..(iy + 1) * w];
                    for kx in 0..kw {
                        let off = kx * dw;
                        for ox in taps(ow, sw, off, pw, w) {
                            let (e, v) = (line[ox * sw + off - pw], row[ox]);
                            // NaN propagates, as in PyTorch.
                            row[ox] = if e > v || e.is_nan() { e } else { v };
                        }
                    }
                }
            }
        }
        PoolKind::Avg { count_include_pad } => {
            // Window sums along each input row first, then down the rows.
            let cols: Vec<(usize, usize, usize)> = (0..ow).map(|ox| window(ox, kw, sw, pw, w)).collect();
            let mut rows = vec![0.0f32; h * ow];
            for (iy, r) in rows.chunks_exact_mut(ow).enumerate() {
                let line = &x[iy * w..(iy + 1) * w];
                for (v, &(x0, x1, _)) in r.iter_mut().zip(&cols) {
                    *v = line[x0..x1].iter().sum();
                }
            }
            for oy in 0..oh {
                let (y0, y1, ysize) = window(oy, kh, sh, ph, h);
                let row = &mut out[oy * ow..(oy + 1) * ow];
                row.fill(0.0);
                for r in rows[y0 * ow..y1 * ow].chunks_exact(ow) {
                    row.iter_mut().zip(r).for_each(|(v, s)| *v += s);
                }
                for (v, &(x0, x1, xsize)) in row.iter_mut().zip(&cols) {
                    let count = if count_include_pad { ysize * xsize } else { (y1 - y0) * (x1 - x0) };
                    *v /= count.max(1) as f32;
                }
            }
        }
    }
}

/// Concatenates NCHW tensors along the channels (`torch.cat(xs, 1)`): one copy per (image,
/// part), images in parallel.
///
/// # Shapes
/// - parts: `[n, c_i, h, w]` each (same `n`, `h`, `w`), as `(values, c_i)`
/// - output: `[n, Σ c_i, h, w]`
///
/// # Errors
/// [`KernelError::Shape`] when a part's length is not `n · c_i · plane`.
pub fn cat_channels(parts: &[(&[f32], usize)], n: usize, plane: usize) -> Result<Vec<f32>, KernelError> {
    let total: usize = parts.iter().map(|p| p.1).sum();
    for &(values, c) in parts {
        if n.checked_mul(c).and_then(|v| v.checked_mul(plane)) != Some(values.len()) {
            return Err(KernelError::Shape(format!("cat: a part of {c} channels has {} values, not {n}×{c}×{plane}", values.len())));
        }
    }
    if n == 0 || plane == 0 || total == 0 {
        return Err(KernelError::Shape(format!("cat of empty tensors: {n} images, {total} channels of {plane}")));
    }
    let mut out = vec![0.0f32; n * total * plane];
    out.par_chunks_mut(total * plane).enumerate().for_each(|(img, o)| {
        let mut at = 0;
        for &(values, c) in parts {
            let len = c * plane;
            o[at..at + len].copy_from_slice(&values[img * len..(img + 1) * len]);
            at += len;
        }
    });
    Ok(out)
}

/// ShuffleNet's channel shuffle: channels seen as `[groups, c/groups]` are transposed to
/// `[c/groups, groups]` (output channel `a·groups + b` is input channel `b·(c/groups) + a`).
///
/// # Shapes
/// - x: `[n, c, h, w]` with `c` a multiple of `groups`; output: the same
///
/// # Errors
/// [`KernelError::Shape`] when the length does not fit or `groups` does not divide `c`.
pub fn channel_shuffle(x: &[f32], shape: [usize; 4], groups: usize) -> Result<Vec<f32>, KernelError> {
    let [n, c, h, w] = shape;
    let plane = h * w;
    if groups == 0 || !c.is_multiple_of(groups) || n.checked_mul(c).and_then(|v| v.checked_mul(plane)) != Some(x.len()) || x.is_empty() {
        return Err(KernelError::Shape(format!("channel shuffle of {shape:?} ({} values) in {groups} groups", x.len())));
    }
    let per = c / groups;
    let mut out = vec![0.0f32; x.len()];
    out.par_chunks_mut(plane).enumerate().for_each(|(i, o)| {
        let (img, oc) = (i / c, i % c);
        let ic = (oc % groups) * per + oc / groups;
        let src = (img * c + ic) * plane;
        o.copy_from_slice(&x[src..src + plane]);
    });
    Ok(out)
}
