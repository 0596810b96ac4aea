//! ConvNeXt's building blocks: the stem, the inverted-bottleneck block (torchvision's `CNBlock`),
//! the downsampling layer between stages and a stage (downsampling, then blocks).
//!
//! torchvision keeps the activations in NCHW and permutes around the two `Linear` layers of
//! every block; its `LayerNorm2d` permutes to channels-last, normalises and permutes back. Here
//! the stream between blocks is channels-last (`[batch, height, width, channels]`, NHWC)
//! throughout a stage: `LayerNorm2d` is then a plain [`LayerNorm`] over the last axis, the
//! 1×1 "convolutions" are [`Linear`] layers over the rows of `[batch·height·width, channels]`
//! with the residual read in place, and only the depthwise 7×7 convolution (and the stem and
//! downsampling convolutions) see an NCHW view of it.

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;

use crate::kernels::{self, Activation, Dense, WeightLayout};

/// The epsilon of every LayerNorm in torchvision's ConvNeXt.
pub const NORM_EPS: f64 = 1e-6;

/// A LayerNorm over the channels (torchvision's `LayerNorm2d`, and the block's `LayerNorm`).
pub(crate) fn channel_norm<B: Backend>(channels: usize, device: &B::Device) -> LayerNorm<B> {
    LayerNormConfig::new(channels)
        .with_epsilon(NORM_EPS)
        .init(device)
}

/// `[batch, c, h, w]` → `[batch, h, w, c]` (a view).
fn to_nhwc<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    x.permute([0, 2, 3, 1])
}

/// `[batch, h, w, c]` → `[batch, c, h, w]` (a view).
fn to_nchw<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    x.permute([0, 3, 1, 2])
}

/// The stem: a 4×4 convolution with stride 4 (non-overlapping "patchify"), then LayerNorm2d.
/// PyTorch keys: `features.0.0` (conv), `features.0.1` (norm).
#[derive(Module, Debug)]
pub struct Stem<B: Backend> {
    /// 4×4/4 convolution with bias, 3 → `channels`.
    pub conv: Conv2d<B>,
    /// LayerNorm over the channels.
    pub norm: LayerNorm<B>,
}

impl<B: Backend> Stem<B> {
    /// Builds the stem with `channels` outputs.
    pub fn new(channels: usize, device: &B::Device) -> Self {
        Self {
            conv: Conv2dConfig::new([3, channels], [4, 4])
                .with_stride([4, 4])
                .with_padding(PaddingConfig2d::Valid)
                .init(device),
            norm: channel_norm(channels, device),
        }
    }

    /// # Shapes
    /// - x: `[batch, 3, height, width]` (NCHW)
    /// - output: `[batch, height / 4, width / 4, channels]` (NHWC; sizes rounded down)
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let x = kernels::conv2d(&self.conv, None, x, None, Activation::None);
        self.norm.forward(to_nhwc(x))
    }
}

/// Downsampling between two stages: LayerNorm2d, then a 2×2 convolution with stride 2.
/// PyTorch keys: `features.{2,4,6}.0` (norm), `features.{2,4,6}.1` (conv).
#[derive(Module, Debug)]
pub struct Downsample<B: Backend> {
    /// LayerNorm over the input channels.
    pub norm: LayerNorm<B>,
    /// 2×2/2 convolution with bias.
    pub conv: Conv2d<B>,
}

impl<B: Backend> Downsample<B> {
    /// Builds a downsampling layer `in_channels` → `out_channels`.
    pub fn new(in_channels: usize, out_channels: usize, device: &B::Device) -> Self {
        Self {
            norm: channel_norm(in_channels, device),
            conv: Conv2dConfig::new([in_channels, out_channels], [2, 2])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Valid)
                .init(device),
        }
    }

    /// # Shapes
    /// - x: `[batch, height, width, in_channels]` (NHWC)
    /// - output: `[batch, height / 2, width / 2, out_channels]` (NHWC; sizes rounded down)
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let x = to_nchw(self.norm.forward(x));
        to_nhwc(kernels::conv2d(&self.conv, None, x, None, Activation::None))
    }
}

