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
use burn::tensor::activation::relu;

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
}

impl ResNetConfig {
    /// Builds the model (parameters are initialised lazily; load weights before use).
    pub fn init<B: Backend>(&self, device: &B::Device) -> ResNet<B> {
        let mut in_channels = 64;
        let mut stage = |planes: usize, blocks: usize, stride: usize| -> Vec<ResidualBlock<B>> {
            (0..blocks)
                .map(|i| {
                    let spec = BlockSpec {
                        kind: self.block,
                        in_channels,
                        planes,
                        stride: if i == 0 { stride } else { 1 },
                        groups: self.groups,
                        width_per_group: self.width_per_group,
                    };
                    in_channels = planes * self.block.expansion();
                    ResidualBlock::new(spec, device)
                })
                .collect()
        };
        let layer1 = stage(64, self.layers[0], 1);
        let layer2 = stage(128, self.layers[1], 2);
        let layer3 = stage(256, self.layers[2], 2);
        let layer4 = stage(512, self.layers[3], 2);
        ResNet {
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
            avgpool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            fc: LinearConfig::new(512 * self.block.expansion(), self.num_classes).init(device),
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
        let x = relu(self.bn1.forward(self.conv1.forward(x)));
        let mut x = self.maxpool.forward(x);
        for stage in [&self.layer1, &self.layer2, &self.layer3, &self.layer4] {
            x = stage.iter().fold(x, |x, block| block.forward(x));
        }
        let x = self.avgpool.forward(x).flatten::<2>(1, 3);
        self.fc.forward(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{parameter_count, state_dict_shapes};
    use burn::backend::Flex;

    type B = Flex;

    /// torchvision's published `num_params` of each variant's ImageNet weights.
    const NUM_PARAMS: &[(&str, usize)] = &[
        ("resnet18", 11_689_512),
        ("resnet34", 21_797_672),
        ("resnet50", 25_557_032),
        ("resnet101", 44_549_160),
        ("resnet152", 60_192_808),
        ("resnext50_32x4d", 25_028_904),
        ("resnext101_32x8d", 88_791_336),
        ("resnext101_64x4d", 83_455_272),
        ("wide_resnet50_2", 68_883_240),
        ("wide_resnet101_2", 126_886_696),
    ];

    #[test]
    fn every_variant_has_torchvisions_parameter_count() {
        let device = Default::default();
        assert_eq!(VARIANTS.len(), NUM_PARAMS.len());
        for (id, expected) in NUM_PARAMS {
            assert!(VARIANTS.contains(id));
            let model = config(id).unwrap().init::<B>(&device);
            assert_eq!(parameter_count(&model), *expected, "{id}");
        }
        assert!(config("resnet19").is_none());
    }

    #[test]
    fn keys_after_remap_match_torchvision_names() {
        let device = Default::default();
        let model = config("resnet50").unwrap().init::<B>(&device);
        let keys: Vec<String> = state_dict_shapes(&model)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        for key in [
            "conv1.weight",
            "bn1.running_mean",
            "layer1.0.downsample.conv.weight",
            "layer4.2.bn3.bias",
            "fc.weight",
        ] {
            assert!(keys.contains(&key.to_string()), "{key}");
        }
        // V1.5: the stride sits on the 3×3 convolution of the first block of a stage.
        let ResidualBlock::Bottleneck(first) = &model.layer2[0] else {
            panic!("bottleneck expected")
        };
        assert_eq!(first.conv1.stride, [1, 1]);
        assert_eq!(first.conv2.stride, [2, 2]);
    }

    #[test]
    fn forward_shape() {
        let device = Default::default();
        for id in ["resnet18", "resnext50_32x4d"] {
            let model = config(id).unwrap().with_num_classes(5).init::<B>(&device);
            let x = Tensor::<B, 4>::random(
                [2, 3, 32, 32],
                burn::tensor::Distribution::Default,
                &device,
            );
            assert_eq!(model.forward(x).dims(), [2, 5], "{id}");
        }
    }
}
