//! Fully connected projections (several side by side, with residual and activation) and
//! attention.

use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::Bool;
use burn_flex::FlexTensor;

use super::flex::{flex_of, flex_strided, from_vec, slice};
use super::{burn_activation, Activation, WeightLayout};

/// `act(linear(x))`: a fully connected layer with its bias and activation fused on flex.
///
/// # Shapes
/// - x: `[..., d_in]`; output: `[..., d_out]`
pub fn linear<B: Backend, const D: usize>(layer: &Linear<B>, x: Tensor<B, D>, a: Activation) -> Tensor<B, D> {
    dense(&[Dense::of(layer)], x, None, a)
}

/// One projection `x · weight + bias` of [`dense`]: a burn [`Linear`], a weight stored
/// `[in, out]` (GPT-2's `Conv1D`) or one stored `[out, in]` (a tied embedding matrix).
#[derive(Debug, Clone)]
pub struct Dense<B: Backend> {
    /// `[d_in, d_out]` or `[d_out, d_in]` by `layout`.
    pub weight: Tensor<B, 2>,
    /// `[d_out]`.
    pub bias: Option<Tensor<B, 1>>,
    /// How `weight` is laid out.
    pub layout: WeightLayout,
}

impl<B: Backend> Dense<B> {
    /// The weight and bias of a burn `Linear` (stored `[in, out]`).
    pub fn of(layer: &Linear<B>) -> Self {
        Self { weight: layer.weight.val(), bias: layer.bias.as_ref().map(|b| b.val()), layout: WeightLayout::InOut }
    }

    /// `[d_in, d_out]` as stored, when the layout is `[out, in]` (its transpose).
    fn in_out_dims(&self) -> [usize; 2] {
        let [a, b] = self.weight.dims();
        match self.layout {
            WeightLayout::InOut => [a, b],
            WeightLayout::OutIn => [b, a],
        }
    }
}

/// `act([x·W₁ + b₁ | x·W₂ + b₂ | …] + residual)`: several projections of the same input side by
/// side (a transformer's query, key and value as one), then the residual and the activation,
/// in one pass on flex; burn's `linear`, `cat`, add and activation elsewhere.
///
/// # Shapes
/// - x: `[..., d_in]`; each weight `[d_in, d_k]`; residual: the output's shape
/// - output: `[..., Σ d_k]`
pub fn dense<B: Backend, const D: usize>(parts: &[Dense<B>], x: Tensor<B, D>, residual: Option<Tensor<B, D>>, a: Activation) -> Tensor<B, D> {
    if let Some(y) = dense_flex(parts, &x, residual.as_ref(), a) {
        return y;
    }
    let in_out = |p: &Dense<B>| match p.layout {
        WeightLayout::InOut => p.weight.clone(),
        WeightLayout::OutIn => p.weight.clone().transpose(),
    };
    let mut ys: Vec<Tensor<B, D>> = parts.iter().map(|p| burn::tensor::module::linear(x.clone(), in_out(p), p.bias.clone())).collect();
    let mut y = if ys.len() == 1 { ys.remove(0) } else { Tensor::cat(ys, D - 1) };
    if let Some(r) = residual {
        y = y + r;
    }
    burn_activation(y, a)
}

fn dense_flex<B: Backend, const D: usize>(parts: &[Dense<B>], x: &Tensor<B, D>, residual: Option<&Tensor<B, D>>, a: Activation) -> Option<Tensor<B, D>> {
    let xf = flex_of(x)?;
    let dims = x.dims();
    let d_in = dims[D - 1];
    let weights: Vec<FlexTensor> = parts.iter().map(|p| flex_of(&p.weight)).collect::<Option<_>>()?;
    let biases: Vec<Option<FlexTensor>> = parts
        .iter()
        .map(|p| match &p.bias {
            Some(b) => flex_of(b).map(Some),
            None => Some(None),
        })
        .collect::<Option<_>>()?;
    let mut kparts = Vec::with_capacity(parts.len());
    for ((p, w), b) in parts.iter().zip(&weights).zip(&biases) {
        let [w_in, d_out] = p.in_out_dims();
        if w_in != d_in {
            return None;
        }
        let bias = match b {
            Some(b) => Some(slice(b)?),
            None => None,
        };
        kparts.push(hub_kernels::LinearPart { weight: slice(w)?, d_out, layout: p.layout, bias });
    }
    let res = match residual {
        Some(r) => Some(flex_of(r)?),
        None => None,
    };
    let res_slice = match &res {
        Some(r) => Some(slice(r)?),
        None => None,
    };
    let rows = dims[..D - 1].iter().product();
    let out = hub_kernels::linear_fused(slice(&xf)?, rows, d_in, &kparts, res_slice, a).ok()?;
    let mut shape = dims;
    shape[D - 1] = kparts.iter().map(|p| p.d_out).sum();
    from_vec::<B, D>(out, shape)
}

