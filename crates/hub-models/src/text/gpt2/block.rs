//! The building blocks of GPT-2: `Conv1D` projections, causal self-attention with a key/value
//! cache, the MLP and the pre-norm transformer block.
//!
//! Field names are the `transformers` state-dict keys (`h.N.ln_1`, `h.N.attn.c_attn`, ...).
//! Inference only: dropout is the identity in eval mode and is left out.

use burn::module::{Initializer, Param};
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::prelude::*;

use super::Gpt2Config;
use crate::kernels::{self, Dense};
use crate::text::{split_heads, Activation};

/// GPT-2's `Conv1D`: a fully connected layer whose weight is stored `[in, out]` (the transpose
/// of `nn.Linear`'s), i.e. already in burn's `Linear` layout.
///
/// A module of its own rather than a burn `Linear`, so that burn-store's PyTorch adapter, which
/// transposes the weight of every `Linear`, leaves this one as it is in the checkpoint.
#[derive(Module, Debug)]
pub struct Conv1D<B: Backend> {
    /// `[in, out]`.
    pub weight: Param<Tensor<B, 2>>,
    /// `[out]`.
    pub bias: Param<Tensor<B, 1>>,
}

impl<B: Backend> Conv1D<B> {
    /// A layer initialised like `transformers` (normal weights with `std`, zero bias).
    pub fn new(d_in: usize, d_out: usize, std: f64, device: &B::Device) -> Self {
        Self {
            weight: Initializer::Normal { mean: 0.0, std }.init([d_in, d_out], device),
            bias: Initializer::Zeros.init([d_out], device),
        }
    }

    /// # Shapes
    /// - x: `[batch, seq, in]`
    /// - output: `[batch, seq, out]`
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        self.forward_add(x, None)
    }

    /// `x · weight + bias + residual` (the residual add fused on flex).
    ///
    /// # Shapes
    /// - x: `[batch, seq, in]`; residual: `[batch, seq, out]`
    /// - output: `[batch, seq, out]`
    pub fn forward_add(&self, x: Tensor<B, 3>, residual: Option<Tensor<B, 3>>) -> Tensor<B, 3> {
        kernels::dense(&[self.dense()], x, residual, kernels::Activation::None)
    }

    fn dense(&self) -> Dense<B> {
        Dense { weight: self.weight.val(), bias: Some(self.bias.val()), layout: kernels::WeightLayout::InOut }
    }
}

/// Keys and values of the positions seen so far, per layer: what lets each generation step
/// run on the new token only.
#[derive(Debug, Clone)]
pub struct KvCache<B: Backend> {
    layers: Vec<Option<(Tensor<B, 4>, Tensor<B, 4>)>>,
}

impl<B: Backend> KvCache<B> {
    /// An empty cache for `layers` layers.
    pub fn new(layers: usize) -> Self {
        Self {
            layers: vec![None; layers],
        }
    }

    /// The number of cached positions.
    pub fn len(&self) -> usize {
        self.layers
            .first()
            .and_then(Option::as_ref)
            .map_or(0, |(k, _)| k.dims()[2])
    }

    /// `true` before the first forward pass.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends this step's keys and values to layer `layer` and returns all of them.
    fn extend(
        &mut self,
        layer: usize,
        k: Tensor<B, 4>,
        v: Tensor<B, 4>,
    ) -> (Tensor<B, 4>, Tensor<B, 4>) {
        let (k, v) = match self.layers[layer].take() {
            Some((pk, pv)) => (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2)),
            None => (k, v),
        };
        self.layers[layer] = Some((k.clone(), v.clone()));
        (k, v)
    }
}

/// Causal multi-head self-attention with a fused query/key/value projection.
#[derive(Module, Debug)]
pub struct Gpt2Attention<B: Backend> {
    /// `n_embd → 3·n_embd`: queries, keys and values side by side.
    pub c_attn: Conv1D<B>,
    /// `n_embd → n_embd`.
    pub c_proj: Conv1D<B>,
    n_head: usize,
}

