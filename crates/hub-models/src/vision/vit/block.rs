//! The transformer pieces of ViT, two of which Swin shares: the two-layer GELU MLP
//! ([`Mlp`], torchvision's `MLPBlock` and `torchvision.ops.MLP`, both keyed `mlp.0`/`mlp.3`) and
//! the split of a fused `[q | k | v]` projection into heads (`split_qkv`). ViT's own:
//! the encoder block (pre-norm self-attention and MLP, torchvision's `EncoderBlock`) and the
//! encoder (position embeddings, blocks, final LayerNorm).
//!
//! Inference only: dropout is the identity in eval mode and is left out.

use burn::module::{Initializer, Param};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

use crate::kernels::{self, Activation, Dense, WeightLayout};

/// The epsilon of every LayerNorm in torchvision's ViT.
pub const NORM_EPS: f64 = 1e-6;

/// `Linear(d, hidden)`, GELU (exact, erf), `Linear(hidden, d)`. PyTorch keys `mlp.0`, `mlp.3`
/// (`mlp.1` is the GELU, `mlp.2` and `mlp.4` the dropouts).
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    /// Expansion `d → hidden`, followed by GELU.
    pub fc1: Linear<B>,
    /// Projection `hidden → d`.
    pub fc2: Linear<B>,
}

impl<B: Backend> Mlp<B> {
    /// An MLP `d → hidden → d`.
    pub fn new(d: usize, hidden: usize, device: &B::Device) -> Self {
        Self { fc1: LinearConfig::new(d, hidden).init(device), fc2: LinearConfig::new(hidden, d).init(device) }
    }

    /// `fc2(GELU(fc1(x))) + residual`, each layer one fused [`kernels::dense`] pass.
    ///
    /// # Shapes
    /// - x: `[..., d]`; residual: the same
    /// - output: `[..., d]`
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>, residual: Option<Tensor<B, D>>) -> Tensor<B, D> {
        let h = kernels::linear(&self.fc1, x, Activation::Gelu);
        kernels::dense(&[Dense::of(&self.fc2)], h, residual, Activation::None)
    }
}

/// `[rows, len, 3·d]` (a fused `[q | k | v]` projection) → q, k, v as
/// `[rows, heads, len, d / heads]` views.
pub(crate) fn split_qkv<B: Backend>(qkv: Tensor<B, 3>, heads: usize) -> [Tensor<B, 4>; 3] {
    let [rows, len, d3] = qkv.dims();
    let d = d3 / 3;
    // [rows, len, 3, heads, hd] → [3, rows, heads, len, hd]
    let qkv = qkv.reshape([rows, len, 3, heads, d / heads]).permute([2, 0, 3, 1, 4]);
    let part = |i: usize| qkv.clone().narrow(0, i, 1).reshape([rows, heads, len, d / heads]);
    [part(0), part(1), part(2)]
}

/// PyTorch's `nn.MultiheadAttention` as ViT uses it (self-attention, batch first): one
/// `[3d, d]` input projection (`in_proj_weight`, `in_proj_bias`) and the output projection
/// `out_proj`. PyTorch keys: `self_attention.in_proj_weight` ...
#[derive(Module, Debug)]
pub struct SelfAttention<B: Backend> {
    /// `[3·d, d]` as PyTorch stores it (`[q; k; v]` rows).
    pub in_proj_weight: Param<Tensor<B, 2>>,
    /// `[3·d]`.
    pub in_proj_bias: Param<Tensor<B, 1>>,
    /// `d → d`.
    pub out_proj: Linear<B>,
    num_heads: usize,
}

impl<B: Backend> SelfAttention<B> {
    fn new(d: usize, num_heads: usize, device: &B::Device) -> Self {
        // PyTorch's init: xavier-uniform input projection, zero biases.
        Self {
            in_proj_weight: Initializer::XavierUniform { gain: 1.0 }.init_with([3 * d, d], Some(d), Some(3 * d), device),
            in_proj_bias: Initializer::Zeros.init([3 * d], device),
            out_proj: LinearConfig::new(d, d).init(device),
            num_heads,
        }
    }

