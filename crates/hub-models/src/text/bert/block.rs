//! The building blocks of BERT: embeddings, the encoder layer (self-attention, intermediate,
//! output), the pooler and the prediction heads' shared parts.
//!
//! Field names follow the `transformers` state-dict keys (`embeddings.word_embeddings`,
//! `encoder.layer.N.attention.output.dense`, ...) except `LayerNorm` → `layer_norm` and
//! `attention.self` → `attention.self_attention` (`self` is a Rust keyword); see
//! [`super::weights`]. Inference only: dropout is the identity in eval mode and is left out.

use burn::module::{Initializer, Param};
use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation;

use super::BertConfig;
use crate::kernels::{self, Dense};
use crate::text::{padding_mask, split_heads, Activation};

/// The weight initialisation of `transformers`' BERT (`initializer_range`, 0.02): normal
/// weights, zero biases. Only visible before weights are loaded.
pub(crate) fn linear(config: &BertConfig, d_in: usize, d_out: usize) -> LinearConfig {
    LinearConfig::new(d_in, d_out).with_initializer(Initializer::Normal {
        mean: 0.0,
        std: config.initializer_range,
    })
}

pub(crate) fn layer_norm<B: Backend>(config: &BertConfig, device: &B::Device) -> LayerNorm<B> {
    LayerNormConfig::new(config.hidden_size)
        .with_epsilon(config.layer_norm_eps)
        .init(device)
}

fn embedding<B: Backend>(config: &BertConfig, n: usize, device: &B::Device) -> Embedding<B> {
    EmbeddingConfig::new(n, config.hidden_size)
        .with_initializer(Initializer::Normal {
            mean: 0.0,
            std: config.initializer_range,
        })
        .init(device)
}

/// Word, position and token-type embeddings, summed and layer-normalised.
#[derive(Module, Debug)]
pub struct BertEmbeddings<B: Backend> {
    /// `[vocab_size, hidden]` (also the tied weight of the masked-LM decoder).
    pub word_embeddings: Embedding<B>,
    /// `[max_position_embeddings, hidden]`.
    pub position_embeddings: Embedding<B>,
    /// `[type_vocab_size, hidden]`.
    pub token_type_embeddings: Embedding<B>,
    /// Normalisation of the sum (`LayerNorm` in the checkpoint).
    pub layer_norm: LayerNorm<B>,
}

impl<B: Backend> BertEmbeddings<B> {
    pub(crate) fn new(config: &BertConfig, device: &B::Device) -> Self {
        Self {
            word_embeddings: embedding(config, config.vocab_size, device),
            position_embeddings: embedding(config, config.max_position_embeddings, device),
            token_type_embeddings: embedding(config, config.type_vocab_size, device),
            layer_norm: layer_norm(config, device),
        }
    }

    /// # Shapes
    /// - input_ids, token_type_ids: `[batch, seq]` (`seq` ≤ `max_position_embeddings`)
    /// - output: `[batch, seq, hidden]`
    pub fn forward(
        &self,
        input_ids: Tensor<B, 2, Int>,
        token_type_ids: Option<Tensor<B, 2, Int>>,
    ) -> Tensor<B, 3> {
        let [batch, seq] = input_ids.dims();
        let device = input_ids.device();
        let positions = Tensor::<B, 1, Int>::arange(0..seq as i64, &device).reshape([1, seq]);
        let token_type_ids = token_type_ids.unwrap_or_else(|| Tensor::zeros([batch, seq], &device));
        let x = self.word_embeddings.forward(input_ids)
            + self.token_type_embeddings.forward(token_type_ids)
            + self.position_embeddings.forward(positions);
        self.layer_norm.forward(x)
    }
}

/// Multi-head self-attention projections (`attention.self` in the checkpoint).
#[derive(Module, Debug)]
pub struct BertSelfAttention<B: Backend> {
    /// Query projection.
    pub query: Linear<B>,
    /// Key projection.
    pub key: Linear<B>,
    /// Value projection.
    pub value: Linear<B>,
    num_heads: usize,
}

/// Dense projection, residual connection and layer norm after a sub-layer
/// (`attention.output` and `output` in the checkpoint).
#[derive(Module, Debug)]
pub struct BertResidualOutput<B: Backend> {
    /// Projection back to `hidden`.
    pub dense: Linear<B>,
    /// Normalisation of `dense(x) + residual`.
    pub layer_norm: LayerNorm<B>,
}

impl<B: Backend> BertResidualOutput<B> {
    /// # Shapes
    /// - x: `[batch, seq, d_in]`, residual: `[batch, seq, hidden]`
    /// - output: `[batch, seq, hidden]`
    pub fn forward(&self, x: Tensor<B, 3>, residual: Tensor<B, 3>) -> Tensor<B, 3> {
        let y = kernels::dense(&[Dense::of(&self.dense)], x, Some(residual), kernels::Activation::None);
        self.layer_norm.forward(y)
    }
}

/// Self-attention followed by its output projection.
#[derive(Module, Debug)]
pub struct BertAttention<B: Backend> {
    /// `attention.self`.
    pub self_attention: BertSelfAttention<B>,
    /// `attention.output`.
    pub output: BertResidualOutput<B>,
}

/// The feed-forward expansion (`intermediate.dense` + activation).
#[derive(Module, Debug)]
pub struct BertIntermediate<B: Backend> {
    /// `hidden → intermediate_size`.
    pub dense: Linear<B>,
    activation: Activation,
}

/// One transformer encoder layer.
#[derive(Module, Debug)]
pub struct BertLayer<B: Backend> {
    /// Self-attention block.
    pub attention: BertAttention<B>,
    /// Feed-forward expansion.
    pub intermediate: BertIntermediate<B>,
    /// Feed-forward projection back, residual and norm.
    pub output: BertResidualOutput<B>,
}