impl<B: Backend> Gpt2Attention<B> {
    /// # Shapes
    /// - x: `[batch, seq, n_embd]`
    /// - mask: `[batch, 1, seq, past + seq]`, `true` where attention is not allowed
    /// - output: `[batch, seq, n_embd]`
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        mask: Tensor<B, 4, Bool>,
        cache: Option<(&mut KvCache<B>, usize)>,
    ) -> Tensor<B, 3> {
        self.forward_add(x, mask, cache, None)
    }

    /// [`Self::forward`] with `residual` added to the output (fused into the projection on flex).
    ///
    /// # Shapes
    /// - as [`Self::forward`]; residual: `[batch, seq, n_embd]`
    pub fn forward_add(
        &self,
        x: Tensor<B, 3>,
        mask: Tensor<B, 4, Bool>,
        cache: Option<(&mut KvCache<B>, usize)>,
        residual: Option<Tensor<B, 3>>,
    ) -> Tensor<B, 3> {
        let d = x.dims()[2];
        // The fused projection's output is [q | k | v] along the last dimension.
        let qkv = self.c_attn.forward(x);
        let q = split_heads(qkv.clone().narrow(2, 0, d), self.n_head);
        let mut k = split_heads(qkv.clone().narrow(2, d, d), self.n_head);
        let mut v = split_heads(qkv.narrow(2, 2 * d, d), self.n_head);
        if let Some((cache, layer)) = cache {
            (k, v) = cache.extend(layer, k, v);
        }
        self.c_proj.forward_add(kernels::attention(q, k, v, Some(mask)), residual)
    }
}

/// The feed-forward network: `c_proj(act(c_fc(x)))`.
#[derive(Module, Debug)]
pub struct Gpt2Mlp<B: Backend> {
    /// `n_embd → n_inner`.
    pub c_fc: Conv1D<B>,
    /// `n_inner → n_embd`.
    pub c_proj: Conv1D<B>,
    activation: Activation,
}

/// A pre-norm transformer block: `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`.
#[derive(Module, Debug)]
pub struct Gpt2Block<B: Backend> {
    /// Norm before attention.
    pub ln_1: LayerNorm<B>,
    /// Causal self-attention.
    pub attn: Gpt2Attention<B>,
    /// Norm before the MLP.
    pub ln_2: LayerNorm<B>,
    /// Feed-forward network.
    pub mlp: Gpt2Mlp<B>,
}

impl<B: Backend> Gpt2Block<B> {
    pub(crate) fn new(config: &Gpt2Config, device: &B::Device) -> Self {
        let d = config.n_embd;
        let inner = config.inner_size();
        let std = config.initializer_range;
        // transformers scales the residual projections' init by 1/sqrt(2·n_layer).
        let proj_std = std / (2.0 * config.n_layer as f64).sqrt();
        let norm = || {
            LayerNormConfig::new(d)
                .with_epsilon(config.layer_norm_epsilon)
                .init(device)
        };
        Self {
            ln_1: norm(),
            attn: Gpt2Attention {
                c_attn: Conv1D::new(d, 3 * d, std, device),
                c_proj: Conv1D::new(d, d, proj_std, device),
                n_head: config.n_head,
            },
            ln_2: norm(),
            mlp: Gpt2Mlp {
                c_fc: Conv1D::new(d, inner, std, device),
                c_proj: Conv1D::new(inner, d, proj_std, device),
                activation: config.activation_function,
            },
        }
    }

    /// # Shapes
    /// - x: `[batch, seq, n_embd]`; mask: `[batch, 1, seq, past + seq]`
    /// - output: `[batch, seq, n_embd]`
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        mask: Tensor<B, 4, Bool>,
        cache: Option<(&mut KvCache<B>, usize)>,
    ) -> Tensor<B, 3> {
        let x = self.attn.forward_add(self.ln_1.forward(x.clone()), mask, cache, Some(x));
        let h = self.mlp.activation.dense_parts(self.mlp.c_fc.dense(), self.ln_2.forward(x.clone()));
        self.mlp.c_proj.forward_add(h, Some(x))
    }
}
