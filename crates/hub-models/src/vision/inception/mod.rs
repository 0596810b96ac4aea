//! Inception v3, from "Rethinking the Inception Architecture for Computer Vision" (Szegedy et
//! al., 2015, <https://arxiv.org/abs/1512.00567>); a port of `torchvision.models.inception_v3`.
//!
//! The entry matches torchvision's pretrained configuration: the auxiliary classifier is part of
//! the module (its checkpoint keys load) but the eval forward returns the main logits only, and
//! `transform_input` is on. Expects 299×299 input.

pub mod block;
pub mod weights;

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::module::adaptive_avg_pool2d;

pub use block::{
    BasicConv2d, InceptionA, InceptionAux, InceptionB, InceptionC, InceptionD, InceptionE,
};

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &["inception_v3"];

/// The configuration of a variant, or `None` for an unknown id.
pub fn config(id: &str) -> Option<InceptionV3Config> {
    (id == "inception_v3").then(InceptionV3Config::new)
}

/// Hyper-parameters of an [`InceptionV3`].
#[derive(Config, Debug)]
pub struct InceptionV3Config {
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Include the auxiliary classifier (`AuxLogits`). It never changes the eval output.
    #[config(default = true)]
    pub aux_logits: bool,
    /// Re-normalise ImageNet-normalised input to `(x - 0.5) / 0.5` first, as the ported Google
    /// weights expect (torchvision's `transform_input`).
    #[config(default = true)]
    pub transform_input: bool,
    /// Dropout before the classifier (inactive in eval mode; kept for the record).
    #[config(default = 0.5)]
    pub dropout: f64,
}

impl InceptionV3Config {
    /// Builds the model (parameters are initialised lazily; load weights before use).
    pub fn init<B: Backend>(&self, device: &B::Device) -> InceptionV3<B> {
        let d = device;
        InceptionV3 {
            conv2d_1a_3x3: BasicConv2d::new([3, 32], [3, 3], 2, [0, 0], d),
            conv2d_2a_3x3: BasicConv2d::new([32, 32], [3, 3], 1, [0, 0], d),
            conv2d_2b_3x3: BasicConv2d::same([32, 64], 3, d),
            conv2d_3b_1x1: BasicConv2d::same([64, 80], 1, d),
            conv2d_4a_3x3: BasicConv2d::new([80, 192], [3, 3], 1, [0, 0], d),
            mixed_5b: InceptionA::new(192, 32, d),
            mixed_5c: InceptionA::new(256, 64, d),
            mixed_5d: InceptionA::new(288, 64, d),
            mixed_6a: InceptionB::new(288, d),
            mixed_6b: InceptionC::new(768, 128, d),
            mixed_6c: InceptionC::new(768, 160, d),
            mixed_6d: InceptionC::new(768, 160, d),
            mixed_6e: InceptionC::new(768, 192, d),
            aux_logits: self
                .aux_logits
                .then(|| InceptionAux::new(768, self.num_classes, d)),
            mixed_7a: InceptionD::new(768, d),
            mixed_7b: InceptionE::new(1280, d),
            mixed_7c: InceptionE::new(2048, d),
            fc: LinearConfig::new(2048, self.num_classes).init(d),
            transform_input: self.transform_input,
        }
    }
}