    /// `out_proj(attention(x)) + residual`: the input projection as one fused pass, attention
    /// through [`kernels::attention`], the output projection fused with the residual.
    ///
    /// # Shapes
    /// - x, residual: `[batch, seq, d]`
    /// - output: `[batch, seq, d]`
    pub fn forward(&self, x: Tensor<B, 3>, residual: Tensor<B, 3>) -> Tensor<B, 3> {
        let projection = Dense { weight: self.in_proj_weight.val(), bias: Some(self.in_proj_bias.val()), layout: WeightLayout::OutIn };
        let qkv = kernels::dense(&[projection], x, None, Activation::None);
        let [q, k, v] = split_qkv(qkv, self.num_heads);
        let context = kernels::attention(q, k, v, None);
        kernels::dense(&[Dense::of(&self.out_proj)], context, Some(residual), Activation::None)
    }
}

/// torchvision's `EncoderBlock`: `x + attn(ln_1(x))`, then `y + mlp(ln_2(y))`. PyTorch keys:
/// `ln_1`, `self_attention`, `ln_2`, `mlp.{0,3}`.
#[derive(Module, Debug)]
pub struct EncoderBlock<B: Backend> {
    /// LayerNorm before the attention.
    pub ln_1: LayerNorm<B>,
    /// Multi-head self-attention.
    pub self_attention: SelfAttention<B>,
    /// LayerNorm before the MLP.
    pub ln_2: LayerNorm<B>,
    /// `d → mlp_dim → d`.
    pub mlp: Mlp<B>,
}

impl<B: Backend> EncoderBlock<B> {
    /// A block of width `d` with `num_heads` heads and an MLP of `mlp_dim`.
    pub fn new(d: usize, num_heads: usize, mlp_dim: usize, device: &B::Device) -> Self {
        Self {
            ln_1: LayerNormConfig::new(d).with_epsilon(NORM_EPS).init(device),
            self_attention: SelfAttention::new(d, num_heads, device),
            ln_2: LayerNormConfig::new(d).with_epsilon(NORM_EPS).init(device),
            mlp: Mlp::new(d, mlp_dim, device),
        }
    }

    /// # Shapes
    /// - x: `[batch, seq, d]`; output: the same
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let x = self.self_attention.forward(self.ln_1.forward(x.clone()), x);
        self.mlp.forward(self.ln_2.forward(x.clone()), Some(x))
    }
}

/// torchvision's `Encoder`: learned position embeddings (class token first, then the patches
/// row by row), the blocks, a final LayerNorm. PyTorch keys: `encoder.pos_embedding`,
/// `encoder.layers.encoder_layer_N`, `encoder.ln`.
#[derive(Module, Debug)]
pub struct Encoder<B: Backend> {
    /// `[1, 1 + grid², d]` for the configured `image_size` (`grid = image_size / patch_size`).
    pub pos_embedding: Param<Tensor<B, 3>>,
    /// The encoder blocks.
    pub layers: Vec<EncoderBlock<B>>,
    /// The final LayerNorm.
    pub ln: LayerNorm<B>,
}

impl<B: Backend> Encoder<B> {
    /// An encoder of `num_layers` blocks over `seq_length` tokens.
    pub fn new(seq_length: usize, num_layers: usize, d: usize, num_heads: usize, mlp_dim: usize, device: &B::Device) -> Self {
        Self {
            // torchvision: normal, std 0.02.
            pos_embedding: Initializer::Normal { mean: 0.0, std: 0.02 }.init([1, seq_length, d], device),
            layers: (0..num_layers).map(|_| EncoderBlock::new(d, num_heads, mlp_dim, device)).collect(),
            ln: LayerNormConfig::new(d).with_epsilon(NORM_EPS).init(device),
        }
    }

