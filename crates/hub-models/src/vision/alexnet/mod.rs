//! AlexNet, from "One weird trick for parallelizing convolutional neural networks" (Krizhevsky,
//! 2014, <https://arxiv.org/abs/1404.5997>), the single-tower variant torchvision ships; a port
//! of `torchvision.models.alexnet`.
//!
//! The layer stacks are the same kind as VGG's, so they reuse [`crate::vision::vgg::block`].

pub mod weights;

use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2dConfig};
use burn::nn::{DropoutConfig, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;

use crate::vision::vgg::block::{
    forward_classifier, forward_features, ClassifierLayer, FeatureLayer,
};

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &["alexnet"];

/// The configuration of a variant, or `None` for an unknown id.
pub fn config(id: &str) -> Option<AlexNetConfig> {
    (id == "alexnet").then(AlexNetConfig::new)
}

/// Hyper-parameters of an [`AlexNet`].
#[derive(Config, Debug)]
pub struct AlexNetConfig {
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Dropout probability in the classifier (inactive in eval mode; kept for the record).
    #[config(default = 0.5)]
    pub dropout: f64,
}

/// A convolution layer of the feature stack: `(out channels, kernel, stride, padding)`.
type ConvSpec = (usize, usize, usize, usize);

/// torchvision's feature stack: conv, ReLU, and a 3×3/2 max pool after conv 1, 2 and 5.
const CONVS: [(ConvSpec, bool); 5] = [
    ((64, 11, 4, 2), true),
    ((192, 5, 1, 2), true),
    ((384, 3, 1, 1), false),
    ((256, 3, 1, 1), false),
    ((256, 3, 1, 1), true),
];

impl AlexNetConfig {
    /// Builds the model (parameters are initialised lazily; load weights before use).
    pub fn init<B: Backend>(&self, device: &B::Device) -> AlexNet<B> {
        let mut features = Vec::new();
        let mut channels = 3;
        for ((out, kernel, stride, pad), pool) in CONVS {
            features.push(FeatureLayer::Conv(
                Conv2dConfig::new([channels, out], [kernel, kernel])
                    .with_stride([stride, stride])
                    .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                    .init(device),
            ));
            features.push(FeatureLayer::Relu(Relu::new()));
            if pool {
                features.push(FeatureLayer::MaxPool(
                    MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).init(),
                ));
            }
            channels = out;
        }
        let dropout = || ClassifierLayer::Dropout(DropoutConfig::new(self.dropout).init());
        let classifier = vec![
            dropout(),
            ClassifierLayer::Linear(LinearConfig::new(channels * 6 * 6, 4096).init(device)),
            ClassifierLayer::Relu(Relu::new()),
            dropout(),
            ClassifierLayer::Linear(LinearConfig::new(4096, 4096).init(device)),
            ClassifierLayer::Relu(Relu::new()),
            ClassifierLayer::Linear(LinearConfig::new(4096, self.num_classes).init(device)),
        ];
        AlexNet {
            features,
            avgpool: AdaptiveAvgPool2dConfig::new([6, 6]).init(),
            classifier,
        }
    }
}

/// AlexNet (eval mode). Field names follow torchvision's state-dict keys.
#[derive(Module, Debug)]
pub struct AlexNet<B: Backend> {
    /// Convolution stack; one entry per torch `features.N` index.
    pub features: Vec<FeatureLayer<B>>,
    /// Adaptive average pool to 6×6.
    pub avgpool: AdaptiveAvgPool2d,
    /// Fully connected stack; one entry per torch `classifier.N` index.
    pub classifier: Vec<ClassifierLayer<B>>,
}

impl<B: Backend> AlexNet<B> {
    /// Computes the class logits.
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB; 224×224 for ImageNet weights, at
    ///   least 63×63)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = forward_features(&self.features, x);
        let x = self.avgpool.forward(x).flatten::<2>(1, 3);
        forward_classifier(&self.classifier, x)
    }
}

/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec =
    crate::registry::spec::FamilySpec::classifier("AlexNet", VARIANTS, "Krizhevsky et al. 2012, https://arxiv.org/abs/1404.5997; torchvision/models/alexnet.py", weights::remaps)
    .with_min_input(|_| 63);