/// torchvision's `CNBlock` (eval mode: stochastic depth is the identity):
/// `x + layer_scale · pwconv2(GELU(pwconv1(norm(dwconv(x)))))`.
///
/// PyTorch keys: `block.0` (depthwise conv), `block.2` (LayerNorm), `block.3` and `block.5`
/// (the two Linear layers; `block.1`, `block.4`, `block.6` are the permutes and the GELU, which
/// have no parameters), `layer_scale`.
#[derive(Module, Debug)]
pub struct CNBlock<B: Backend> {
    /// Depthwise 7×7 convolution with bias (`groups = channels`, padding 3).
    pub dwconv: Conv2d<B>,
    /// LayerNorm over the channels (ε = 1e-6).
    pub norm: LayerNorm<B>,
    /// Expansion `channels → 4·channels`, followed by GELU (exact, erf).
    pub pwconv1: Linear<B>,
    /// Projection `4·channels → channels`.
    pub pwconv2: Linear<B>,
    /// Per-channel scale of the residual branch, `[channels, 1, 1]` as in torchvision.
    pub layer_scale: Param<Tensor<B, 3>>,
}

impl<B: Backend> CNBlock<B> {
    /// Builds a block over `channels` channels with its layer scale filled with `layer_scale`
    /// (torchvision's initial value is 1e-6).
    pub fn new(channels: usize, layer_scale: f64, device: &B::Device) -> Self {
        Self {
            dwconv: Conv2dConfig::new([channels, channels], [7, 7])
                .with_groups(channels)
                .with_padding(PaddingConfig2d::Explicit(3, 3, 3, 3))
                .init(device),
            norm: channel_norm(channels, device),
            pwconv1: LinearConfig::new(channels, 4 * channels).init(device),
            pwconv2: LinearConfig::new(4 * channels, channels).init(device),
            layer_scale: Param::from_tensor(Tensor::ones([channels, 1, 1], device).mul_scalar(layer_scale)),
        }
    }

    /// `pwconv2` with the layer scale folded into it: `(x·W + b)·s = x·(W·diag s) + b·s`, so the
    /// projection, the scale and the residual add run as one fused [`kernels::dense`] pass.
    /// Folding costs a pass over the `4C × C` weight on every call, so it only pays when the
    /// input has enough rows (see [`CNBlock::forward`]).
    fn scaled_projection(&self) -> Dense<B> {
        let scale = self.layer_scale.val();
        let [channels, ..] = scale.dims();
        let scale = scale.reshape([channels]);
        let weight = self.pwconv2.weight.val() * scale.clone().reshape([1, channels]);
        let bias = self.pwconv2.bias.as_ref().map(|b| b.val() * scale);
        Dense { weight, bias, layout: WeightLayout::InOut }
    }

    /// # Shapes
    /// - x: `[batch, height, width, channels]` (NHWC)
    /// - output: the same
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, h, w, channels] = x.dims();
        let rows = n * h * w;
        let y = kernels::conv2d(&self.dwconv, None, to_nchw(x.clone()), None, Activation::None);
        let y = self.norm.forward(to_nhwc(y));
        let y = kernels::dense(&[Dense::of(&self.pwconv1)], y, None, Activation::Gelu);
        // Measured on flex (2 cores): the fold wins or ties from rows ≈ C/4 up, and loses on
        // the last stage at batch 1 (49 rows, C = 768: 10.3 ms vs 7.3 ms per block), where
        // scaling the few output rows is cheaper than rewriting the weight.
        if 4 * rows >= channels {
            kernels::dense(&[self.scaled_projection()], y, Some(x), Activation::None)
        } else {
            let y = kernels::dense(&[Dense::of(&self.pwconv2)], y, None, Activation::None);
            let scale = self.layer_scale.val().reshape([1, channels]);
            (y.reshape([rows, channels]) * scale).reshape([n, h, w, channels]) + x
        }
    }
}