    /// The position embeddings for a `grid_h × grid_w` patch grid: the stored ones when the
    /// grid is the configured one, else the patch part resized bicubically with aligned corners
    /// (the class token's row is kept) — what torchvision's `interpolate_embeddings` does to a
    /// checkpoint before loading it into a model of another `image_size`, here done at run time
    /// and for any grid, square or not.
    ///
    /// # Shapes
    /// - output: `[1, 1 + grid_h·grid_w, d]`
    pub fn positions(&self, grid_h: usize, grid_w: usize) -> Tensor<B, 3> {
        let pos = self.pos_embedding.val();
        let [_, seq, d] = pos.dims();
        let side = (seq - 1).isqrt();
        if (side == grid_h && side == grid_w) || side * side != seq - 1 || side == 0 {
            // The configured grid, or (unreachable for a model built by its config) a stored
            // embedding that is not a square grid: used as it is, and the add will tell.
            return pos;
        }
        let token = pos.clone().narrow(1, 0, 1);
        // [1, side², d] → [1, d, side, side] → [1, d, grid_h, grid_w] → [1, grid_h·grid_w, d]
        let grid = pos.narrow(1, 1, side * side).swap_dims(1, 2).reshape([1, d, side, side]);
        let options = InterpolateOptions { mode: InterpolateMode::Bicubic, align_corners: true };
        let grid = interpolate(grid, [grid_h, grid_w], options).reshape([1, d, grid_h * grid_w]).swap_dims(1, 2);
        Tensor::cat(vec![token, grid], 1)
    }

    /// # Shapes
    /// - x: `[batch, 1 + grid_h·grid_w, d]` (class token first)
    /// - output: the same
    pub fn forward(&self, x: Tensor<B, 3>, grid_h: usize, grid_w: usize) -> Tensor<B, 3> {
        let x = x + self.positions(grid_h, grid_w);
        let x = self.layers.iter().fold(x, |x, block| block.forward(x));
        self.ln.forward(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::activation::{gelu, softmax};
    use burn::tensor::Distribution;

    type B = Flex;

    /// PyTorch's `nn.MultiheadAttention` forward written out with burn's ops.
    fn reference_attention(a: &SelfAttention<B>, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let [b, s, d] = x.dims();
        let w = a.in_proj_weight.val();
        let bias = a.in_proj_bias.val();
        let proj = |i: usize| {
            let wi = w.clone().narrow(0, i * d, d).transpose();
            x.clone().matmul(wi.unsqueeze()) + bias.clone().narrow(0, i * d, d).reshape([1, 1, d])
        };
        let heads = a.num_heads;
        let split = |t: Tensor<B, 3>| t.reshape([b, s, heads, d / heads]).swap_dims(1, 2);
        let (q, k, v) = (split(proj(0)), split(proj(1)), split(proj(2)));
        let scores = q.matmul(k.swap_dims(2, 3)) / ((d / heads) as f64).sqrt();
        let ctx = softmax(scores, 3).matmul(v).swap_dims(1, 2).reshape([b, s, d]);
        a.out_proj.forward(ctx)
    }

    #[test]
    fn block_matches_the_written_out_formula() {
        let device = Default::default();
        let block = EncoderBlock::<B>::new(16, 4, 24, &device);
        let x = Tensor::<B, 3>::random([2, 5, 16], Distribution::Normal(0.0, 1.0), &device);
        let y = x.clone() + reference_attention(&block.self_attention, block.ln_1.forward(x.clone()));
        let h = block.ln_2.forward(y.clone());
        let expected = y + block.mlp.fc2.forward(gelu(block.mlp.fc1.forward(h)));
        let got = block.forward(x);
        let diff: f32 = (got - expected).abs().max().into_scalar();
        assert!(diff < 1e-4, "{diff}");
    }

    #[test]
    fn positions_keep_the_configured_grid_and_resize_others() {
        let device = Default::default();
        let encoder = Encoder::<B>::new(1 + 9, 0, 4, 1, 8, &device);
        let stored = encoder.pos_embedding.val();
        let same: f32 = (encoder.positions(3, 3) - stored.clone()).abs().max().into_scalar();
        assert_eq!(same, 0.0);
        let other = encoder.positions(5, 2);
        assert_eq!(other.dims(), [1, 11, 4]);
        // The class token is kept; aligned corners keep the grid's corner values.
        let token: f32 = (other.clone().narrow(1, 0, 1) - stored.clone().narrow(1, 0, 1)).abs().max().into_scalar();
        assert_eq!(token, 0.0);
        let corner: f32 = (other.narrow(1, 1, 1) - stored.narrow(1, 1, 1)).abs().max().into_scalar();
        assert!(corner < 1e-6, "{corner}");
    }
}