/// Inception v3 (eval mode). Field names are torchvision's state-dict keys in snake_case
/// ([`weights::remaps`] renames `Conv2d_1a_3x3` → `conv2d_1a_3x3`, `Mixed_5b` → `mixed_5b`,
/// `AuxLogits` → `aux_logits`).
#[derive(Module, Debug)]
pub struct InceptionV3<B: Backend> {
    /// 3×3/2 → 32.
    pub conv2d_1a_3x3: BasicConv2d<B>,
    /// 3×3 → 32.
    pub conv2d_2a_3x3: BasicConv2d<B>,
    /// 3×3 (padded) → 64, followed by a 3×3/2 max pool.
    pub conv2d_2b_3x3: BasicConv2d<B>,
    /// 1×1 → 80.
    pub conv2d_3b_1x1: BasicConv2d<B>,
    /// 3×3 → 192, followed by a 3×3/2 max pool.
    pub conv2d_4a_3x3: BasicConv2d<B>,
    /// InceptionA, 256 channels out.
    pub mixed_5b: InceptionA<B>,
    /// InceptionA, 288 channels out.
    pub mixed_5c: InceptionA<B>,
    /// InceptionA, 288 channels out.
    pub mixed_5d: InceptionA<B>,
    /// Grid reduction to 17×17, 768 channels.
    pub mixed_6a: InceptionB<B>,
    /// InceptionC (c7 = 128).
    pub mixed_6b: InceptionC<B>,
    /// InceptionC (c7 = 160).
    pub mixed_6c: InceptionC<B>,
    /// InceptionC (c7 = 160).
    pub mixed_6d: InceptionC<B>,
    /// InceptionC (c7 = 192).
    pub mixed_6e: InceptionC<B>,
    /// Auxiliary classifier on `mixed_6e` (training only).
    pub aux_logits: Option<InceptionAux<B>>,
    /// Grid reduction to 8×8, 1280 channels.
    pub mixed_7a: InceptionD<B>,
    /// InceptionE, 2048 channels.
    pub mixed_7b: InceptionE<B>,
    /// InceptionE, 2048 channels.
    pub mixed_7c: InceptionE<B>,
    /// Classifier.
    pub fc: Linear<B>,
    /// See [`InceptionV3Config::transform_input`].
    pub transform_input: bool,
}

impl<B: Backend> InceptionV3<B> {
    /// Computes the class logits (the auxiliary classifier is not run: eval mode).
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB; 299×299 for ImageNet weights, at
    ///   least 75×75)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let pool = block::reduce_pool_3x3s2;
        let x = if self.transform_input {
            crate::vision::googlenet::block::transform_input(x)
        } else {
            x
        };
        let x = self.conv2d_1a_3x3.forward(x);
        let x = self.conv2d_2a_3x3.forward(x);
        let x = pool(self.conv2d_2b_3x3.forward(x));
        let x = self.conv2d_3b_1x1.forward(x);
        let x = pool(self.conv2d_4a_3x3.forward(x));
        let x = self.mixed_5b.forward(x);
        let x = self.mixed_5c.forward(x);
        let x = self.mixed_5d.forward(x);
        let x = self.mixed_6a.forward(x);
        let x = self.mixed_6b.forward(x);
        let x = self.mixed_6c.forward(x);
        let x = self.mixed_6d.forward(x);
        let x = self.mixed_6e.forward(x);
        let x = self.mixed_7a.forward(x);
        let x = self.mixed_7b.forward(x);
        let x = self.mixed_7c.forward(x);
        let x = adaptive_avg_pool2d(x, [1, 1]).flatten::<2>(1, 3);
        self.fc.forward(x)
    }
}


/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec =
    crate::registry::spec::FamilySpec::classifier("Inception v3", VARIANTS, "Szegedy et al. 2015, https://arxiv.org/abs/1512.00567; torchvision/models/inception.py", weights::remaps).with_input_size(299)
    .with_min_input(|_| 75);

/// Builds the variant `id` with random weights and the manifest's config (`None` for an id
/// not in [`VARIANTS`]).
pub fn build<B: Backend>(id: &str, c: &crate::registry::config::ClassifierConfig, device: &B::Device) -> Option<InceptionV3<B>> {
    let mut m = config(id)?.with_num_classes(c.num_classes);
    m.aux_logits = c.aux_logits.unwrap_or(m.aux_logits);
    m.transform_input = c.transform_input.unwrap_or(m.transform_input);
    Some(m.init(device))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parameter_count;
    use burn::backend::Flex;

    type B = Flex;

    #[test]
    fn aux_logits_false_drops_the_auxiliary_head() {
        let device = Default::default();
        // The default builds it (torchvision's checkpoint has it).
        let model = config("inception_v3").unwrap().init::<B>(&device);
        let without_aux = InceptionV3Config::new()
            .with_aux_logits(false)
            .init::<B>(&device);
        assert!(parameter_count(&without_aux) < parameter_count(&model));
    }
}
