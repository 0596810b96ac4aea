//! ResNet's residual blocks: `BasicBlock` (ResNet-18/34) and `Bottleneck` (ResNet-50 and deeper,
//! ResNeXt, Wide ResNet), as in torchvision.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::prelude::*;

/// A bias-free `k×k` convolution with "same" padding for odd `k` (torchvision's `conv3x3` /
/// `conv1x1`).
pub(crate) fn conv<B: Backend>(
    channels: [usize; 2],
    kernel: usize,
    stride: usize,
    groups: usize,
    device: &B::Device,
) -> Conv2d<B> {
    dilated_conv(channels, kernel, stride, groups, 1, device)
}

/// [`conv`] with a dilation: torchvision's `conv3x3(..., dilation)`, padding `dilation · (k / 2)`
/// so that the spatial size only depends on the stride.
pub(crate) fn dilated_conv<B: Backend>(
    channels: [usize; 2],
    kernel: usize,
    stride: usize,
    groups: usize,
    dilation: usize,
    device: &B::Device,
) -> Conv2d<B> {
    let pad = dilation * (kernel / 2);
    Conv2dConfig::new(channels, [kernel, kernel])
        .with_stride([stride, stride])
        .with_dilation([dilation, dilation])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_groups(groups)
        .with_bias(false)
        .init(device)
}

/// The projection shortcut: a strided 1×1 convolution and BatchNorm (torch's
/// `downsample = nn.Sequential(conv1x1, norm)`, keys `downsample.0` / `downsample.1`, remapped
/// in [`super::weights`]).
#[derive(Module, Debug)]
pub struct Downsample<B: Backend> {
    /// 1×1 convolution (`downsample.0`).
    pub conv: Conv2d<B>,
    /// BatchNorm (`downsample.1`).
    pub bn: BatchNorm<B>,
}

impl<B: Backend> Downsample<B> {
    fn new(channels: [usize; 2], stride: usize, device: &B::Device) -> Self {
        Self {
            conv: conv(channels, 1, stride, 1, device),
            bn: BatchNormConfig::new(channels[1]).init(device),
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        crate::kernels::conv2d(&self.conv, Some(&self.bn), x, None, crate::kernels::Activation::None)
    }
}

/// Two 3×3 convolutions with a residual connection (expansion 1).
#[derive(Module, Debug)]
pub struct BasicBlock<B: Backend> {
    /// First 3×3 convolution (carries the stride).
    pub conv1: Conv2d<B>,
    /// BatchNorm after `conv1`.
    pub bn1: BatchNorm<B>,
    /// Second 3×3 convolution.
    pub conv2: Conv2d<B>,
    /// BatchNorm after `conv2`.
    pub bn2: BatchNorm<B>,
    /// Projection shortcut when the shape changes.
    pub downsample: Option<Downsample<B>>,
}

/// 1×1 reduce, 3×3 (grouped, strided: "ResNet V1.5"), 1×1 expand ×4, with a residual connection.
#[derive(Module, Debug)]
pub struct Bottleneck<B: Backend> {
    /// 1×1 convolution to the block width.
    pub conv1: Conv2d<B>,
    /// BatchNorm after `conv1`.
    pub bn1: BatchNorm<B>,
    /// 3×3 convolution (grouped for ResNeXt; carries the stride).
    pub conv2: Conv2d<B>,
    /// BatchNorm after `conv2`.
    pub bn2: BatchNorm<B>,
    /// 1×1 convolution to `planes × 4` channels.
    pub conv3: Conv2d<B>,
    /// BatchNorm after `conv3`.
    pub bn3: BatchNorm<B>,
    /// Projection shortcut when the shape changes.
    pub downsample: Option<Downsample<B>>,
}

/// A residual block of either kind (one entry of torch's `layerN` `nn.Sequential`).
// The variants differ in size, but these enums are built once per model and held in a `Vec`
// that mirrors torch's indices; boxing would only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum ResidualBlock<B: Backend> {
    /// ResNet-18/34 block.
    Basic(BasicBlock<B>),
    /// ResNet-50+ / ResNeXt / Wide ResNet block.
    Bottleneck(Bottleneck<B>),
}

/// Which residual block a ResNet stacks.
#[derive(burn::config::Config, Debug, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// [`BasicBlock`], expansion 1.
    Basic,
    /// [`Bottleneck`], expansion 4.
    Bottleneck,
}

impl BlockKind {
    /// Output channels per `planes` (torchvision's `block.expansion`).
    pub fn expansion(self) -> usize {
        match self {
            Self::Basic => 1,
            Self::Bottleneck => 4,
        }
    }
}

/// Shape of one residual block.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockSpec {
    pub kind: BlockKind,
    pub in_channels: usize,
    pub planes: usize,
    pub stride: usize,
    pub groups: usize,
    pub width_per_group: usize,
    /// Dilation of the 3×3 convolution (torchvision's `dilation`; 1 unless the stage trades
    /// its stride for dilation). Only bottleneck blocks support it, as in torchvision.
    pub dilation: usize,
}

impl<B: Backend> ResidualBlock<B> {
    pub(crate) fn new(spec: BlockSpec, device: &B::Device) -> Self {
        let out = spec.planes * spec.kind.expansion();
        let downsample = (spec.stride != 1 || spec.in_channels != out)
            .then(|| Downsample::new([spec.in_channels, out], spec.stride, device));
        let bn = |c| BatchNormConfig::new(c).init(device);
        match spec.kind {
            BlockKind::Basic => Self::Basic(BasicBlock {
                // torchvision raises `NotImplementedError` for a dilated BasicBlock;
                // `ResNetConfig::init_backbone` rejects that configuration before we get here.
                conv1: conv([spec.in_channels, spec.planes], 3, spec.stride, 1, device),
                bn1: bn(spec.planes),
                conv2: conv([spec.planes, spec.planes], 3, 1, 1, device),
                bn2: bn(spec.planes),
                downsample,
            }),
            BlockKind::Bottleneck => {
                let width = spec.planes * spec.width_per_group / 64 * spec.groups;
                Self::Bottleneck(Bottleneck {
                    conv1: conv([spec.in_channels, width], 1, 1, 1, device),
                    bn1: bn(width),
                    conv2: dilated_conv(
                        [width, width],
                        3,
                        spec.stride,
                        spec.groups,
                        spec.dilation,
                        device,
                    ),
                    bn2: bn(width),
                    conv3: conv([width, out], 1, 1, 1, device),
                    bn3: bn(out),
                    downsample,
                })
            }
        }
    }

    /// Applies the block.
    ///
    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, planes × expansion, height / stride, width / stride]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        use crate::kernels::{conv2d, Activation::Relu};
        // The shortcut first: the last convolution adds it and applies the ReLU in one pass.
        let downsample = match self {
            Self::Basic(b) => &b.downsample,
            Self::Bottleneck(b) => &b.downsample,
        };
        let identity = match downsample {
            Some(d) => d.forward(x.clone()),
            None => x.clone(),
        };
        match self {
            Self::Basic(b) => {
                let out = conv2d(&b.conv1, Some(&b.bn1), x, None, Relu);
                conv2d(&b.conv2, Some(&b.bn2), out, Some(identity), Relu)
            }
            Self::Bottleneck(b) => {
                let out = conv2d(&b.conv1, Some(&b.bn1), x, None, Relu);
                let out = conv2d(&b.conv2, Some(&b.bn2), out, None, Relu);
                conv2d(&b.conv3, Some(&b.bn3), out, Some(identity), Relu)
            }
        }
    }
}
