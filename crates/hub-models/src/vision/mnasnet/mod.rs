//! MNASNet (the B1 search result), from "MnasNet: Platform-Aware Neural Architecture Search for
//! Mobile" (Tan et al., 2019, <https://arxiv.org/abs/1807.11626>); a port of torchvision 0.29's
//! `models/mnasnet.py` (eval mode, the current `_version = 2` layout whose stem scales with
//! the width multiplier, which all of torchvision's weights use).
//!
//! A stem (3×3/2 convolution, 3×3 depthwise, 1×1 projection), six stacks of inverted
//! residuals, a 1×1 convolution to 1280 channels, global average pooling and the classifier.
//! The width multiplier `alpha` scales every channel count by torchvision's
//! `_round_to_multiple_of(c · alpha, 8)`, which is the rule of [`make_divisible`] (round to the
//! nearest multiple of 8, at least 8, never 10 % below). torchvision's BatchNorms use momentum
//! `1 − 0.9997` (TensorFlow's decay), a training-only setting; their eps is PyTorch's 1e-5.

pub mod block;
pub mod weights;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::vision::layers::{global_avg_pool, make_divisible, Activation, ConvNormAct, ConvNormActConfig};
use block::{stack, InvertedResidual};

/// The variant table: id and width multiplier.
const TABLE: &[(&str, f64)] = &[("mnasnet0_5", 0.5), ("mnasnet0_75", 0.75), ("mnasnet1_0", 1.0), ("mnasnet1_3", 1.3)];

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &["mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"];

/// The configuration of a variant, or `None` for an unknown id.
pub fn config(id: &str) -> Option<MnasNetConfig> {
    TABLE.iter().find(|row| row.0 == id).map(|&(_, alpha)| MnasNetConfig::new(alpha))
}

/// Channels at alpha = 1: the stem's two, then each stack's output.
const DEPTHS: [usize; 8] = [32, 16, 24, 40, 80, 96, 192, 320];

/// The stacks: `(kernel, stride, expansion, repeats)`; stack `i` goes from channels `i + 1` to
/// `i + 2` of [`DEPTHS`].
const STACKS: [(usize, usize, usize, usize); 6] = [(3, 2, 3, 3), (5, 2, 3, 3), (5, 2, 6, 3), (3, 1, 6, 2), (5, 2, 6, 4), (3, 1, 6, 1)];

/// Channels of the last convolution (not scaled by alpha).
const HEAD_CHANNELS: usize = 1280;

/// Hyper-parameters of an [`MnasNet`].
#[derive(Config, Debug)]
pub struct MnasNetConfig {
    /// Width multiplier.
    pub alpha: f64,
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Dropout before the classifier (training only; kept for reference).
    #[config(default = 0.2)]
    pub dropout: f64,
}

impl MnasNetConfig {
    /// The channel counts at this width (torchvision's `_get_depths`).
    pub fn depths(&self) -> [usize; 8] {
        DEPTHS.map(|d| make_divisible(d as f64 * self.alpha, 8, None))
    }

    /// Builds the model (parameters are initialised lazily; load weights before use).
    pub fn init<B: Backend>(&self, device: &B::Device) -> MnasNet<B> {
        let d = self.depths();
        let relu = Activation::Relu;
        let stem = vec![
            ConvNormActConfig::new(3, d[0], 3, relu).stride(2).init(device),
            ConvNormActConfig::new(d[0], d[0], 3, relu).groups(d[0]).init(device),
            ConvNormActConfig::new(d[0], d[1], 1, Activation::Identity).init(device),
        ];
        let stacks = STACKS
            .iter()
            .enumerate()
            .map(|(i, &(kernel, stride, expansion, repeats))| stack(d[i + 1], d[i + 2], kernel, stride, expansion, repeats, device))
            .collect();
        MnasNet {
            stem,
            stacks,
            head: ConvNormActConfig::new(d[7], HEAD_CHANNELS, 1, relu).init(device),
            classifier: LinearConfig::new(HEAD_CHANNELS, self.num_classes).init(device),
        }
    }
}

/// torchvision's MNASNet. PyTorch keys: `layers.N`, `classifier.1` (see [`weights`]).
#[derive(Module, Debug)]
pub struct MnasNet<B: Backend> {
    /// 3×3/2 convolution, 3×3 depthwise, 1×1 linear projection.
    pub stem: Vec<ConvNormAct<B>>,
    /// The six stacks of inverted residuals.
    pub stacks: Vec<Vec<InvertedResidual<B>>>,
    /// 1×1 convolution to 1280 channels.
    pub head: ConvNormAct<B>,
    /// Classifier.
    pub classifier: Linear<B>,
}

impl<B: Backend> MnasNet<B> {
    /// Eval-mode logits (dropout is the identity).
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB, 224×224)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.stem.iter().fold(x, |x, layer| layer.forward(x));
        let x = self.stacks.iter().flatten().fold(x, |x, block| block.forward(x));
        let x = self.head.forward(x);
        let [n, c, _, _] = x.dims();
        self.classifier.forward(global_avg_pool(x).reshape([n, c]))
    }
}

/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec = crate::registry::spec::FamilySpec::classifier(
    "MNASNet",
    VARIANTS,
    "Tan et al. 2019, https://arxiv.org/abs/1807.11626; torchvision/models/mnasnet.py",
    weights::remaps,
);

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    #[test]
    fn depths_match_torchvision() {
        // torchvision's `_get_depths(alpha)`, printed from torchvision 0.29.
        assert_eq!(config("mnasnet0_5").unwrap().depths(), [16, 8, 16, 24, 40, 48, 96, 160]);
        assert_eq!(config("mnasnet0_75").unwrap().depths(), [24, 16, 24, 32, 64, 72, 144, 240]);
        assert_eq!(config("mnasnet1_0").unwrap().depths(), DEPTHS);
        assert_eq!(config("mnasnet1_3").unwrap().depths(), [40, 24, 32, 56, 104, 128, 248, 416]);
    }

    #[test]
    fn small_forward_has_the_right_shape() {
        let device = Default::default();
        let model = config("mnasnet0_5").unwrap().with_num_classes(10).init::<Flex>(&device);
        let x = Tensor::<Flex, 4>::ones([2, 3, 32, 32], &device);
        assert_eq!(model.forward(x).dims(), [2, 10]);
    }
}