impl<B: Backend> BertLayer<B> {
    pub(crate) fn new(config: &BertConfig, device: &B::Device) -> Self {
        let h = config.hidden_size;
        let residual = |d_in| BertResidualOutput {
            dense: linear(config, d_in, h).init(device),
            layer_norm: layer_norm(config, device),
        };
        Self {
            attention: BertAttention {
                self_attention: BertSelfAttention {
                    query: linear(config, h, h).init(device),
                    key: linear(config, h, h).init(device),
                    value: linear(config, h, h).init(device),
                    num_heads: config.num_attention_heads,
                },
                output: residual(h),
            },
            intermediate: BertIntermediate {
                dense: linear(config, h, config.intermediate_size).init(device),
                activation: config.hidden_act,
            },
            output: residual(config.intermediate_size),
        }
    }

    /// # Shapes
    /// - x: `[batch, seq, hidden]`
    /// - mask: `[batch, 1, 1, seq]`, `true` on padding keys
    /// - output: `[batch, seq, hidden]`
    pub fn forward(&self, x: Tensor<B, 3>, mask: Option<Tensor<B, 4, Bool>>) -> Tensor<B, 3> {
        let attn = &self.attention.self_attention;
        let heads = attn.num_heads;
        let h = x.dims()[2];
        // Query, key and value as one projection: [q | k | v] along the last dimension.
        let qkv = kernels::dense(
            &[Dense::of(&attn.query), Dense::of(&attn.key), Dense::of(&attn.value)],
            x.clone(),
            None,
            kernels::Activation::None,
        );
        let q = split_heads(qkv.clone().narrow(2, 0, h), heads);
        let k = split_heads(qkv.clone().narrow(2, h, h), heads);
        let v = split_heads(qkv.narrow(2, 2 * h, h), heads);
        let context = kernels::attention(q, k, v, mask);
        let x = self.attention.output.forward(context, x);
        let hidden = self.intermediate.activation.dense(&self.intermediate.dense, x.clone());
        self.output.forward(hidden, x)
    }
}

/// The stack of encoder layers (`encoder.layer.N`).
#[derive(Module, Debug)]
pub struct BertEncoder<B: Backend> {
    /// `num_hidden_layers` layers.
    pub layer: Vec<BertLayer<B>>,
}

impl<B: Backend> BertEncoder<B> {
    /// # Shapes
    /// - x: `[batch, seq, hidden]`
    /// - attention_mask: `[batch, seq]`, 1 for tokens and 0 for padding
    /// - output: `[batch, seq, hidden]`
    pub fn forward(
        &self,
        mut x: Tensor<B, 3>,
        attention_mask: Option<Tensor<B, 2, Int>>,
    ) -> Tensor<B, 3> {
        let mask = attention_mask.map(padding_mask);
        for layer in &self.layer {
            x = layer.forward(x, mask.clone());
        }
        x
    }
}

/// `tanh(dense(h[:, 0]))`: the `[CLS]` summary used by the sentence-level heads.
#[derive(Module, Debug)]
pub struct BertPooler<B: Backend> {
    /// `hidden → hidden`.
    pub dense: Linear<B>,
}

impl<B: Backend> BertPooler<B> {
    /// # Shapes
    /// - hidden: `[batch, seq, hidden]`
    /// - output: `[batch, hidden]`
    pub fn forward(&self, hidden: Tensor<B, 3>) -> Tensor<B, 2> {
        let [batch, _, h] = hidden.dims();
        let first = hidden.narrow(1, 0, 1).reshape([batch, h]);
        activation::tanh(self.dense.forward(first))
    }
}

/// Dense + activation + layer norm before the vocabulary projection
/// (`cls.predictions.transform`).
#[derive(Module, Debug)]
pub struct BertPredictionHeadTransform<B: Backend> {
    /// `hidden → hidden`.
    pub dense: Linear<B>,
    /// Normalisation after the activation.
    pub layer_norm: LayerNorm<B>,
    activation: Activation,
}

/// The masked-LM head (`cls.predictions`): transform, then a projection onto the vocabulary
/// whose weight is the word-embedding matrix (tied, as in every `transformers` BERT) plus a
/// bias of its own.
#[derive(Module, Debug)]
pub struct BertLmPredictionHead<B: Backend> {
    /// `cls.predictions.transform`.
    pub transform: BertPredictionHeadTransform<B>,
    /// `cls.predictions.bias`, `[vocab_size]`.
    pub bias: Param<Tensor<B, 1>>,
}

impl<B: Backend> BertLmPredictionHead<B> {
    pub(crate) fn new(config: &BertConfig, device: &B::Device) -> Self {
        let h = config.hidden_size;
        Self {
            transform: BertPredictionHeadTransform {
                dense: linear(config, h, h).init(device),
                layer_norm: layer_norm(config, device),
                activation: config.hidden_act,
            },
            bias: Initializer::Zeros.init([config.vocab_size], device),
        }
    }

    /// # Shapes
    /// - hidden: `[batch, seq, hidden]`; word_embeddings: `[vocab_size, hidden]`
    /// - output: `[batch, seq, vocab_size]` (logits)
    pub fn forward(&self, hidden: Tensor<B, 3>, word_embeddings: Tensor<B, 2>) -> Tensor<B, 3> {
        let t = &self.transform;
        let x = t
            .layer_norm
            .forward(t.activation.forward(t.dense.forward(hidden)));
        let vocab = self.bias.dims()[0];
        crate::text::project_tied(x, word_embeddings) + self.bias.val().reshape([1, 1, vocab])
    }
}
