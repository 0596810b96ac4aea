//! ResNet, from "Deep Residual Learning for Image Recognition" (He et al., 2015,
//! <https://arxiv.org/abs/1512.03385>), with ResNeXt ("Aggregated Residual Transformations for
//! Deep Neural Networks", Xie et al., 2016, <https://arxiv.org/abs/1611.05431>) and Wide ResNet
//! ("Wide Residual Networks", Zagoruyko & Komodakis, 2016, <https://arxiv.org/abs/1605.07146>)
//! variants; a port of `torchvision.models.resnet`.
//!
//! Like torchvision this is "ResNet V1.5": a bottleneck block strides in its 3×3 convolution,
//! not in the first 1×1.

pub mod block;
pub mod weights;

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;

pub use block::BlockKind;
use block::{BlockSpec, ResidualBlock};

/// The variant table: id, block, blocks per stage, groups, width per group.
const TABLE: &[(&str, BlockKind, [usize; 4], usize, usize)] = &[
    ("resnet18", BlockKind::Basic, [2, 2, 2, 2], 1, 64),
    ("resnet34", BlockKind::Basic, [3, 4, 6, 3], 1, 64),
    ("resnet50", BlockKind::Bottleneck, [3, 4, 6, 3], 1, 64),
    ("resnet101", BlockKind::Bottleneck, [3, 4, 23, 3], 1, 64),
    ("resnet152", BlockKind::Bottleneck, [3, 8, 36, 3], 1, 64),
    (
        "resnext50_32x4d",
        BlockKind::Bottleneck,
        [3, 4, 6, 3],
        32,
        4,
    ),
    (
        "resnext101_32x8d",
        BlockKind::Bottleneck,
        [3, 4, 23, 3],
        32,
        8,
    ),
    (
        "resnext101_64x4d",
        BlockKind::Bottleneck,
        [3, 4, 23, 3],
        64,
        4,
    ),
    (
        "wide_resnet50_2",
        BlockKind::Bottleneck,
        [3, 4, 6, 3],
        1,
        128,
    ),
    (
        "wide_resnet101_2",
        BlockKind::Bottleneck,
        [3, 4, 23, 3],
        1,
        128,
    ),
];

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &[
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "wide_resnet50_2",
    "wide_resnet101_2",
];

/// The configuration of a variant, or `None` for an unknown id.
pub fn config(id: &str) -> Option<ResNetConfig> {
    TABLE
        .iter()
        .find(|row| row.0 == id)
        .map(|&(_, block, layers, groups, width)| {
            ResNetConfig::new(block, layers)
                .with_groups(groups)
                .with_width_per_group(width)
        })
}

/// Hyper-parameters of a [`ResNet`].
#[derive(Config, Debug)]
pub struct ResNetConfig {
    /// The residual block.
    pub block: BlockKind,
    /// Number of blocks in each of the four stages.
    pub layers: [usize; 4],
    /// Groups of the bottleneck's 3×3 convolution (ResNeXt's cardinality).
    #[config(default = 1)]
    pub groups: usize,
    /// Channels per group of the bottleneck's 3×3 convolution at `planes = 64`.
    #[config(default = 64)]
    pub width_per_group: usize,
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
    /// torchvision's `replace_stride_with_dilation` for stages 2, 3 and 4: a stage marked `true`
    /// keeps the resolution (stride 1) and dilates its 3×3 convolutions by the stride it gave up
    /// instead (cumulatively; the first block of the stage keeps the previous dilation). The
    /// segmentation models use `[false, true, true]` (output stride 8). Bottleneck blocks only.
    #[config(default = "[false, false, false]")]
    pub replace_stride_with_dilation: [bool; 3],
}

impl ResNetConfig {
    /// Builds the model (parameters are initialised lazily; load weights before use).
    ///
    /// # Panics
    /// If a stage is dilated with [`BlockKind::Basic`] (torchvision raises
    /// `NotImplementedError` there too).
    pub fn init<B: Backend>(&self, device: &B::Device) -> ResNet<B> {
        let ResNetBackbone {
            conv1,
            bn1,
            maxpool,
            layer1,
            layer2,
            layer3,
            layer4,
        } = self.init_backbone(device);
        ResNet {
            conv1,
            bn1,
            maxpool,
            layer1,
            layer2,
            layer3,
            layer4,
            avgpool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            fc: LinearConfig::new(512 * self.block.expansion(), self.num_classes).init(device),
        }
    }

