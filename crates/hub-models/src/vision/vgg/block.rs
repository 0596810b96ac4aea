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
            Self::BatchNorm(bn) => crate::vision::batch_norm(bn, x),
            Self::Relu(_) => relu(x),
            Self::MaxPool(pool) => pool.forward(x),
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

/// Runs a convolutional stack in order.
pub fn forward_features<B: Backend>(layers: &[FeatureLayer<B>], x: Tensor<B, 4>) -> Tensor<B, 4> {
    layers.iter().fold(x, |x, layer| layer.forward(x))
}

/// Runs a fully connected stack in order.
pub fn forward_classifier<B: Backend>(
    layers: &[ClassifierLayer<B>],
    x: Tensor<B, 2>,
) -> Tensor<B, 2> {
    layers.iter().fold(x, |x, layer| layer.forward(x))
}
