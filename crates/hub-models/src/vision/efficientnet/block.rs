//! EfficientNet building blocks (torchvision's `MBConv` and `FusedMBConv`).
//!
//! `Conv2dNormActivation` and `SqueezeExcitation` are shared with MobileNet (torchvision keeps
//! them in `ops/misc.py`); see [`crate::vision::layers`].

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::vision::layers::{
    forward_layers_add, make_divisible, Activation, ConvNormActConfig, Layer, SqueezeExcitation,
};

/// Kind of block in a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// Mobile inverted bottleneck: 1×1 expand, depthwise k×k, squeeze-excitation, 1×1 project.
    MbConv,
    /// Fused variant (EfficientNetV2): one k×k expand convolution, 1×1 project, no SE.
    FusedMbConv,
}

/// One stage of the network (a row of torchvision's `_efficientnet_conf` table), channels and
/// depth already scaled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageConfig {
    /// Block type.
    pub kind: BlockKind,
    /// Expansion ratio of the hidden channels.
    pub expand_ratio: f64,
    /// Kernel size of the depthwise (or fused) convolution.
    pub kernel: usize,
    /// Stride of the first block.
    pub stride: usize,
    /// Input channels of the first block.
    pub input_channels: usize,
    /// Output channels of every block.
    pub out_channels: usize,
    /// Number of blocks.
    pub num_layers: usize,
}

/// An MBConv or FusedMBConv block. PyTorch keys: `block.N`; stochastic depth (the identity in
/// eval mode) has no parameters.
#[derive(Module, Debug)]
pub struct MbBlock<B: Backend> {
    /// The sequential body, indexed like PyTorch's `block`.
    pub block: Vec<Layer<B>>,
    /// `stride == 1 && input_channels == out_channels`.
    pub use_res_connect: bool,
}

impl<B: Backend> MbBlock<B> {
    /// Builds one block of `stage`, with the given input channels and stride (the stage's own
    /// for its first block, `out_channels` and 1 for the others).
    pub fn new(
        stage: &StageConfig,
        input_channels: usize,
        stride: usize,
        eps: f64,
        device: &B::Device,
    ) -> Self {
        let StageConfig {
            kind,
            expand_ratio,
            kernel,
            out_channels,
            ..
        } = *stage;
        let expanded = make_divisible(input_channels as f64 * expand_ratio, 8, None);
        let cna = |i, o, k, act| ConvNormActConfig::new(i, o, k, act).eps(eps);
        let mut block = Vec::new();
        match kind {
            BlockKind::MbConv => {
                if expanded != input_channels {
                    block.push(Layer::ConvNormAct(
                        cna(input_channels, expanded, 1, Activation::Silu).init(device),
                    ));
                }
                block.push(Layer::ConvNormAct(
                    cna(expanded, expanded, kernel, Activation::Silu)
                        .stride(stride)
                        .groups(expanded)
                        .init(device),
                ));
                let squeeze = (input_channels / 4).max(1);
                block.push(Layer::SqueezeExcitation(SqueezeExcitation::new(
                    expanded,
                    squeeze,
                    Activation::Silu,
                    Activation::Sigmoid,
                    device,
                )));
                block.push(Layer::ConvNormAct(
                    cna(expanded, out_channels, 1, Activation::Identity).init(device),
                ));
            }
            BlockKind::FusedMbConv => {
                if expanded != input_channels {
                    block.push(Layer::ConvNormAct(
                        cna(input_channels, expanded, kernel, Activation::Silu)
                            .stride(stride)
                            .init(device),
                    ));
                    block.push(Layer::ConvNormAct(
                        cna(expanded, out_channels, 1, Activation::Identity).init(device),
                    ));
                } else {
                    block.push(Layer::ConvNormAct(
                        cna(input_channels, out_channels, kernel, Activation::Silu)
                            .stride(stride)
                            .init(device),
                    ));
                }
            }
        }
        Self {
            block,
            use_res_connect: stride == 1 && input_channels == out_channels,
        }
    }

    /// Eval-mode forward (stochastic depth is the identity).
    ///
    /// # Shapes
    /// - input: `[batch, input_channels, height, width]`
    /// - output: `[batch, out_channels, height / stride, width / stride]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let residual = self.use_res_connect.then(|| x.clone());
        forward_layers_add(&self.block, x, residual)
    }
}

/// Builds the blocks of one stage: the first takes the stage's input channels and stride, the
/// others keep the output channels and stride 1.
pub fn stage<B: Backend>(cfg: &StageConfig, eps: f64, device: &B::Device) -> Vec<MbBlock<B>> {
    (0..cfg.num_layers)
        .map(|i| {
            let (input, stride) = if i == 0 {
                (cfg.input_channels, cfg.stride)
            } else {
                (cfg.out_channels, 1)
            };
            MbBlock::new(cfg, input, stride, eps, device)
        })
        .collect()
}