    /// Builds the convolutional trunk only (stem and the four stages, no pooling or
    /// classifier): the backbone of the segmentation models.
    ///
    /// # Panics
    /// If a stage is dilated with [`BlockKind::Basic`] (torchvision raises
    /// `NotImplementedError` there too).
    pub fn init_backbone<B: Backend>(&self, device: &B::Device) -> ResNetBackbone<B> {
        assert!(
            self.block == BlockKind::Bottleneck || !self.replace_stride_with_dilation.contains(&true),
            "dilation is only supported with bottleneck blocks (as in torchvision)"
        );
        let mut in_channels = 64;
        let mut dilation = 1;
        // torchvision's `_make_layer`: a dilated stage multiplies the running dilation by the
        // stride it drops; its first block still uses the dilation of the stage before.
        let mut stage = |planes: usize, blocks: usize, stride: usize, dilate: bool| {
            let previous_dilation = dilation;
            let stride = if dilate {
                dilation *= stride;
                1
            } else {
                stride
            };
            (0..blocks)
                .map(|i| {
                    let spec = BlockSpec {
                        kind: self.block,
                        in_channels,
                        planes,
                        stride: if i == 0 { stride } else { 1 },
                        groups: self.groups,
                        width_per_group: self.width_per_group,
                        dilation: if i == 0 { previous_dilation } else { dilation },
                    };
                    in_channels = planes * self.block.expansion();
                    ResidualBlock::new(spec, device)
                })
                .collect::<Vec<ResidualBlock<B>>>()
        };
        let [dilate2, dilate3, dilate4] = self.replace_stride_with_dilation;
        let layer1 = stage(64, self.layers[0], 1, false);
        let layer2 = stage(128, self.layers[1], 2, dilate2);
        let layer3 = stage(256, self.layers[2], 2, dilate3);
        let layer4 = stage(512, self.layers[3], 2, dilate4);
        ResNetBackbone {
            conv1: Conv2dConfig::new([3, 64], [7, 7])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(3, 3, 3, 3))
                .with_bias(false)
                .init(device),
            bn1: BatchNormConfig::new(64).init(device),
            maxpool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            layer1,
            layer2,
            layer3,
            layer4,
        }
    }
}

/// A ResNet / ResNeXt / Wide ResNet (eval mode). Field names follow torchvision's state-dict
/// keys.
#[derive(Module, Debug)]
pub struct ResNet<B: Backend> {
    /// Stem 7×7/2 convolution.
    pub conv1: Conv2d<B>,
    /// Stem BatchNorm.
    pub bn1: BatchNorm<B>,
    /// Stem 3×3/2 max pool.
    pub maxpool: MaxPool2d,
    /// Stage 1 (64 planes, stride 1).
    pub layer1: Vec<ResidualBlock<B>>,
    /// Stage 2 (128 planes, stride 2).
    pub layer2: Vec<ResidualBlock<B>>,
    /// Stage 3 (256 planes, stride 2).
    pub layer3: Vec<ResidualBlock<B>>,
    /// Stage 4 (512 planes, stride 2).
    pub layer4: Vec<ResidualBlock<B>>,
    /// Global average pool.
    pub avgpool: AdaptiveAvgPool2d,
    /// Classifier.
    pub fc: Linear<B>,
}

impl<B: Backend> ResNet<B> {
    /// Computes the class logits.
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB; 224×224 for ImageNet weights)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let stages = [&self.layer1, &self.layer2, &self.layer3, &self.layer4];
        let [.., x] = forward_trunk(&self.conv1, &self.bn1, &self.maxpool, stages, x);
        let x = self.avgpool.forward(x).flatten::<2>(1, 3);
        self.fc.forward(x)
    }
}

/// A ResNet without its pooling and classifier (torchvision's `IntermediateLayerGetter` over a
/// ResNet up to `layer4`); the same field names, so `backbone.layer1.0.conv1.weight` style keys
/// load under a `backbone` field.
#[derive(Module, Debug)]
pub struct ResNetBackbone<B: Backend> {
    /// Stem 7×7/2 convolution.
    pub conv1: Conv2d<B>,
    /// Stem BatchNorm.
    pub bn1: BatchNorm<B>,
    /// Stem 3×3/2 max pool.
    pub maxpool: MaxPool2d,
    /// Stage 1 (64 planes, output stride 4).
    pub layer1: Vec<ResidualBlock<B>>,
    /// Stage 2 (128 planes).
    pub layer2: Vec<ResidualBlock<B>>,
    /// Stage 3 (256 planes).
    pub layer3: Vec<ResidualBlock<B>>,
    /// Stage 4 (512 planes).
    pub layer4: Vec<ResidualBlock<B>>,
}

