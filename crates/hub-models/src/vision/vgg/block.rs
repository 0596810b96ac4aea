//! The layers of VGG's (and AlexNet's) `nn.Sequential` stacks.
//!
//! torchvision builds `features` and `classifier` as `nn.Sequential`s in which only some entries
//! hold parameters (`features.0` a conv, `features.1` a ReLU, `features.2` a pool, ...). A `Vec`
//! of these enums keeps one entry per torch index, so the checkpoint's indices load unchanged.

use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::nn::{BatchNorm, Dropout, Linear, Relu};
use burn::prelude::*;
use burn::tensor::activation::relu;

/// One entry of a convolutional `nn.Sequential` (`[batch, channels, height, width]` in and out).
#[derive(Module, Debug)]
pub enum FeatureLayer<B: Backend> {
    /// `nn.Conv2d`.
    Conv(Conv2d<B>),
    /// `nn.BatchNorm2d` (running statistics: eval mode).
    BatchNorm(BatchNorm<B>),
    /// `nn.ReLU`.
    Relu(Relu),
    /// `nn.MaxPool2d`.
    MaxPool(MaxPool2d),
}

impl<B: Backend> FeatureLayer<B> {
    /// Applies the layer.
    ///
    /// # Shapes
    /// - input: `[batch, channels_in, height, width]`
    /// - output: `[batch, channels_out, height_out, width_out]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            Self::Conv(conv) => conv.forward(x),
            Self::BatchNorm(bn) => crate::kernels::burn_batch_norm(bn, x),
            Self::Relu(_) => relu(x),
            Self::MaxPool(pool) => crate::kernels::max_pool2d(pool, x),
        }
    }
}

/// One entry of a fully connected `nn.Sequential` (`[batch, features]` in and out).
// The variants differ in size, but these enums are built once per model and held in a `Vec`
// that mirrors torch's indices; boxing would only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum ClassifierLayer<B: Backend> {
    /// `nn.Linear`.
    Linear(Linear<B>),
    /// `nn.ReLU`.
    Relu(Relu),
    /// `nn.Dropout`: the identity, since these models run in eval mode.
    Dropout(Dropout),
}

impl<B: Backend> ClassifierLayer<B> {
    /// Applies the layer (dropout is the identity: eval mode).
    ///
    /// # Shapes
    /// - input: `[batch, features_in]`
    /// - output: `[batch, features_out]`
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        match self {
            Self::Linear(linear) => linear.forward(x),
            Self::Relu(_) => relu(x),
            Self::Dropout(_) => x,
        }
    }
}

impl<B: Backend> crate::kernels::SequentialLayer<B> for FeatureLayer<B> {
    fn step(&self) -> crate::kernels::Step<'_, B> {
        use crate::kernels::{Activation, Step};
        match self {
            Self::Conv(conv) => Step::Conv(conv),
            Self::BatchNorm(bn) => Step::Norm(bn),
            Self::Relu(_) => Step::Act(Activation::Relu),
            Self::MaxPool(_) => Step::Other,
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        FeatureLayer::forward(self, x)
    }
}

/// Runs a convolutional stack in order; a convolution with the BatchNorm and ReLU after it
/// runs as one fused layer.
pub fn forward_features<B: Backend>(layers: &[FeatureLayer<B>], x: Tensor<B, 4>) -> Tensor<B, 4> {
    crate::kernels::forward_sequential(layers, x, None)
}

/// Runs a fully connected stack in order.
pub fn forward_classifier<B: Backend>(
    layers: &[ClassifierLayer<B>],
    mut x: Tensor<B, 2>,
) -> Tensor<B, 2> {
    // A linear layer and the ReLU after it (dropout, the identity, may sit between) run fused.
    let mut i = 0;
    while i < layers.len() {
        match &layers[i] {
            ClassifierLayer::Linear(linear) => {
                let relu = matches!(layers.get(i + 1), Some(ClassifierLayer::Relu(_)));
                let a = if relu { crate::kernels::Activation::Relu } else { crate::kernels::Activation::None };
                x = crate::kernels::linear(linear, x, a);
                i += 1 + usize::from(relu);
            }
            layer => {
                x = layer.forward(x);
                i += 1;
            }
        }
    }
    x
}
