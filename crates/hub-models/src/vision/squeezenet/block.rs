//! SqueezeNet's Fire module and the entries of its `nn.Sequential` stacks.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, MaxPool2d};
use burn::nn::{Dropout, PaddingConfig2d, Relu};
use burn::prelude::*;
use burn::tensor::activation::relu;

/// Squeeze (1×1) then expand with parallel 1×1 and 3×3 convolutions, concatenated.
#[derive(Module, Debug)]
pub struct Fire<B: Backend> {
    /// 1×1 squeeze convolution.
    pub squeeze: Conv2d<B>,
    /// 1×1 expand convolution.
    pub expand1x1: Conv2d<B>,
    /// 3×3 expand convolution.
    pub expand3x3: Conv2d<B>,
}

impl<B: Backend> Fire<B> {
    /// A Fire module `in → squeeze → (expand1x1 + expand3x3)` channels.
    pub fn new(
        in_channels: usize,
        squeeze: usize,
        expand1x1: usize,
        expand3x3: usize,
        device: &B::Device,
    ) -> Self {
        Self {
            squeeze: Conv2dConfig::new([in_channels, squeeze], [1, 1]).init(device),
            expand1x1: Conv2dConfig::new([squeeze, expand1x1], [1, 1]).init(device),
            expand3x3: Conv2dConfig::new([squeeze, expand3x3], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
        }
    }

    /// Applies the module.
    ///
    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, expand1x1 + expand3x3, height, width]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        use crate::kernels::{conv2d, Activation::Relu};
        let x = conv2d(&self.squeeze, None, x, None, Relu);
        let a = conv2d(&self.expand1x1, None, x.clone(), None, Relu);
        let b = conv2d(&self.expand3x3, None, x, None, Relu);
        crate::kernels::cat_channels(vec![a, b])
    }
}

/// One entry of SqueezeNet's `features` or `classifier` `nn.Sequential`; a `Vec` of these keeps
/// torch's indices.
// The variants differ in size, but these enums are built once per model and held in a `Vec`
// that mirrors torch's indices; boxing would only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum SqueezeLayer<B: Backend> {
    /// `nn.Conv2d`.
    Conv(Conv2d<B>),
    /// `nn.ReLU`.
    Relu(Relu),
    /// `nn.MaxPool2d` (ceil mode).
    MaxPool(MaxPool2d),
    /// A [`Fire`] module.
    Fire(Fire<B>),
    /// `nn.Dropout`: the identity, since the model runs in eval mode.
    Dropout(Dropout),
    /// `nn.AdaptiveAvgPool2d`.
    AdaptiveAvgPool(AdaptiveAvgPool2d),
}

impl<B: Backend> SqueezeLayer<B> {
    /// Applies the layer.
    ///
    /// # Shapes
    /// - input: `[batch, channels_in, height, width]`
    /// - output: `[batch, channels_out, height_out, width_out]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            Self::Conv(conv) => conv.forward(x),
            Self::Relu(_) => relu(x),
            Self::MaxPool(pool) => crate::kernels::max_pool2d(pool, x),
            Self::Fire(fire) => fire.forward(x),
            Self::Dropout(_) => x,
            Self::AdaptiveAvgPool(pool) => pool.forward(x),
        }
    }
}

impl<B: Backend> crate::kernels::SequentialLayer<B> for SqueezeLayer<B> {
    fn step(&self) -> crate::kernels::Step<'_, B> {
        use crate::kernels::{Activation, Step};
        match self {
            Self::Conv(conv) => Step::Conv(conv),
            Self::Relu(_) => Step::Act(Activation::Relu),
            Self::MaxPool(_) | Self::Fire(_) | Self::Dropout(_) | Self::AdaptiveAvgPool(_) => Step::Other,
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        SqueezeLayer::forward(self, x)
    }
}

/// Runs a SqueezeNet `nn.Sequential` in order; a convolution and the ReLU after it run fused.
pub fn forward_layers<B: Backend>(layers: &[SqueezeLayer<B>], x: Tensor<B, 4>) -> Tensor<B, 4> {
    crate::kernels::forward_sequential(layers, x, None)
}
