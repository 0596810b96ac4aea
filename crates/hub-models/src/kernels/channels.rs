//! Channel concatenation and ShuffleNet's channel shuffle.

use burn::prelude::*;
use burn_flex::FlexTensor;

use super::flex::{flex_of, from_vec, slice};

/// `torch.cat(parts, 1)` for NCHW tensors: plane copies on flex, burn's `cat` elsewhere.
///
/// # Shapes
/// - parts: `[batch, c_i, h, w]`; output: `[batch, Σ c_i, h, w]`
pub fn cat_channels<B: Backend>(parts: Vec<Tensor<B, 4>>) -> Tensor<B, 4> {
    cat_flex(&parts).unwrap_or_else(|| Tensor::cat(parts, 1))
}

fn cat_flex<B: Backend>(parts: &[Tensor<B, 4>]) -> Option<Tensor<B, 4>> {
    let [n, _, h, w] = parts.first()?.dims();
    let flex: Vec<FlexTensor> = parts.iter().map(flex_of).collect::<Option<_>>()?;
    let mut views = Vec::with_capacity(parts.len());
    for (t, f) in parts.iter().zip(&flex) {
        let [tn, c, th, tw] = t.dims();
        if (tn, th, tw) != (n, h, w) {
            return None;
        }
        views.push((slice(f)?, c));
    }
    let out = hub_kernels::cat_channels(&views, n, h * w).ok()?;
    from_vec::<B, 4>(out, [n, views.iter().map(|v| v.1).sum(), h, w])
}

/// ShuffleNet's channel shuffle (`[n, g, c/g, h, w]` transposed to `[n, c/g, g, h, w]`): plane
/// copies on flex, a reshape and transpose elsewhere.
///
/// # Shapes
/// - x: `[batch, channels, h, w]`, `channels` a multiple of `groups`; output: the same
pub fn channel_shuffle<B: Backend>(x: Tensor<B, 4>, groups: usize) -> Tensor<B, 4> {
    let dims = x.dims();
    let fast = flex_of(&x)
        .and_then(|f| slice(&f).and_then(|v| hub_kernels::channel_shuffle(v, dims, groups).ok()))
        .and_then(|out| from_vec::<B, 4>(out, dims));
    fast.unwrap_or_else(|| {
        let [n, c, h, w] = dims;
        x.reshape([n, groups, c / groups, h, w]).swap_dims(1, 2).reshape([n, c, h, w])
    })
}
