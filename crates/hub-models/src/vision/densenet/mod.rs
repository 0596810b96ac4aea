//! DenseNet-BC, from "Densely Connected Convolutional Networks" (Huang et al., 2016,
//! <https://arxiv.org/abs/1608.06993>); a port of `torchvision.models.densenet`.
//!
//! Loads both torchvision's current key names and the legacy ones (`norm.1`) of its published
//! checkpoints, see [`weights::remaps`].

pub mod block;
pub mod weights;

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;

use block::{DenseBlock, Transition};

/// The variant table: id, growth rate, layers per block, stem channels.
const TABLE: &[(&str, usize, [usize; 4], usize)] = &[
    ("densenet121", 32, [6, 12, 24, 16], 64),
    ("densenet161", 48, [6, 12, 36, 24], 96),
    ("densenet169", 32, [6, 12, 32, 32], 64),
    ("densenet201", 32, [6, 12, 48, 32], 64),
];

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &["densenet121", "densenet161", "densenet169", "densenet201"];

/// The configuration of a variant, or `None` for an unknown id.
pub fn config(id: &str) -> Option<DenseNetConfig> {
    TABLE
        .iter()
        .find(|row| row.0 == id)
        .map(|&(_, growth, blocks, init)| {
            DenseNetConfig::new()
                .with_growth_rate(growth)
                .with_block_config(blocks)
                .with_num_init_features(init)
        })
}

/// Hyper-parameters of a [`DenseNet`].
#[derive(Config, Debug)]
pub struct DenseNetConfig {
    /// Channels each dense layer adds (`k` in the paper).
    #[config(default = 32)]
    pub growth_rate: usize,
    /// Number of layers in each of the four dense blocks.
    #[config(default = "[6, 12, 24, 16]")]
    pub block_config: [usize; 4],
    /// Channels of the stem convolution.
    #[config(default = 64)]
    pub num_init_features: usize,
    /// Bottleneck width as a multiple of the growth rate.
    #[config(default = 4)]
    pub bn_size: usize,
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
}

impl DenseNetConfig {
    /// Builds the model (parameters are initialised lazily; load weights before use).
    pub fn init<B: Backend>(&self, device: &B::Device) -> DenseNet<B> {
        let mut channels = self.num_init_features;
        // Each dense block adds `layers × growth` channels; each transition halves them.
        let block = |channels: &mut usize, layers: usize| {
            let block = DenseBlock::new(layers, *channels, self.growth_rate, self.bn_size, device);
            *channels += layers * self.growth_rate;
            block
        };
        let transition = |channels: &mut usize| {
            let transition = Transition::new([*channels, *channels / 2], device);
            *channels /= 2;
            transition
        };
        let [b1, b2, b3, b4] = self.block_config;
        let denseblock1 = block(&mut channels, b1);
        let transition1 = transition(&mut channels);
        let denseblock2 = block(&mut channels, b2);
        let transition2 = transition(&mut channels);
        let denseblock3 = block(&mut channels, b3);
        let transition3 = transition(&mut channels);
        let denseblock4 = block(&mut channels, b4);
        let features = DenseFeatures {
            conv0: Conv2dConfig::new([3, self.num_init_features], [7, 7])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(3, 3, 3, 3))
                .with_bias(false)
                .init(device),
            norm0: BatchNormConfig::new(self.num_init_features).init(device),
            pool0: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            denseblock1,
            transition1,
            denseblock2,
            transition2,
            denseblock3,
            transition3,
            denseblock4,
            norm5: BatchNormConfig::new(channels).init(device),
        };
        DenseNet {
            features,
            avgpool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            classifier: LinearConfig::new(channels, self.num_classes).init(device),
        }
    }
}

