//! MobileNet v2/v3's inverted residual blocks (torchvision's `InvertedResidual`); the layers
//! inside them are the shared [`crate::vision::layers`].

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use burn::nn::conv::Conv2dConfig;
use burn::nn::BatchNormConfig;

use crate::vision::layers::{forward_layers_add, make_divisible, Activation, ConvNormActConfig, Layer, SqueezeExcitation};

/// MobileNet v2's inverted residual: `[expand 1×1 (ReLU6)] → depthwise 3×3 (ReLU6) → linear
/// 1×1 projection + BatchNorm`, with a residual connection when the shape is unchanged.
/// PyTorch keys: `conv.N`.
#[derive(Module, Debug)]
pub struct InvertedResidualV2<B: Backend> {
    /// The sequential body, indexed like PyTorch's `conv`.
    pub conv: Vec<Layer<B>>,
    /// `stride == 1 && in_channels == out_channels`.
    pub use_res_connect: bool,
}

impl<B: Backend> InvertedResidualV2<B> {
    /// Builds the block (`expand_ratio` is torchvision's `t`).
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        stride: usize,
        expand_ratio: usize,
        device: &B::Device,
    ) -> Self {
        let hidden = in_channels * expand_ratio;
        let mut conv = Vec::new();
        if expand_ratio != 1 {
            conv.push(Layer::ConvNormAct(
                ConvNormActConfig::new(in_channels, hidden, 1, Activation::Relu6).init(device),
            ));
        }
        conv.push(Layer::ConvNormAct(
            ConvNormActConfig::new(hidden, hidden, 3, Activation::Relu6)
                .stride(stride)
                .groups(hidden)
                .init(device),
        ));
        conv.push(Layer::Conv(
            Conv2dConfig::new([hidden, out_channels], [1, 1])
                .with_bias(false)
                .init(device),
        ));
        conv.push(Layer::Norm(BatchNormConfig::new(out_channels).init(device)));
        Self {
            conv,
            use_res_connect: stride == 1 && in_channels == out_channels,
        }
    }

    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, out_channels, height / stride, width / stride]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let residual = self.use_res_connect.then(|| x.clone());
        forward_layers_add(&self.conv, x, residual)
    }
}

/// One row of MobileNet v3's block table (torchvision's `InvertedResidualConfig`, paper Tables
/// 1 and 2), channels before width scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BneckRow {
    /// Input channels.
    pub input_channels: usize,
    /// Depthwise kernel size.
    pub kernel: usize,
    /// Channels after the 1×1 expansion.
    pub expanded_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Whether the block has a squeeze-and-excitation layer.
    pub use_se: bool,
    /// Hardswish (`"HS"`) rather than ReLU (`"RE"`).
    pub use_hs: bool,
    /// Stride of the depthwise convolution.
    pub stride: usize,
    /// Dilation of the depthwise convolution (torchvision's `dilated=True` sets 2 in the last
    /// stage); a dilated block does not stride (its `stride` still marks it as a stage start).
    pub dilation: usize,
}

/// MobileNet v3's inverted residual: `[expand 1×1] → depthwise k×k → [SE] → project 1×1`,
/// BatchNorm eps 1e-3. PyTorch keys: `block.N`.
#[derive(Module, Debug)]
pub struct InvertedResidualV3<B: Backend> {
    /// The sequential body, indexed like PyTorch's `block`.
    pub block: Vec<Layer<B>>,
    /// `stride == 1 && in_channels == out_channels`.
    pub use_res_connect: bool,
}

impl<B: Backend> InvertedResidualV3<B> {
    /// Builds the block from a table row whose channels are already scaled.
    pub fn new(row: &BneckRow, eps: f64, device: &B::Device) -> Self {
        let act = if row.use_hs {
            Activation::HardSwish
        } else {
            Activation::Relu
        };
        let mut block = Vec::new();
        if row.expanded_channels != row.input_channels {
            block.push(Layer::ConvNormAct(
                ConvNormActConfig::new(row.input_channels, row.expanded_channels, 1, act)
                    .eps(eps)
                    .init(device),
            ));
        }
        // torchvision: `stride = 1 if cnf.dilation > 1 else cnf.stride`.
        let stride = if row.dilation > 1 { 1 } else { row.stride };
        block.push(Layer::ConvNormAct(
            ConvNormActConfig::new(row.expanded_channels, row.expanded_channels, row.kernel, act)
                .stride(stride)
                .dilation(row.dilation)
                .groups(row.expanded_channels)
                .eps(eps)
                .init(device),
        ));
        if row.use_se {
            let squeeze = make_divisible((row.expanded_channels / 4) as f64, 8, None);
            block.push(Layer::SqueezeExcitation(SqueezeExcitation::new(
                row.expanded_channels,
                squeeze,
                Activation::Relu,
                Activation::HardSigmoid,
                device,
            )));
        }
        block.push(Layer::ConvNormAct(
            ConvNormActConfig::new(
                row.expanded_channels,
                row.out_channels,
                1,
                Activation::Identity,
            )
            .eps(eps)
            .init(device),
        ));
        Self {
            block,
            use_res_connect: row.stride == 1 && row.input_channels == row.out_channels,
        }
    }

    /// # Shapes
    /// - input: `[batch, input_channels, height, width]`
    /// - output: `[batch, out_channels, height / stride, width / stride]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let residual = self.use_res_connect.then(|| x.clone());
        forward_layers_add(&self.block, x, residual)
    }
}

