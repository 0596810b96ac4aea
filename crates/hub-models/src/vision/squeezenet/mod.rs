//! SqueezeNet, from "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB
//! model size" (Iandola et al., 2016, <https://arxiv.org/abs/1602.07360>); a port of
//! `torchvision.models.squeezenet`. Version 1.1 is from the official SqueezeNet repository
//! (fewer computations, same accuracy).

pub mod block;
pub mod weights;

use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::{AdaptiveAvgPool2dConfig, MaxPool2dConfig};
use burn::nn::{DropoutConfig, Relu};
use burn::prelude::*;

pub use block::Fire;
use block::SqueezeLayer;

/// One entry of a SqueezeNet feature configuration.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum SqueezeStage {
    /// A convolution (with bias) followed by ReLU: output channels, kernel, stride; no padding.
    Conv {
        /// Output channels.
        out: usize,
        /// Square kernel size.
        kernel: usize,
        /// Stride.
        stride: usize,
    },
    /// A 3×3/2 max pool in ceil mode.
    MaxPool,
    /// A Fire module: squeeze channels, then this many channels for each of the two expands.
    Fire {
        /// Squeeze channels.
        squeeze: usize,
        /// Output channels of each expand convolution.
        expand: usize,
    },
}

use SqueezeStage::{Fire as F, MaxPool as M};

/// SqueezeNet 1.0's `features`.
const V1_0: &[SqueezeStage] = &[
    SqueezeStage::Conv {
        out: 96,
        kernel: 7,
        stride: 2,
    },
    M,
    F {
        squeeze: 16,
        expand: 64,
    },
    F {
        squeeze: 16,
        expand: 64,
    },
    F {
        squeeze: 32,
        expand: 128,
    },
    M,
    F {
        squeeze: 32,
        expand: 128,
    },
    F {
        squeeze: 48,
        expand: 192,
    },
    F {
        squeeze: 48,
        expand: 192,
    },
    F {
        squeeze: 64,
        expand: 256,
    },
    M,
    F {
        squeeze: 64,
        expand: 256,
    },
];

/// SqueezeNet 1.1's `features`.
const V1_1: &[SqueezeStage] = &[
    SqueezeStage::Conv {
        out: 64,
        kernel: 3,
        stride: 2,
    },
    M,
    F {
        squeeze: 16,
        expand: 64,
    },
    F {
        squeeze: 16,
        expand: 64,
    },
    M,
    F {
        squeeze: 32,
        expand: 128,
    },
    F {
        squeeze: 32,
        expand: 128,
    },
    M,
    F {
        squeeze: 48,
        expand: 192,
    },
    F {
        squeeze: 48,
        expand: 192,
    },
    F {
        squeeze: 64,
        expand: 256,
    },
    F {
        squeeze: 64,
        expand: 256,
    },
];

/// The variant table.
const TABLE: &[(&str, &[SqueezeStage])] = &[("squeezenet1_0", V1_0), ("squeezenet1_1", V1_1)];

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &["squeezenet1_0", "squeezenet1_1"];

/// The configuration of a variant, or `None` for an unknown id.
pub fn config(id: &str) -> Option<SqueezeNetConfig> {
    TABLE
        .iter()
        .find(|row| row.0 == id)
        .map(|(_, stages)| SqueezeNetConfig::new(stages.to_vec()))
}

/// Hyper-parameters of a [`SqueezeNet`].
#[derive(Config, Debug)]
pub struct SqueezeNetConfig {
    /// The feature stages, in order.
    pub stages: Vec<SqueezeStage>,
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Dropout probability before the final convolution (inactive in eval mode).
    #[config(default = 0.5)]
    pub dropout: f64,
}

impl SqueezeNetConfig {
    /// Builds the model (parameters are initialised lazily; load weights before use).
    pub fn init<B: Backend>(&self, device: &B::Device) -> SqueezeNet<B> {
        let mut features = Vec::new();
        let mut channels = 3;
        for stage in &self.stages {
            match *stage {
                SqueezeStage::Conv {
                    out,
                    kernel,
                    stride,
                } => {
                    features.push(SqueezeLayer::Conv(
                        Conv2dConfig::new([channels, out], [kernel, kernel])
                            .with_stride([stride, stride])
                            .init(device),
                    ));
                    features.push(SqueezeLayer::Relu(Relu::new()));
                    channels = out;
                }
                SqueezeStage::MaxPool => features.push(SqueezeLayer::MaxPool(
                    MaxPool2dConfig::new([3, 3])
                        .with_strides([2, 2])
                        .with_ceil_mode(true)
                        .init(),
                )),
                SqueezeStage::Fire { squeeze, expand } => {
                    features.push(SqueezeLayer::Fire(Fire::new(
                        channels, squeeze, expand, expand, device,
                    )));
                    channels = 2 * expand;
                }
            }
        }
        let classifier = vec![
            SqueezeLayer::Dropout(DropoutConfig::new(self.dropout).init()),
            SqueezeLayer::Conv(
                Conv2dConfig::new([channels, self.num_classes], [1, 1]).init(device),
            ),
            SqueezeLayer::Relu(Relu::new()),
            SqueezeLayer::AdaptiveAvgPool(AdaptiveAvgPool2dConfig::new([1, 1]).init()),
        ];
        SqueezeNet {
            features,
            classifier,
        }
    }
}

/// A SqueezeNet (eval mode). Field names follow torchvision's state-dict keys.
#[derive(Module, Debug)]
pub struct SqueezeNet<B: Backend> {
    /// Feature stack; one entry per torch `features.N` index.
    pub features: Vec<SqueezeLayer<B>>,
    /// Dropout, final 1×1 convolution, ReLU, global average pool (`classifier.N`).
    pub classifier: Vec<SqueezeLayer<B>>,
}

impl<B: Backend> SqueezeNet<B> {
    /// Computes the class logits.
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB; 224×224 for ImageNet weights, at
    ///   least 21×21 for 1.0 and 17×17 for 1.1)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = block::forward_layers(&self.features, x);
        let x = block::forward_layers(&self.classifier, x);
        x.flatten::<2>(1, 3)
    }
}

/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec =
    crate::registry::spec::FamilySpec::classifier("SqueezeNet", VARIANTS, "Iandola et al. 2016, https://arxiv.org/abs/1602.07360; torchvision/models/squeezenet.py", weights::remaps)
    .with_min_input(|id| if id == "squeezenet1_0" { 21 } else { 17 });
