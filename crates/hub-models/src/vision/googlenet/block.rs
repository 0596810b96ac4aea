//! GoogLeNet's blocks: `BasicConv2d` (shared with Inception v3), the Inception module and the
//! auxiliary classifier.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

/// Convolution (no bias), BatchNorm (ε = 0.001), ReLU: torchvision's `BasicConv2d` in both
/// GoogLeNet and Inception v3.
#[derive(Module, Debug)]
pub struct BasicConv2d<B: Backend> {
    /// The convolution.
    pub conv: Conv2d<B>,
    /// The BatchNorm.
    pub bn: BatchNorm<B>,
}

impl<B: Backend> BasicConv2d<B> {
    /// A `kernel` convolution `channels[0] → channels[1]` with symmetric `padding` (rows,
    /// columns) and `stride`.
    pub fn new(
        channels: [usize; 2],
        kernel: [usize; 2],
        stride: usize,
        padding: [usize; 2],
        device: &B::Device,
    ) -> Self {
        let [ph, pw] = padding;
        Self {
            conv: Conv2dConfig::new(channels, kernel)
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(ph, pw, ph, pw))
                .with_bias(false)
                .init(device),
            bn: BatchNormConfig::new(channels[1])
                .with_epsilon(1e-3)
                .init(device),
        }
    }

    /// A square `k×k` convolution with stride 1 and padding `k / 2` ("same" size).
    pub fn same(channels: [usize; 2], k: usize, device: &B::Device) -> Self {
        Self::new(channels, [k, k], 1, [k / 2, k / 2], device)
    }

    /// Applies conv, BatchNorm, ReLU.
    ///
    /// # Shapes
    /// - input: `[batch, channels[0], height, width]`
    /// - output: `[batch, channels[1], height_out, width_out]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        crate::kernels::conv2d(&self.conv, Some(&self.bn), x, None, crate::kernels::Activation::Relu)
    }
}

/// Channel counts of an Inception module: input, 1×1 branch, 3×3 reduce and 3×3, "5×5"
/// reduce and "5×5", pool projection.
#[derive(burn::config::Config, Debug, Copy, PartialEq, Eq)]
pub struct InceptionSpec {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels of the 1×1 branch.
    pub ch1x1: usize,
    /// Reduction before the 3×3 branch.
    pub ch3x3red: usize,
    /// Output channels of the 3×3 branch.
    pub ch3x3: usize,
    /// Reduction before the "5×5" branch.
    pub ch5x5red: usize,
    /// Output channels of the "5×5" branch (a 3×3 convolution, as in torchvision).
    pub ch5x5: usize,
    /// Output channels of the pool-projection branch.
    pub pool_proj: usize,
}

impl InceptionSpec {
    /// Channels of the concatenated output.
    pub fn out_channels(&self) -> usize {
        self.ch1x1 + self.ch3x3 + self.ch5x5 + self.pool_proj
    }
}

/// The Inception module: four parallel branches concatenated along channels.
#[derive(Module, Debug)]
pub struct Inception<B: Backend> {
    /// 1×1 convolution.
    pub branch1: BasicConv2d<B>,
    /// 1×1 reduce, 3×3 (`branch2.0`, `branch2.1`).
    pub branch2: Vec<BasicConv2d<B>>,
    /// 1×1 reduce, 3×3 — torchvision's "5×5" branch really uses a 3×3 kernel (`branch3.0`,
    /// `branch3.1`).
    pub branch3: Vec<BasicConv2d<B>>,
    /// 3×3/1 max pool (ceil mode) before `branch4`.
    pub branch4_pool: MaxPool2d,
    /// 1×1 pool projection (torch's `branch4.1`, remapped in [`super::weights`]).
    pub branch4: BasicConv2d<B>,
}

impl<B: Backend> Inception<B> {
    /// Builds the module.
    pub fn new(s: InceptionSpec, device: &B::Device) -> Self {
        Self {
            branch1: BasicConv2d::same([s.in_channels, s.ch1x1], 1, device),
            branch2: vec![
                BasicConv2d::same([s.in_channels, s.ch3x3red], 1, device),
                BasicConv2d::same([s.ch3x3red, s.ch3x3], 3, device),
            ],
            branch3: vec![
                BasicConv2d::same([s.in_channels, s.ch5x5red], 1, device),
                BasicConv2d::same([s.ch5x5red, s.ch5x5], 3, device),
            ],
            branch4_pool: MaxPool2dConfig::new([3, 3])
                .with_strides([1, 1])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_ceil_mode(true)
                .init(),
            branch4: BasicConv2d::same([s.in_channels, s.pool_proj], 1, device),
        }
    }

    /// Applies the module.
    ///
    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, ch1x1 + ch3x3 + ch5x5 + pool_proj, height, width]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let chain = |convs: &[BasicConv2d<B>], x: Tensor<B, 4>| {
            convs.iter().fold(x, |x, conv| conv.forward(x))
        };
        let b1 = self.branch1.forward(x.clone());
        let b2 = chain(&self.branch2, x.clone());
        let b3 = chain(&self.branch3, x.clone());
        let b4 = self.branch4.forward(crate::kernels::max_pool2d(&self.branch4_pool, x));
        crate::kernels::cat_channels(vec![b1, b2, b3, b4])
    }
}

/// An auxiliary classifier (used for training only; present so checkpoints that include it
/// load strictly).
#[derive(Module, Debug)]
pub struct InceptionAux<B: Backend> {
    /// Adaptive average pool to 4×4.
    pub pool: AdaptiveAvgPool2d,
    /// 1×1 convolution to 128 channels.
    pub conv: BasicConv2d<B>,
    /// 2048 → 1024.
    pub fc1: Linear<B>,
    /// 1024 → classes.
    pub fc2: Linear<B>,
}

impl<B: Backend> InceptionAux<B> {
    /// Builds the head on `in_channels` features.
    pub fn new(in_channels: usize, num_classes: usize, device: &B::Device) -> Self {
        Self {
            pool: AdaptiveAvgPool2dConfig::new([4, 4]).init(),
            conv: BasicConv2d::same([in_channels, 128], 1, device),
            fc1: LinearConfig::new(2048, 1024).init(device),
            fc2: LinearConfig::new(1024, num_classes).init(device),
        }
    }

    /// Auxiliary logits (dropout is the identity: eval mode).
    ///
    /// # Shapes
    /// - input: `[batch, in_channels, height, width]` (the output of `inception4a` / `4d`)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.conv.forward(self.pool.forward(x)).flatten::<2>(1, 3);
        self.fc2.forward(relu(self.fc1.forward(x)))
    }
}

/// torchvision's `transform_input`: maps a tensor normalised with the ImageNet mean/std to the
/// `(x - 0.5) / 0.5` normalisation the original Google weights expect.
///
/// # Shapes
/// - input and output: `[batch, 3, height, width]`
pub fn transform_input<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    const MEAN: [f64; 3] = [0.485, 0.456, 0.406];
    const STD: [f64; 3] = [0.229, 0.224, 0.225];
    let channels = (0..3)
        .map(|c| {
            x.clone()
                .narrow(1, c, 1)
                .mul_scalar(STD[c] / 0.5)
                .add_scalar((MEAN[c] - 0.5) / 0.5)
        })
        .collect();
    Tensor::cat(channels, 1)
}