impl<B: Backend> ResNetBackbone<B> {
    /// The outputs of the four stages (`layer1` … `layer4`).
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]`
    /// - output `i` (0-based): `[batch, 64 · 2^i · expansion, height / s_i, width / s_i]`, with
    ///   output strides `s = [4, 8, 16, 32]` for an undilated network and `[4, 8, 8, 8]` with
    ///   `replace_stride_with_dilation = [false, true, true]` (PyTorch's rounding of odd sizes).
    pub fn forward_stages(&self, x: Tensor<B, 4>) -> [Tensor<B, 4>; 4] {
        let stages = [&self.layer1, &self.layer2, &self.layer3, &self.layer4];
        forward_trunk(&self.conv1, &self.bn1, &self.maxpool, stages, x)
    }
}

/// Stem then stages, keeping each stage's output.
fn forward_trunk<B: Backend>(
    conv1: &Conv2d<B>,
    bn1: &BatchNorm<B>,
    maxpool: &MaxPool2d,
    stages: [&Vec<ResidualBlock<B>>; 4],
    x: Tensor<B, 4>,
) -> [Tensor<B, 4>; 4] {
    let x = crate::kernels::conv2d(conv1, Some(bn1), x, None, crate::kernels::Activation::Relu);
    let mut x = crate::kernels::max_pool2d(maxpool, x);
    stages.map(|stage| {
        x = stage.iter().fold(x.clone(), |x, block| block.forward(x));
        x.clone()
    })
}


/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec =
    crate::registry::spec::FamilySpec::classifier("ResNet", VARIANTS, "He et al. 2015, https://arxiv.org/abs/1512.03385; torchvision/models/resnet.py", weights::remaps);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parameter_count;
    use burn::backend::Flex;

    type B = Flex;

    #[test]
    fn v1_5_strides_in_the_3x3_convolution() {
        let device = Default::default();
        let model = config("resnet50").unwrap().init::<B>(&device);
        // V1.5: the stride sits on the 3×3 convolution of the first block of a stage.
        let ResidualBlock::Bottleneck(first) = &model.layer2[0] else {
            panic!("bottleneck expected")
        };
        assert_eq!(first.conv1.stride, [1, 1]);
        assert_eq!(first.conv2.stride, [2, 2]);
    }

    #[test]
    fn dilation_follows_torchvisions_make_layer() {
        let device = Default::default();
        let config = config("resnet50")
            .unwrap()
            .with_replace_stride_with_dilation([false, true, true]);
        let backbone = config.init_backbone::<B>(&device);
        let conv2 = |block: &ResidualBlock<B>| match block {
            ResidualBlock::Bottleneck(b) => (b.conv2.stride, b.conv2.dilation, b.conv2.padding.clone()),
            ResidualBlock::Basic(_) => panic!("bottleneck expected"),
        };
        // layer2 keeps its stride; layer3 gives it up: first block dilation 1, then 2; layer4:
        // first block 2 (the previous dilation), then 4.
        assert_eq!(conv2(&backbone.layer2[0]).0, [2, 2]);
        for (layer, first, rest) in [(&backbone.layer3, 1, 2), (&backbone.layer4, 2, 4)] {
            let (stride, dilation, padding) = conv2(&layer[0]);
            assert_eq!((stride, dilation), ([1, 1], [first, first]));
            assert_eq!(padding, PaddingConfig2d::Explicit(first, first, first, first));
            for block in &layer[1..] {
                assert_eq!(conv2(block).0, [1, 1]);
                assert_eq!(conv2(block).1, [rest, rest]);
            }
            // The projection shortcut exists (channels change) but no longer strides.
            let ResidualBlock::Bottleneck(b) = &layer[0] else { unreachable!() };
            assert_eq!(b.downsample.as_ref().unwrap().conv.stride, [1, 1]);
        }
        let x = Tensor::<B, 4>::zeros([1, 3, 64, 80], &device);
        let dims = backbone.forward_stages(x).map(|t| t.dims());
        assert_eq!(dims, [[1, 256, 16, 20], [1, 512, 8, 10], [1, 1024, 8, 10], [1, 2048, 8, 10]]);
        // Dilation changes no parameter.
        assert_eq!(
            parameter_count(&backbone),
            parameter_count(&super::config("resnet50").unwrap().init_backbone::<B>(&device))
        );
    }

    #[test]
    #[should_panic(expected = "bottleneck")]
    fn dilated_basic_blocks_are_refused() {
        let device = Default::default();
        let _ = config("resnet18")
            .unwrap()
            .with_replace_stride_with_dilation([false, false, true])
            .init_backbone::<B>(&device);
    }
}