/// One stage: the downsampling layer that enters it (none for the first stage, which follows the
/// stem), then its blocks. PyTorch: `features.{2,4,6}` and `features.{1,3,5,7}`.
#[derive(Module, Debug)]
pub struct Stage<B: Backend> {
    /// LayerNorm2d + 2×2/2 convolution from the previous stage's channels.
    pub downsample: Option<Downsample<B>>,
    /// The blocks.
    pub blocks: Vec<CNBlock<B>>,
}

impl<B: Backend> Stage<B> {
    /// Builds a stage of `depth` blocks over `channels` channels, entered from `in_channels`
    /// through a downsampling layer (`None`: no downsampling).
    pub fn new(in_channels: Option<usize>, channels: usize, depth: usize, layer_scale: f64, device: &B::Device) -> Self {
        Self {
            downsample: in_channels.map(|c| Downsample::new(c, channels, device)),
            blocks: (0..depth).map(|_| CNBlock::new(channels, layer_scale, device)).collect(),
        }
    }

    /// # Shapes
    /// - x: `[batch, height, width, in_channels]` (NHWC)
    /// - output: `[batch, height', width', channels]`, halved (rounded down) with downsampling
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let x = match &self.downsample {
            Some(d) => d.forward(x),
            None => x,
        };
        self.blocks.iter().fold(x, |x, block| block.forward(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::Distribution;

    type B = Flex;

    /// The block written out as torchvision computes it, on NCHW data with burn's ops:
    /// `layer_scale * block(x) + x`.
    fn reference(block: &CNBlock<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let y = block.dwconv.forward(x.clone()).permute([0, 2, 3, 1]);
        let y = block.norm.forward(y);
        let y = burn::tensor::activation::gelu(block.pwconv1.forward(y));
        let y = block.pwconv2.forward(y).permute([0, 3, 1, 2]);
        block.layer_scale.val().unsqueeze::<4>() * y + x
    }

    #[test]
    fn block_matches_torchvisions_formula() {
        let device = Default::default();
        let mut block = CNBlock::<B>::new(16, 1e-6, &device);
        // A layer scale far from its initial 1e-6 (which would hide the whole branch), different
        // per channel, and a random affine LayerNorm.
        let uniform = |shape: [usize; 1], lo: f64, hi: f64| {
            Tensor::<B, 1>::random(shape, Distribution::Uniform(lo, hi), &device)
        };
        block.layer_scale = Param::from_tensor(uniform([16], 0.2, 1.5).reshape([16, 1, 1]));
        block.norm.gamma = Param::from_tensor(uniform([16], 0.5, 1.5));
        block.norm.beta = Some(Param::from_tensor(uniform([16], -0.5, 0.5)));
        // 198 rows: the folded projection; 3 rows (< 16 / 4): the scale applied after it.
        for shape in [[2, 16, 9, 11], [1, 16, 1, 3]] {
            let x = Tensor::<B, 4>::random(shape, Distribution::Normal(0.5, 1.0), &device);
            let expected = reference(&block, x.clone());
            let got = to_nchw(block.forward(to_nhwc(x.clone())));
            assert_eq!(got.dims(), shape);
            let scale: f32 = (expected.clone() - x).abs().max().into_scalar();
            let diff: f32 = (got - expected).abs().max().into_scalar();
            assert!(scale > 0.1, "the residual branch contributes ({scale}, {shape:?})");
            assert!(diff <= 1e-5 * scale.max(1.0), "{diff} vs {scale} ({shape:?})");
        }
    }

    #[test]
    fn stem_and_downsample_shapes() {
        let device = Default::default();
        let x = Tensor::<B, 4>::random([1, 3, 35, 64], Distribution::Normal(0.0, 1.0), &device);
        let y = Stem::<B>::new(8, &device).forward(x);
        assert_eq!(y.dims(), [1, 8, 16, 8]);
        let z = Downsample::<B>::new(8, 12, &device).forward(y);
        assert_eq!(z.dims(), [1, 4, 8, 12]);
    }
}
