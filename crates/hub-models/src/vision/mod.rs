//! Image classification architectures (torchvision's model families).
//!
//! Every family folder has the same layout: `mod.rs` (model, config and the variant table),
//! `block.rs` (building blocks), `weights.rs` (key remaps from PyTorch state-dict names).

pub mod alexnet;
pub mod convnext;
pub mod densenet;
pub mod efficientnet;
pub mod googlenet;
pub mod inception;
pub mod mobilenet;
pub mod resnet;
pub mod shufflenet;
pub mod squeezenet;
pub mod vgg;

use burn::nn::BatchNorm;
use burn::prelude::*;

/// `BatchNorm` with running statistics, as PyTorch computes it in eval mode:
/// `x · scale + shift` with `scale = γ/√(var+ε)` and `shift = β − mean·scale` folded per channel
/// first. The channel-wise product runs on `[batch·channels, rest]`, the layout burn's flex
/// backend broadcasts fast (its `[1, C, 1, 1]` broadcast is ~20× slower); with autodiff the
/// module's own forward runs (training statistics).
///
/// # Shapes
/// - x: `[batch, channels, ...]` (rank ≥ 2); output: the same
pub(crate) fn batch_norm<B: Backend, const D: usize>(bn: &BatchNorm<B>, x: Tensor<B, D>) -> Tensor<B, D> {
    if D < 2 || B::ad_enabled(&x.device()) {
        return bn.forward(x);
    }
    let dims = x.dims();
    let (n, c) = (dims[0], dims[1]);
    let rest: usize = dims[2..].iter().product();
    // In PyTorch's order: invstd = 1/√(var+ε), scale = invstd·γ.
    let scale = (bn.running_var.value() + bn.epsilon).sqrt().recip() * bn.gamma.val();
    let shift = bn.beta.val() - bn.running_mean.value() * scale.clone();
    let per_row = |t: Tensor<B, 1>| t.reshape([1, c]).expand([n, c]).reshape([n * c, 1]);
    (x.reshape([n * c, rest]) * per_row(scale) + per_row(shift)).reshape(dims)
}

/// `x · s` with one factor per image and channel (squeeze-and-excitation), on the
/// `[batch·channels, rest]` layout that flex broadcasts fast.
///
/// # Shapes
/// - x: `[batch, channels, h, w]`, s: `[batch, channels, 1, 1]`; output: like x
pub(crate) fn scale_channels<B: Backend>(x: Tensor<B, 4>, s: Tensor<B, 4>) -> Tensor<B, 4> {
    let dims = x.dims();
    let [n, c, h, w] = dims;
    (x.reshape([n * c, h * w]) * s.reshape([n * c, 1])).reshape(dims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::Distribution;

    #[test]
    fn batch_norm_matches_burns_module() {
        let device = Default::default();
        let mut bn = burn::nn::BatchNormConfig::new(5).init::<Flex>(&device);
        let r = |shape: [usize; 1], lo: f64| Tensor::<Flex, 1>::random(shape, Distribution::Uniform(lo, 2.0), &device);
        bn.gamma = burn::module::Param::from_tensor(r([5], -1.0));
        bn.beta = burn::module::Param::from_tensor(r([5], -1.0));
        bn.running_mean = burn::module::RunningState::new(r([5], -1.0));
        bn.running_var = burn::module::RunningState::new(r([5], 0.1));
        let x = Tensor::<Flex, 4>::random([3, 5, 4, 6], Distribution::Normal(0.0, 2.0), &device);
        let diff = (batch_norm(&bn, x.clone()) - bn.forward(x)).abs().max().into_scalar();
        assert!(diff < 1e-5, "{diff}");
    }
}
