//! DenseNet's building blocks: the BN-ReLU-Conv bottleneck layer, the dense block that
//! concatenates every layer's output, and the transition between blocks.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::prelude::*;

/// BN-ReLU-Conv(1×1) to `bn_size × growth` channels, then BN-ReLU-Conv(3×3) to `growth`
/// channels (torchvision's `_DenseLayer`, memory-efficient checkpointing aside).
#[derive(Module, Debug)]
pub struct DenseLayer<B: Backend> {
    /// BatchNorm over the concatenated input.
    pub norm1: BatchNorm<B>,
    /// 1×1 bottleneck convolution.
    pub conv1: Conv2d<B>,
    /// BatchNorm over the bottleneck.
    pub norm2: BatchNorm<B>,
    /// 3×3 convolution producing the new features.
    pub conv2: Conv2d<B>,
}

impl<B: Backend> DenseLayer<B> {
    fn new(in_channels: usize, growth: usize, bn_size: usize, device: &B::Device) -> Self {
        let width = bn_size * growth;
        Self {
            norm1: BatchNormConfig::new(in_channels).init(device),
            conv1: Conv2dConfig::new([in_channels, width], [1, 1])
                .with_bias(false)
                .init(device),
            norm2: BatchNormConfig::new(width).init(device),
            conv2: Conv2dConfig::new([width, growth], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(false)
                .init(device),
        }
    }

    /// New features from all previous ones.
    ///
    /// # Shapes
    /// - input: `[batch, in_channels, height, width]` (the concatenation so far)
    /// - output: `[batch, growth, height, width]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        use crate::kernels::{batch_norm, conv2d, Activation::{None as Linear, Relu}};
        // norm1 + ReLU in one pass; conv1 with norm2 + ReLU fused; then conv2.
        let x = conv2d(&self.conv1, Some(&self.norm2), batch_norm(&self.norm1, x, Relu), None, Relu);
        conv2d(&self.conv2, None, x, None, Linear)
    }
}

/// A dense block: each layer sees the concatenation of the block input and all earlier layers'
/// outputs (torchvision's `_DenseBlock`).
#[derive(Module, Debug)]
pub struct DenseBlock<B: Backend> {
    /// The layers, indexed like torchvision's 1-based `denselayerN` names: entry 0 is always
    /// `None`, entry `N` holds `denselayerN`. This lets one regex remap every checkpoint key.
    pub denselayer: Vec<Option<DenseLayer<B>>>,
}

impl<B: Backend> DenseBlock<B> {
    pub(crate) fn new(
        layers: usize,
        in_channels: usize,
        growth: usize,
        bn_size: usize,
        device: &B::Device,
    ) -> Self {
        let denselayer = std::iter::once(None)
            .chain((0..layers).map(|i| {
                Some(DenseLayer::new(
                    in_channels + i * growth,
                    growth,
                    bn_size,
                    device,
                ))
            }))
            .collect();
        Self { denselayer }
    }

    /// Applies the block.
    ///
    /// # Shapes
    /// - input: `[batch, channels, height, width]`
    /// - output: `[batch, channels + layers × growth, height, width]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.denselayer.iter().flatten().fold(x, |features, layer| {
            let new = layer.forward(features.clone());
            crate::kernels::cat_channels(vec![features, new])
        })
    }
}

/// BN-ReLU-Conv(1×1) halving the channels, then a 2×2/2 average pool (torchvision's
/// `_Transition`).
#[derive(Module, Debug)]
pub struct Transition<B: Backend> {
    /// BatchNorm.
    pub norm: BatchNorm<B>,
    /// 1×1 convolution.
    pub conv: Conv2d<B>,
    /// 2×2 average pool, stride 2.
    pub pool: AvgPool2d,
}

impl<B: Backend> Transition<B> {
    pub(crate) fn new(channels: [usize; 2], device: &B::Device) -> Self {
        Self {
            norm: BatchNormConfig::new(channels[0]).init(device),
            conv: Conv2dConfig::new(channels, [1, 1])
                .with_bias(false)
                .init(device),
            pool: AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
        }
    }

    /// Applies the transition.
    ///
    /// # Shapes
    /// - input: `[batch, channels_in, height, width]`
    /// - output: `[batch, channels_out, height / 2, width / 2]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        use crate::kernels::{batch_norm, conv2d, Activation};
        let x = batch_norm(&self.norm, x, Activation::Relu);
        crate::kernels::avg_pool2d(&self.pool, conv2d(&self.conv, None, x, None, Activation::None))
    }
}