/// `softmax(q·kᵀ/√head_dim, masked)·v` with the heads merged: on flex one kernel that reads `q`,
/// `k` and `v` in place whatever their strides (heads split from a fused projection, a key/value
/// cache) with masked scores at `f32::MIN` as `transformers` sets them; burn's ops elsewhere.
///
/// # Shapes
/// - q: `[batch, heads, q_len, head_dim]`, k and v: `[batch, heads, k_len, head_dim]`
/// - mask: `[batch, 1, q_len or 1, k_len]`, `true` where attention is *not* allowed
/// - output: `[batch, q_len, heads·head_dim]`
pub fn attention<B: Backend>(q: Tensor<B, 4>, k: Tensor<B, 4>, v: Tensor<B, 4>, mask: Option<Tensor<B, 4, Bool>>) -> Tensor<B, 3> {
    if let Some(y) = attention_flex(&q, &k, &v, mask.as_ref()) {
        return y;
    }
    merge_heads(attention_burn(q, k, v, mask))
}

/// Scaled dot-product attention over heads, `softmax(q·kᵀ/√head_dim)·v`, with a boolean mask.
///
/// # Shapes
/// - q: `[batch, heads, q_len, head_dim]`, k and v: `[batch, heads, k_len, head_dim]`
/// - mask: `[batch, 1 or heads, q_len, k_len]`, `true` where attention is *not* allowed
/// - output: `[batch, heads, q_len, head_dim]`
fn attention_burn<B: Backend>(
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
    mask: Option<Tensor<B, 4, Bool>>,
) -> Tensor<B, 4> {
    let head_dim = q.dims()[3];
    let [batch, heads, q_len, _] = q.dims();
    let k_len = k.dims()[2];
    let scores = q.matmul(k.swap_dims(2, 3)) / (head_dim as f64).sqrt();
    let scores = match mask {
        // The most negative finite value, as `transformers` uses: a fully masked row stays finite
        // (uniform) instead of turning into NaN.
        Some(mask) => scores.mask_fill(mask.expand([batch, heads, q_len, k_len]), f32::MIN),
        None => scores,
    };
    burn::tensor::activation::softmax(scores, 3).matmul(v)
}

/// `[batch, heads, seq, head_dim]` → `[batch, seq, heads·head_dim]`.
fn merge_heads<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 3> {
    let [batch, heads, seq, head_dim] = x.dims();
    x.swap_dims(1, 2).reshape([batch, seq, heads * head_dim])
}


fn heads_of(f: &FlexTensor) -> Option<hub_kernels::Heads<'_>> {
    let l = f.layout();
    let dims: [usize; 4] = l.shape().to_vec().try_into().ok()?;
    let strides: Vec<usize> = l.strides().iter().map(|&s| usize::try_from(s).ok()).collect::<Option<_>>()?;
    Some(hub_kernels::Heads { data: f.storage::<f32>(), offset: l.start_offset(), dims, strides: strides.try_into().ok()? })
}

fn attention_flex<B: Backend>(q: &Tensor<B, 4>, k: &Tensor<B, 4>, v: &Tensor<B, 4>, mask: Option<&Tensor<B, 4, Bool>>) -> Option<Tensor<B, 3>> {
    let (qf, kf, vf) = (flex_strided(q)?, flex_strided(k)?, flex_strided(v)?);
    let [batch, heads, q_len, hd] = q.dims();
    let m = match mask {
        Some(m) => {
            let [mb, mh, mq, mk] = m.dims();
            if mh != 1 {
                return None;
            }
            Some((m.clone().into_data().to_vec::<bool>().ok()?, [mb, mq, mk]))
        }
        None => None,
    };
    let kmask = m.as_ref().map(|(data, dims)| hub_kernels::Mask { data, dims: *dims });
    let scale = 1.0 / (hd as f32).sqrt();
    let out = hub_kernels::attention(&heads_of(&qf)?, &heads_of(&kf)?, &heads_of(&vf)?, kmask.as_ref(), scale).ok()?;
    from_vec::<B, 3>(out, [batch, q_len, heads * hd])
}

#[cfg(test)]
mod tests {
    use super::*;
    type B = burn::backend::Flex;

    #[test]
    fn the_burn_fallback_equals_the_kernel() {
        let device = Default::default();
        let r = |s: [usize; 4]| Tensor::<B, 4>::random(s, burn::tensor::Distribution::Default, &device);
        let (q, k, v) = (r([2, 3, 5, 8]), r([2, 3, 7, 8]), r([2, 3, 7, 8]));
        let mask = Tensor::<B, 2, Int>::from_ints([[1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1]], &device).equal_elem(0).reshape([2, 1, 1, 7]);
        let fast = attention(q.clone(), k.clone(), v.clone(), Some(mask.clone()));
        let slow = merge_heads(attention_burn(q, k, v, Some(mask)));
        let diff = (fast - slow).abs().max().into_scalar();
        assert!(diff < 1e-5, "{diff}");
    }
}