/// torchvision's `features` `nn.Sequential`, whose children are named (`conv0`, `denseblock1`,
/// ...).
#[derive(Module, Debug)]
pub struct DenseFeatures<B: Backend> {
    /// Stem 7×7/2 convolution.
    pub conv0: Conv2d<B>,
    /// Stem BatchNorm.
    pub norm0: BatchNorm<B>,
    /// Stem 3×3/2 max pool.
    pub pool0: MaxPool2d,
    /// Dense block 1.
    pub denseblock1: DenseBlock<B>,
    /// Transition 1.
    pub transition1: Transition<B>,
    /// Dense block 2.
    pub denseblock2: DenseBlock<B>,
    /// Transition 2.
    pub transition2: Transition<B>,
    /// Dense block 3.
    pub denseblock3: DenseBlock<B>,
    /// Transition 3.
    pub transition3: Transition<B>,
    /// Dense block 4.
    pub denseblock4: DenseBlock<B>,
    /// Final BatchNorm.
    pub norm5: BatchNorm<B>,
}

/// A DenseNet-BC (eval mode). Field names follow torchvision's state-dict keys.
#[derive(Module, Debug)]
pub struct DenseNet<B: Backend> {
    /// The convolutional trunk.
    pub features: DenseFeatures<B>,
    /// Global average pool.
    pub avgpool: AdaptiveAvgPool2d,
    /// Classifier.
    pub classifier: Linear<B>,
}

impl<B: Backend> DenseNet<B> {
    /// Computes the class logits.
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB; 224×224 for ImageNet weights, at
    ///   least 29×29)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let f = &self.features;
        use crate::kernels::{batch_norm, conv2d, Activation::Relu};
        let x = conv2d(&f.conv0, Some(&f.norm0), x, None, Relu);
        let x = crate::kernels::max_pool2d(&f.pool0, x);
        let x = f.transition1.forward(f.denseblock1.forward(x));
        let x = f.transition2.forward(f.denseblock2.forward(x));
        let x = f.transition3.forward(f.denseblock3.forward(x));
        let x = batch_norm(&f.norm5, f.denseblock4.forward(x), Relu);
        let x = self.avgpool.forward(x).flatten::<2>(1, 3);
        self.classifier.forward(x)
    }
}


/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec =
    crate::registry::spec::FamilySpec::classifier("DenseNet", VARIANTS, "Huang et al. 2016, https://arxiv.org/abs/1608.06993; torchvision/models/densenet.py", weights::remaps)
    .with_min_input(|_| 29);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::state_dict_shapes;
    use burn::backend::Flex;

    type B = Flex;

    #[test]
    fn remaps_turn_torch_keys_into_module_paths() {
        let device = Default::default();
        let model = config("densenet121").unwrap().init::<B>(&device);
        let keys: Vec<String> = state_dict_shapes(&model)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let remapper = burn_store::KeyRemapper::from_patterns(weights::remaps()).unwrap();
        let remap = |key: &str| {
            let snapshot = burn_store::TensorSnapshot::from_data(
                burn::tensor::TensorData::new(vec![0f32], [1]),
                key.split('.').map(str::to_string).collect(),
                vec![],
                Default::default(),
            );
            remapper.remap(vec![snapshot]).1[0].0.clone()
        };
        for (torch, ours) in [
            (
                "features.denseblock1.denselayer1.norm1.weight",
                "features.denseblock1.denselayer.1.norm1.weight",
            ),
            (
                "features.denseblock3.denselayer24.conv2.weight",
                "features.denseblock3.denselayer.24.conv2.weight",
            ),
            // legacy checkpoint names
            (
                "features.denseblock2.denselayer12.norm.2.running_var",
                "features.denseblock2.denselayer.12.norm2.running_var",
            ),
            (
                "features.denseblock1.denselayer1.conv.1.weight",
                "features.denseblock1.denselayer.1.conv1.weight",
            ),
            (
                "features.transition1.norm.weight",
                "features.transition1.norm.weight",
            ),
        ] {
            assert_eq!(remap(torch), ours);
            assert!(keys.contains(&ours.to_string()), "{ours}");
        }
    }
}
