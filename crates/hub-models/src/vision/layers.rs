//! Layers that several families share: torchvision's `Conv2dNormActivation`,
//! `SqueezeExcitation`, `_make_divisible`, inference BatchNorm, global average pooling, and a
//! sequential block of these that runs fused on hub's kernels.
//!
//! torchvision keeps these in `torchvision/ops/misc.py` and `torchvision/models/_utils.py`.
//! Field names follow the PyTorch state-dict keys; where PyTorch uses `nn.Sequential` indices
//! the blocks hold a `Vec` of [`Layer`]s, so the index of a layer in the `Vec` is its PyTorch
//! index (burn-store leaves enum variant names out of the paths, as PyTorch has none).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

/// Element-wise activation functions, with PyTorch's definitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// No activation (`activation_layer=None`).
    Identity,
    /// `nn.ReLU`: `max(x, 0)`.
    Relu,
    /// `nn.ReLU6`: `min(max(x, 0), 6)`.
    Relu6,
    /// `nn.Hardswish`: `x · relu6(x + 3) / 6`.
    HardSwish,
    /// `nn.Hardsigmoid`: `relu6(x + 3) / 6` (slope 1/6, not ONNX's 0.2).
    HardSigmoid,
    /// `nn.Sigmoid`.
    Sigmoid,
    /// `nn.SiLU` (swish): `x · sigmoid(x)`.
    Silu,
}

impl Activation {
    /// Applies the activation element-wise (any shape).
    pub fn forward<B: Backend, const D: usize>(self, x: Tensor<B, D>) -> Tensor<B, D> {
        crate::kernels::burn_activation(x, self.kernel())
    }

    /// The same activation for hub's fused kernels.
    pub(crate) fn kernel(self) -> crate::kernels::Activation {
        use crate::kernels::Activation as K;
        match self {
            Activation::Identity => K::None,
            Activation::Relu => K::Relu,
            Activation::Relu6 => K::Relu6,
            Activation::HardSwish => K::HardSwish,
            Activation::HardSigmoid => K::HardSigmoid,
            Activation::Sigmoid => K::Sigmoid,
            Activation::Silu => K::Silu,
        }
    }
}

/// Global average pooling (`nn.AdaptiveAvgPool2d(1)`).
///
/// # Shapes
/// - input: `[batch, channels, height, width]`
/// - output: `[batch, channels, 1, 1]`
pub fn global_avg_pool<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    // Two short reductions (rows, then the row means) instead of one over `h · w` values: a
    // long sequential f32 sum loses precision that deep networks amplify.
    x.mean_dim(3).mean_dim(2)
}

/// `Conv2dNormActivation`: a bias-free convolution, BatchNorm and an activation.
///
/// PyTorch keys: `0.weight` (conv), `1.{weight,bias,running_mean,running_var}` (norm); the
/// family remaps rename `0`/`1` to `conv`/`bn`.
#[derive(Module, Debug)]
pub struct ConvNormAct<B: Backend> {
    /// The convolution (no bias).
    pub conv: Conv2d<B>,
    /// The batch norm after it.
    pub bn: BatchNorm<B>,
    /// The activation after the norm.
    pub act: Activation,
}

/// Hyper-parameters of a [`ConvNormAct`]; padding is torchvision's `(kernel - 1) / 2 * dilation`.
#[derive(Debug, Clone, Copy)]
pub struct ConvNormActConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Square kernel size.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Groups (`in_channels` for a depthwise convolution).
    pub groups: usize,
    /// Dilation.
    pub dilation: usize,
    /// BatchNorm epsilon.
    pub eps: f64,
    /// Activation after the norm.
    pub act: Activation,
}

impl ConvNormActConfig {
    /// A `kernel`×`kernel` convolution with stride 1, one group, BatchNorm eps 1e-5.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize, act: Activation) -> Self {
        Self {
            in_channels,
            out_channels,
            kernel,
            stride: 1,
            groups: 1,
            dilation: 1,
            eps: 1e-5,
            act,
        }
    }

    /// Sets the stride.
    pub fn stride(mut self, stride: usize) -> Self {
        self.stride = stride;
        self
    }

    /// Sets the number of groups.
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// Sets the dilation.
    pub fn dilation(mut self, dilation: usize) -> Self {
        self.dilation = dilation;
        self
    }

    /// Sets the BatchNorm epsilon.
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Builds the block.
    pub fn init<B: Backend>(&self, device: &B::Device) -> ConvNormAct<B> {
        let pad = (self.kernel - 1) / 2 * self.dilation;
        ConvNormAct {
            conv: Conv2dConfig::new([self.in_channels, self.out_channels], [self.kernel; 2])
                .with_stride([self.stride; 2])
                .with_dilation([self.dilation; 2])
                .with_groups(self.groups)
                .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .with_bias(false)
                .init(device),
            bn: BatchNormConfig::new(self.out_channels)
                .with_epsilon(self.eps)
                .init(device),
            act: self.act,
        }
    }
}

