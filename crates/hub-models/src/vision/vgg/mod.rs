//! VGG, from "Very Deep Convolutional Networks for Large-Scale Image Recognition" (Simonyan &
//! Zisserman, 2014, <https://arxiv.org/abs/1409.1556>); a port of `torchvision.models.vgg`.
//!
//! Configurations A, B, D and E (VGG-11, 13, 16, 19), each with or without batch normalisation
//! after every convolution.

pub mod block;
pub mod weights;

use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2dConfig};
use burn::nn::{BatchNormConfig, DropoutConfig, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;

use block::{forward_classifier, forward_features, ClassifierLayer, FeatureLayer};

/// One entry of a VGG feature configuration (torchvision's `cfgs`).
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum VggStage {
    /// A 3×3 convolution (padding 1) with this many output channels, then BatchNorm (if
    /// enabled) and ReLU.
    Conv(usize),
    /// A 2×2 max pool with stride 2 (torchvision's `"M"`).
    MaxPool,
}

use VggStage::{Conv as C, MaxPool as M};

/// Configuration "A" (VGG-11).
#[rustfmt::skip]
const CFG_A: &[VggStage] = &[C(64), M, C(128), M, C(256), C(256), M, C(512), C(512), M, C(512), C(512), M];
/// Configuration "B" (VGG-13).
#[rustfmt::skip]
const CFG_B: &[VggStage] = &[
    C(64), C(64), M, C(128), C(128), M, C(256), C(256), M, C(512), C(512), M, C(512), C(512), M,
];
/// Configuration "D" (VGG-16).
#[rustfmt::skip]
const CFG_D: &[VggStage] = &[
    C(64), C(64), M, C(128), C(128), M, C(256), C(256), C(256), M, C(512), C(512), C(512), M,
    C(512), C(512), C(512), M,
];
/// Configuration "E" (VGG-19).
#[rustfmt::skip]
const CFG_E: &[VggStage] = &[
    C(64), C(64), M, C(128), C(128), M, C(256), C(256), C(256), C(256), M, C(512), C(512), C(512),
    C(512), M, C(512), C(512), C(512), C(512), M,
];

/// The variant table: entry id, feature configuration, batch norm.
const TABLE: &[(&str, &[VggStage], bool)] = &[
    ("vgg11", CFG_A, false),
    ("vgg11_bn", CFG_A, true),
    ("vgg13", CFG_B, false),
    ("vgg13_bn", CFG_B, true),
    ("vgg16", CFG_D, false),
    ("vgg16_bn", CFG_D, true),
    ("vgg19", CFG_E, false),
    ("vgg19_bn", CFG_E, true),
];

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &[
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
];

/// The configuration of a variant, or `None` for an unknown id.
pub fn config(id: &str) -> Option<VggConfig> {
    TABLE
        .iter()
        .find(|(name, _, _)| *name == id)
        .map(|(_, stages, batch_norm)| VggConfig::new(stages.to_vec()).with_batch_norm(*batch_norm))
}

/// Hyper-parameters of a [`Vgg`].
#[derive(Config, Debug)]
pub struct VggConfig {
    /// The feature stages, in order.
    pub stages: Vec<VggStage>,
    /// BatchNorm after every convolution (the `_bn` variants).
    #[config(default = false)]
    pub batch_norm: bool,
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Dropout probability in the classifier (inactive in eval mode; kept for the record).
    #[config(default = 0.5)]
    pub dropout: f64,
}

impl VggConfig {
    /// Builds the model (parameters are initialised lazily; load weights before use).
    pub fn init<B: Backend>(&self, device: &B::Device) -> Vgg<B> {
        let mut features = Vec::new();
        let mut channels = 3;
        let mut last_conv_channels = 3;
        for stage in &self.stages {
            match *stage {
                VggStage::Conv(out) => {
                    features.push(FeatureLayer::Conv(
                        Conv2dConfig::new([channels, out], [3, 3])
                            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                            .init(device),
                    ));
                    if self.batch_norm {
                        features.push(FeatureLayer::BatchNorm(
                            BatchNormConfig::new(out).init(device),
                        ));
                    }
                    features.push(FeatureLayer::Relu(Relu::new()));
                    channels = out;
                    last_conv_channels = out;
                }
                VggStage::MaxPool => features.push(FeatureLayer::MaxPool(
                    MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
                )),
            }
        }
        let dropout = || ClassifierLayer::Dropout(DropoutConfig::new(self.dropout).init());
        let classifier = vec![
            ClassifierLayer::Linear(
                LinearConfig::new(last_conv_channels * 7 * 7, 4096).init(device),
            ),
            ClassifierLayer::Relu(Relu::new()),
            dropout(),
            ClassifierLayer::Linear(LinearConfig::new(4096, 4096).init(device)),
            ClassifierLayer::Relu(Relu::new()),
            dropout(),
            ClassifierLayer::Linear(LinearConfig::new(4096, self.num_classes).init(device)),
        ];
        Vgg {
            features,
            avgpool: AdaptiveAvgPool2dConfig::new([7, 7]).init(),
            classifier,
        }
    }
}

/// A VGG network (eval mode). Field names follow torchvision's state-dict keys.
#[derive(Module, Debug)]
pub struct Vgg<B: Backend> {
    /// Convolution stack; one entry per torch `features.N` index.
    pub features: Vec<FeatureLayer<B>>,
    /// Adaptive average pool to 7×7.
    pub avgpool: AdaptiveAvgPool2d,
    /// Fully connected stack; one entry per torch `classifier.N` index.
    pub classifier: Vec<ClassifierLayer<B>>,
}

impl<B: Backend> Vgg<B> {
    /// Computes the class logits.
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB; 224×224 for ImageNet weights, at
    ///   least 32×32)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = forward_features(&self.features, x);
        let x = self.avgpool.forward(x).flatten::<2>(1, 3);
        forward_classifier(&self.classifier, x)
    }
}

/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec =
    crate::registry::spec::FamilySpec::classifier("VGG", VARIANTS, "Simonyan & Zisserman 2014, https://arxiv.org/abs/1409.1556; torchvision/models/vgg.py", weights::remaps)
    .with_min_input(|_| 32);
