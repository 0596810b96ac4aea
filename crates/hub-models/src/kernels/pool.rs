//! Max and average pooling.

use burn::nn::pool::{AvgPool2d, MaxPool2d};
use burn::nn::PaddingConfig2d;
use burn::prelude::*;

use super::flex::{flex_of, from_vec, slice};

/// Symmetric padding `[ph, pw]` of a pooling layer, when it has one (`Same` and asymmetric
/// padding are left to burn).
fn pool_padding(p: &PaddingConfig2d) -> Option<[usize; 2]> {
    match *p {
        PaddingConfig2d::Valid => Some([0, 0]),
        PaddingConfig2d::Explicit(t, l, b, r) if t == b && l == r => Some([t, l]),
        _ => None,
    }
}

fn pool_flex<B: Backend>(x: &Tensor<B, 4>, kind: hub_kernels::PoolKind, params: hub_kernels::Pool2dParams) -> Option<Tensor<B, 4>> {
    let xf = flex_of(x)?;
    let (out, shape) = hub_kernels::pool2d(slice(&xf)?, x.dims(), kind, params).ok()?;
    from_vec::<B, 4>(out, shape)
}

/// `max_pool2d(x)` (PyTorch's arguments: padding on both sides, NaN propagating): one pass per
/// plane on flex, burn's op elsewhere.
///
/// # Shapes
/// - x: `[batch, channels, h, w]`; output: `[batch, channels, h', w']`
pub fn max_pool<B: Backend>(x: Tensor<B, 4>, p: hub_kernels::Pool2dParams) -> Tensor<B, 4> {
    pool_flex(&x, hub_kernels::PoolKind::Max, p)
        .unwrap_or_else(|| burn::tensor::module::max_pool2d(x, p.kernel, p.stride, p.padding, p.dilation, p.ceil_mode))
}

/// `avg_pool2d(x)` (PyTorch's arguments, `count_include_pad` as given): one pass per plane on
/// flex, burn's op elsewhere.
///
/// # Shapes
/// - x: `[batch, channels, h, w]`; output: `[batch, channels, h', w']`
pub fn avg_pool<B: Backend>(x: Tensor<B, 4>, p: hub_kernels::Pool2dParams, count_include_pad: bool) -> Tensor<B, 4> {
    pool_flex(&x, hub_kernels::PoolKind::Avg { count_include_pad }, p)
        .unwrap_or_else(|| burn::tensor::module::avg_pool2d(x, p.kernel, p.stride, p.padding, count_include_pad, p.ceil_mode))
}

/// [`max_pool`] with a burn `MaxPool2d` layer's window.
pub fn max_pool2d<B: Backend>(pool: &MaxPool2d, x: Tensor<B, 4>) -> Tensor<B, 4> {
    match pool_padding(&pool.padding) {
        Some(padding) => max_pool(x, hub_kernels::Pool2dParams { kernel: pool.kernel_size, stride: pool.stride, padding, dilation: pool.dilation, ceil_mode: pool.ceil_mode }),
        None => pool.forward(x),
    }
}

/// [`avg_pool`] with a burn `AvgPool2d` layer's window.
pub fn avg_pool2d<B: Backend>(pool: &AvgPool2d, x: Tensor<B, 4>) -> Tensor<B, 4> {
    match pool_padding(&pool.padding) {
        Some(padding) => avg_pool(x, hub_kernels::Pool2dParams { kernel: pool.kernel_size, stride: pool.stride, padding, dilation: [1, 1], ceil_mode: pool.ceil_mode }, pool.count_include_pad),
        None => pool.forward(x),
    }
}