impl<B: Backend> ConvNormAct<B> {
    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, out_channels, height / stride, width / stride]` (rounded as PyTorch)
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        crate::kernels::conv2d(&self.conv, Some(&self.bn), x, None, self.act.kernel())
    }
}

/// `SqueezeExcitation` (Hu et al., 2017): channel weights from a two-layer bottleneck on the
/// globally pooled input. PyTorch keys: `fc1`, `fc2` (1×1 convolutions with bias).
#[derive(Module, Debug)]
pub struct SqueezeExcitation<B: Backend> {
    /// Squeeze: `channels → squeeze_channels`.
    pub fc1: Conv2d<B>,
    /// Excite: `squeeze_channels → channels`.
    pub fc2: Conv2d<B>,
    /// Activation between the two (`delta`: ReLU in MobileNet v3, SiLU in EfficientNet).
    pub activation: Activation,
    /// Gate (`sigma`: Hardsigmoid in MobileNet v3, Sigmoid in EfficientNet).
    pub scale_activation: Activation,
}

impl<B: Backend> SqueezeExcitation<B> {
    /// Builds the block.
    pub fn new(
        channels: usize,
        squeeze_channels: usize,
        activation: Activation,
        scale_activation: Activation,
        device: &B::Device,
    ) -> Self {
        Self {
            fc1: Conv2dConfig::new([channels, squeeze_channels], [1, 1]).init(device),
            fc2: Conv2dConfig::new([squeeze_channels, channels], [1, 1]).init(device),
            activation,
            scale_activation,
        }
    }

    /// # Shapes
    /// - input: `[batch, channels, height, width]`
    /// - output: `[batch, channels, height, width]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let scale = global_avg_pool(x.clone());
        let scale = crate::kernels::conv2d(&self.fc1, None, scale, None, self.activation.kernel());
        let scale = crate::kernels::conv2d(&self.fc2, None, scale, None, self.scale_activation.kernel());
        scale_channels(x, scale)
    }
}

/// One element of a PyTorch `nn.Sequential` inside a block.
#[derive(Module, Debug)]
pub enum Layer<B: Backend> {
    /// `Conv2dNormActivation`.
    ConvNormAct(ConvNormAct<B>),
    /// `SqueezeExcitation`.
    SqueezeExcitation(SqueezeExcitation<B>),
    /// A bare `nn.Conv2d` (MobileNet v2's linear projection).
    Conv(Conv2d<B>),
    /// A bare `nn.BatchNorm2d` (after MobileNet v2's linear projection).
    Norm(BatchNorm<B>),
}

impl<B: Backend> Layer<B> {
    /// # Shapes
    /// - input: `[batch, channels_in, height, width]`
    /// - output: `[batch, channels_out, height_out, width_out]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            Layer::ConvNormAct(m) => m.forward(x),
            Layer::SqueezeExcitation(m) => m.forward(x),
            Layer::Conv(m) => m.forward(x),
            Layer::Norm(m) => crate::kernels::burn_batch_norm(m, x),
        }
    }
}

/// Runs the layers of a sequential block in order.
pub fn forward_layers<B: Backend>(layers: &[Layer<B>], x: Tensor<B, 4>) -> Tensor<B, 4> {
    forward_layers_add(layers, x, None)
}

impl<B: Backend> crate::kernels::SequentialLayer<B> for Layer<B> {
    fn step(&self) -> crate::kernels::Step<'_, B> {
        use crate::kernels::Step;
        match self {
            Layer::ConvNormAct(m) => Step::ConvNormAct(&m.conv, Some(&m.bn), m.act.kernel()),
            Layer::Conv(c) => Step::Conv(c),
            Layer::Norm(bn) => Step::Norm(bn),
            Layer::SqueezeExcitation(_) => Step::Other,
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        Layer::forward(self, x)
    }
}

/// Runs the layers in order, then adds `residual`. A convolution and the BatchNorm after it run
/// as one fused layer, and the residual joins the last one when nothing is applied after it.
pub(crate) fn forward_layers_add<B: Backend>(layers: &[Layer<B>], x: Tensor<B, 4>, residual: Option<Tensor<B, 4>>) -> Tensor<B, 4> {
    crate::kernels::forward_sequential(layers, x, residual)
}

/// torchvision's `_make_divisible`: rounds `value` to the nearest multiple of `divisor` (at
/// least `min_value`, default `divisor`), never going more than 10% below `value`.
pub fn make_divisible(value: f64, divisor: usize, min_value: Option<usize>) -> usize {
    let min_value = min_value.unwrap_or(divisor);
    let rounded = ((value + divisor as f64 / 2.0) as usize) / divisor * divisor;
    let mut new_value = min_value.max(rounded);
    if (new_value as f64) < 0.9 * value {
        new_value += divisor;
    }
    new_value
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

    #[test]
    fn make_divisible_matches_torchvision() {
        // Values worked out by hand from torchvision's `_make_divisible`.
        assert_eq!(make_divisible(32.0, 8, None), 32);
        assert_eq!(make_divisible(35.2, 8, None), 32); // 1.1 × 32
        assert_eq!(make_divisible(17.6, 8, None), 16); // 1.1 × 16
        assert_eq!(make_divisible(3.0, 8, None), 8); // floor at the divisor
        assert_eq!(make_divisible(36.0, 8, None), 40); // halfway rounds up
        assert_eq!(make_divisible(1280.0 * 0.5, 8, None), 640);
        assert_eq!(make_divisible(12.0, 8, None), 16);
        // int(v + 4) // 8 * 8 = 8 < 0.9 × 9.5: bumped by one divisor.
        assert_eq!(make_divisible(9.5, 8, None), 16);
    }
}
