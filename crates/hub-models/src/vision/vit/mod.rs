//! Vision Transformer, from "An Image is Worth 16x16 Words: Transformers for Image Recognition
//! at Scale" (Dosovitskiy et al., 2020, <https://arxiv.org/abs/2010.11929>); a port of
//! torchvision 0.29's `torchvision.models.vision_transformer` (eval mode).
//!
//! A `patch × patch` convolution with stride `patch` turns the image into a grid of tokens, a
//! learned class token is put first, learned position embeddings are added, then pre-norm
//! encoder blocks (multi-head self-attention and a GELU MLP, each with a residual) and a final
//! LayerNorm; the class token's row goes through the classifier `heads.head`.
//!
//! The position embeddings have `1 + (image_size / patch)²` rows: torchvision builds each model
//! with the `image_size` of its weights (224, or 384/512/518 for the SWAG end-to-end weights),
//! and so does the manifest's `config`. An input of another size is run with the patch part of
//! the embeddings resized bicubically, as torchvision's `interpolate_embeddings` resizes a
//! checkpoint (see [`block::Encoder::positions`]); torchvision's own forward refuses it.

pub mod block;
pub mod weights;

use burn::module::{Initializer, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;

use crate::kernels::{self, Activation};
use crate::registry::config::ClassifierConfig;
use block::Encoder;

/// The variant table: id, patch size, layers, heads, hidden width, MLP width.
const TABLE: &[(&str, usize, usize, usize, usize, usize)] = &[
    ("vit_b_16", 16, 12, 12, 768, 3072),
    ("vit_b_32", 32, 12, 12, 768, 3072),
    ("vit_l_16", 16, 24, 16, 1024, 4096),
    ("vit_l_32", 32, 24, 16, 1024, 4096),
    ("vit_h_14", 14, 32, 16, 1280, 5120),
];

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &["vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14"];

/// The configuration of a variant (at torchvision's default `image_size`, 224), or `None` for an
/// unknown id.
pub fn config(id: &str) -> Option<VitConfig> {
    TABLE
        .iter()
        .find(|row| row.0 == id)
        .map(|&(_, patch, layers, heads, hidden, mlp)| VitConfig::new(patch, layers, heads, hidden, mlp))
}

/// Builds a variant from a manifest config: `num_classes`, and `image_size` (the side the
/// position embeddings are sized for; torchvision's `image_size`, from the weights' `min_size`).
pub fn build<B: Backend>(id: &str, c: &ClassifierConfig, device: &B::Device) -> Option<VisionTransformer<B>> {
    let mut config = config(id)?.with_num_classes(c.num_classes);
    if let Some(size) = c.image_size {
        config = config.with_image_size(size);
    }
    Some(config.init(device))
}

/// Hyper-parameters of a [`VisionTransformer`].
#[derive(Config, Debug)]
pub struct VitConfig {
    /// Side of the square patches (the stride of the patch convolution).
    pub patch_size: usize,
    /// Number of encoder blocks.
    pub num_layers: usize,
    /// Attention heads per block.
    pub num_heads: usize,
    /// Token width.
    pub hidden_dim: usize,
    /// Width of the MLPs' hidden layer.
    pub mlp_dim: usize,
    /// The input side the position embeddings are sized for.
    #[config(default = 224)]
    pub image_size: usize,
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
}

impl VitConfig {
    /// Tokens per image: the class token and `(image_size / patch_size)²` patches.
    pub fn seq_length(&self) -> usize {
        let side = self.image_size / self.patch_size.max(1);
        side * side + 1
    }

    /// Builds the model (parameters are initialised lazily; load weights before use).
    pub fn init<B: Backend>(&self, device: &B::Device) -> VisionTransformer<B> {
        let (p, d) = (self.patch_size, self.hidden_dim);
        VisionTransformer {
            conv_proj: Conv2dConfig::new([3, d], [p, p]).with_stride([p, p]).with_padding(PaddingConfig2d::Valid).init(device),
            class_token: Initializer::Zeros.init([1, 1, d], device),
            encoder: Encoder::new(self.seq_length(), self.num_layers, d, self.num_heads, self.mlp_dim, device),
            heads: Heads { head: LinearConfig::new(d, self.num_classes).init(device) },
            patch_size: p,
        }
    }
}

/// The classifier (`heads` in PyTorch, a `Sequential` with one `head`: the builders set no
/// `representation_size`).
#[derive(Module, Debug)]
pub struct Heads<B: Backend> {
    /// `hidden_dim → num_classes`.
    pub head: Linear<B>,
}

/// A Vision Transformer (eval mode). Field names are torchvision's; see [`weights`] for the two
/// renames.
#[derive(Module, Debug)]
pub struct VisionTransformer<B: Backend> {
    /// Patch embedding, `3 → hidden_dim`, kernel and stride `patch_size`.
    pub conv_proj: Conv2d<B>,
    /// `[1, 1, hidden_dim]`.
    pub class_token: Param<Tensor<B, 3>>,
    /// Position embeddings, blocks, final norm.
    pub encoder: Encoder<B>,
    /// The classifier.
    pub heads: Heads<B>,
    patch_size: usize,
}

impl<B: Backend> VisionTransformer<B> {
    /// Computes the class logits.
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB; `image_size` square for the
    ///   weights as trained; any size of at least one patch, with resized position embeddings,
    ///   the last partial row and column of patches dropped as by the patch convolution)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = kernels::conv2d(&self.conv_proj, None, x, None, Activation::None);
        let [n, d, gh, gw] = x.dims();
        // [n, d, gh, gw] → [n, gh·gw, d], patches row by row.
        let tokens = x.reshape([n, d, gh * gw]).swap_dims(1, 2);
        let class = self.class_token.val().expand([n, 1, d]);
        let x = self.encoder.forward(Tensor::cat(vec![class, tokens], 1), gh, gw);
        let first = x.narrow(1, 0, 1).reshape([n, d]);
        kernels::linear(&self.heads.head, first, Activation::None)
    }

    /// Side of the patches.
    pub fn patch_size(&self) -> usize {
        self.patch_size
    }
}

/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec = crate::registry::spec::FamilySpec::classifier(
    "Vision Transformer",
    VARIANTS,
    "Dosovitskiy et al. 2020, https://arxiv.org/abs/2010.11929; torchvision/models/vision_transformer.py",
    weights::remaps,
)
// One patch (the position embeddings are resized to any other grid).
.with_min_input(|id| config(id).map_or(1, |c| c.patch_size));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parameter_count;
    use burn::backend::Flex;
    use burn::tensor::Distribution;

    type B = Flex;

    /// torchvision 0.29's `num_params` (at image_size 224; the SWAG end-to-end weights' larger
    /// position embeddings add `(grid² − 196)·hidden`, checked by the conformance test).
    const TORCHVISION_PARAMS: &[(&str, usize)] = &[
        ("vit_b_16", 86_567_656),
        ("vit_b_32", 88_224_232),
        ("vit_l_16", 304_326_632),
        ("vit_l_32", 306_535_400),
        ("vit_h_14", 632_045_800),
    ];

    #[test]
    fn variants_build_with_torchvisions_parameter_counts() {
        let device = Default::default();
        assert_eq!(VARIANTS.len(), TORCHVISION_PARAMS.len());
        for &(id, params) in TORCHVISION_PARAMS {
            let model = config(id).unwrap().init::<B>(&device);
            assert_eq!(parameter_count(&model), params, "{id}");
        }
        // vit_b_16's SWAG end-to-end weights at 384: 24² + 1 positions.
        let swag = config("vit_b_16").unwrap().with_image_size(384).init::<B>(&device);
        assert_eq!(parameter_count(&swag), 86_859_496);
        assert!(config("vit_g_14").is_none());
    }

    #[test]
    fn small_forwards_at_the_configured_and_other_sizes() {
        let device = Default::default();
        let model = VitConfig::new(8, 2, 2, 16, 32).with_image_size(32).with_num_classes(10).init::<B>(&device);
        for (h, w) in [(32, 32), (48, 24), (8, 8), (37, 41)] {
            let x = Tensor::<B, 4>::random([2, 3, h, w], Distribution::Normal(0.0, 1.0), &device);
            let y = model.forward(x);
            assert_eq!(y.dims(), [2, 10], "{h}×{w}");
            let values = y.into_data().convert::<f32>().to_vec::<f32>().unwrap();
            assert!(values.iter().all(|v| v.is_finite()), "{values:?}");
        }
    }
}
