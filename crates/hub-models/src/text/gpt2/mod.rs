//! GPT-2, from "Language Models are Unsupervised Multitask Learners" (Radford et al., 2019,
//! <https://openai.com/research/better-language-models>); a port of `transformers`'
//! `models/gpt2/modeling_gpt2.py` (eval mode, no cross-attention).
//!
//! [`Gpt2Model`] is the decoder stack (field `transformer` of the task models, as in
//! `transformers`); [`Gpt2LmHeadModel`] adds the language-model head, tied to the token
//! embeddings, and implements [`CausalLm`] for [`crate::text::generation`];
//! [`Gpt2DoubleHeadsModel`] adds the multiple-choice head of the GPT-2 paper's fine-tuning setup;
//! [`Gpt2ForSequenceClassification`] scores the last token of each sequence.
//!
//! ```no_run
//! use burn::backend::Flex;
//! use hub_models::text::generation::{generate, GenerationConfig};
//! use hub_models::text::gpt2::Gpt2Config;
//! use hub_models::text::HfModule;
//!
//! let device = Default::default();
//! let config = Gpt2Config::from_file("config.json")?;
//! let (model, _) = config.init_lm_head::<Flex>(&device).load_weights("model.safetensors")?;
//! let prompt = [464, 2068, 7586, 21831]; // token ids
//! let tokens = generate(&model, &prompt, &GenerationConfig::greedy(32), |_token| true)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod block;
pub mod weights;

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Initializer;
use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation;
use serde::{Deserialize, Deserializer, Serialize};

use crate::import::ImportOptions;
use crate::text::generation::CausalLm;
use crate::text::{project_tied, read_config, Activation, ConfigError, HfModule};
use block::{Gpt2Block, KvCache};

/// The variant table: Hugging Face id, `n_embd`, `n_layer`, `n_head` (vocabulary 50257,
/// 1024 positions).
const TABLE: &[(&str, usize, usize, usize)] = &[
    ("gpt2", 768, 12, 12),
    ("gpt2-medium", 1024, 24, 16),
    ("gpt2-large", 1280, 36, 20),
    ("gpt2-xl", 1600, 48, 25),
    ("distilgpt2", 768, 6, 12),
];

/// The model ids whose configuration [`config`] knows.
pub const VARIANTS: &[&str] = &["gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "distilgpt2"];

/// The configuration of a known model id (with or without the `openai-community/` or
/// `distilbert/` organisation), or `None`.
pub fn config(id: &str) -> Option<Gpt2Config> {
    let id = id.rsplit('/').next().unwrap_or(id);
    TABLE
        .iter()
        .find(|row| row.0 == id)
        .map(|&(_, n_embd, n_layer, n_head)| Gpt2Config {
            n_embd,
            n_layer,
            n_head,
            ..Gpt2Config::default()
        })
}

/// GPT-2 hyper-parameters with the field names and defaults of `transformers.GPT2Config`, so a
/// Hugging Face `config.json` deserialises directly (unknown fields are ignored). A plain serde
/// struct for the reason given on [`crate::text::bert::BertConfig`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Gpt2Config {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Longest sequence (rows of the position embedding).
    pub n_positions: usize,
    /// Width of the hidden states.
    pub n_embd: usize,
    /// Number of blocks.
    pub n_layer: usize,
    /// Attention heads per block (divides `n_embd`).
    pub n_head: usize,
    /// Width of the MLP; `4·n_embd` when `None`.
    pub n_inner: Option<usize>,
    /// Activation of the MLP.
    pub activation_function: Activation,
    /// LayerNorm epsilon.
    pub layer_norm_epsilon: f64,
    /// Standard deviation of the random initialisation (before weights are loaded).
    pub initializer_range: f64,
    /// Divide attention scores by `sqrt(head_dim)`; must be `true`.
    pub scale_attn_weights: bool,
    /// Extra `1/(layer+1)` score scaling; must be `false`.
    pub scale_attn_by_inverse_layer_idx: bool,
    /// Cross-attention (encoder-decoder use); must be `false`.
    pub add_cross_attention: bool,
    /// The language-model head shares the token embeddings; must be `true`.
    pub tie_word_embeddings: bool,
    /// Beginning-of-text token.
    #[serde(deserialize_with = "one_or_many")]
    pub bos_token_id: Vec<u32>,
    /// End-of-text token(s): generation stops on any of them.
    #[serde(deserialize_with = "one_or_many")]
    pub eos_token_id: Vec<u32>,
    /// Multiple-choice head: which hidden state summarises a sequence (`"cls_index"`,
    /// `"last"`, `"first"`, `"mean"`).
    pub summary_type: String,
    /// Multiple-choice head: project the summary (`true` in every released model).
    pub summary_use_proj: bool,
    /// Multiple-choice head: `"tanh"` or none.
    pub summary_activation: Option<String>,
    /// Padding token: without an attention mask, the sequence classifier reads the last token
    /// that is not this one.
    pub pad_token_id: Option<u32>,
    /// Label names of the sequence classifier (their count is the number of labels).
    pub id2label: Option<BTreeMap<String, String>>,
    /// Number of labels when `id2label` is absent.
    pub num_labels: Option<usize>,
}

/// A token id given as a number, a list or `null` in `config.json`.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ids {
        One(u32),
        Many(Vec<u32>),
    }
    Ok(match Option::<Ids>::deserialize(d)? {
        None => Vec::new(),
        Some(Ids::One(id)) => vec![id],
        Some(Ids::Many(ids)) => ids,
    })
}

impl Default for Gpt2Config {
    fn default() -> Self {
        Self {
            vocab_size: 50257,
            n_positions: 1024,
            n_embd: 768,
            n_layer: 12,
            n_head: 12,
            n_inner: None,
            activation_function: Activation::GeluNew,
            layer_norm_epsilon: 1e-5,
            initializer_range: 0.02,
            scale_attn_weights: true,
            scale_attn_by_inverse_layer_idx: false,
            add_cross_attention: false,
            tie_word_embeddings: true,
            bos_token_id: vec![50256],
            eos_token_id: vec![50256],
            summary_type: "cls_index".to_string(),
            summary_use_proj: true,
            summary_activation: None,
            pad_token_id: None,
            id2label: None,
            num_labels: None,
        }
    }
}

impl Gpt2Config {
    /// Reads and checks a Hugging Face `config.json`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let config: Self = read_config(path.as_ref())?;
        config.validate()?;
        Ok(config)
    }

    /// Checks that this port implements what the configuration asks for.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let unsupported = |field, value: &dyn ToString, reason| {
            Err(ConfigError::Unsupported {
                field,
                value: value.to_string(),
                reason,
            })
        };
        use crate::registry::config::limits;
        use crate::text::bert::{check_parameters, check_size};
        let sizes: [(&'static str, usize, usize); 6] = [
            ("vocab_size", self.vocab_size, limits::MAX_VOCAB),
            ("n_positions", self.n_positions, limits::MAX_POSITIONS),
            ("n_embd", self.n_embd, limits::MAX_HIDDEN),
            ("n_layer", self.n_layer.max(1), limits::MAX_LAYERS),
            ("n_head", self.n_head, limits::MAX_HEADS),
            ("num_labels", self.labels(), limits::MAX_CLASSES),
        ];
        for (field, value, max) in sizes {
            check_size(field, value, max)?;
        }
        if let Some(inner) = self.n_inner {
            check_size("n_inner", inner, limits::MAX_INTERMEDIATE)?;
        }
        let (v, h, i) = (self.vocab_size as u128, self.n_embd as u128, self.inner_size() as u128);
        let extra = (self.n_positions + self.labels()) as u128;
        let params = (v + extra) * h + self.n_layer as u128 * (4 * h * h + 2 * h * i + 9 * h + i) + h * h + 4 * h;
        check_parameters(params)?;
        let ids = [("bos_token_id", &self.bos_token_id[..]), ("eos_token_id", &self.eos_token_id[..]), ("pad_token_id", self.pad_token_id.as_slice())];
        for (field, ids) in ids {
            if let Some(id) = ids.iter().find(|&&id| id as usize >= self.vocab_size) {
                return unsupported(field, id, "a token id must be below vocab_size");
            }
        }
        if self.n_head == 0 || !self.n_embd.is_multiple_of(self.n_head) {
            return unsupported("n_head", &self.n_head, "must divide n_embd");
        }
        if !self.scale_attn_weights {
            return unsupported(
                "scale_attn_weights",
                &false,
                "only scaled attention is implemented",
            );
        }
        if self.scale_attn_by_inverse_layer_idx {
            return unsupported(
                "scale_attn_by_inverse_layer_idx",
                &true,
                "per-layer score scaling is not implemented",
            );
        }
        if self.add_cross_attention {
            return unsupported(
                "add_cross_attention",
                &true,
                "cross-attention is not implemented",
            );
        }
        if !self.tie_word_embeddings {
            return unsupported(
                "tie_word_embeddings",
                &false,
                "the language-model head is always the token embedding matrix",
            );
        }
        if !["cls_index", "last", "first", "mean"].contains(&self.summary_type.as_str()) {
            return unsupported(
                "summary_type",
                &self.summary_type,
                "one of cls_index, last, first, mean",
            );
        }
        if let Some(act) = &self.summary_activation {
            if act != "tanh" {
                return unsupported("summary_activation", act, "tanh or none");
            }
        }
        Ok(())
    }

    /// The number of labels of the sequence classifier: `len(id2label)`, else `num_labels`,
    /// else 2 (the `transformers` default).
    pub fn labels(&self) -> usize {
        self.id2label
            .as_ref()
            .map(BTreeMap::len)
            .or(self.num_labels)
            .unwrap_or(2)
    }

    /// Sets the number of labels of the sequence classifier (dropping any label names).
    pub fn with_num_labels(mut self, num_labels: usize) -> Self {
        self.num_labels = Some(num_labels);
        self.id2label = None;
        self
    }

    /// The width of the MLP (`n_inner`, default `4·n_embd`).
    pub fn inner_size(&self) -> usize {
        self.n_inner.unwrap_or(4 * self.n_embd)
    }

    /// The decoder stack (`GPT2Model`).
    pub fn init<B: Backend>(&self, device: &B::Device) -> Gpt2Model<B> {
        let init = Initializer::Normal {
            mean: 0.0,
            std: self.initializer_range,
        };
        Gpt2Model {
            wte: EmbeddingConfig::new(self.vocab_size, self.n_embd)
                .with_initializer(init.clone())
                .init(device),
            // transformers initialises wpe like wte (normal, initializer_range).
            wpe: EmbeddingConfig::new(self.n_positions, self.n_embd)
                .with_initializer(init)
                .init(device),
            h: (0..self.n_layer)
                .map(|_| Gpt2Block::new(self, device))
                .collect(),
            ln_f: LayerNormConfig::new(self.n_embd)
                .with_epsilon(self.layer_norm_epsilon)
                .init(device),
            eos_token_id: self.eos_token_id.clone(),
        }
    }

    /// `GPT2LMHeadModel`.
    pub fn init_lm_head<B: Backend>(&self, device: &B::Device) -> Gpt2LmHeadModel<B> {
        Gpt2LmHeadModel {
            transformer: self.init(device),
        }
    }

    /// `GPT2DoubleHeadsModel` (language model + multiple-choice classifier).
    pub fn init_double_heads<B: Backend>(&self, device: &B::Device) -> Gpt2DoubleHeadsModel<B> {
        let d_out = if self.summary_use_proj {
            1
        } else {
            self.n_embd
        };
        Gpt2DoubleHeadsModel {
            transformer: self.init(device),
            multiple_choice_head: SequenceSummary {
                summary: self.summary_use_proj.then(|| {
                    LinearConfig::new(self.n_embd, d_out)
                        .with_initializer(Initializer::Normal {
                            mean: 0.0,
                            std: self.initializer_range,
                        })
                        .init(device)
                }),
                summary_type: self.summary_type.clone(),
                tanh: self.summary_activation.is_some(),
            },
        }
    }

    /// `GPT2ForSequenceClassification` with [`Self::labels`] outputs.
    pub fn init_sequence_classification<B: Backend>(
        &self,
        device: &B::Device,
    ) -> Gpt2ForSequenceClassification<B> {
        Gpt2ForSequenceClassification {
            transformer: self.init(device),
            score: LinearConfig::new(self.n_embd, self.labels())
                .with_bias(false)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: self.initializer_range,
                })
                .init(device),
            pad_token_id: self.pad_token_id,
        }
    }
}

/// The inputs of a GPT-2 forward pass.
#[derive(Debug, Clone)]
pub struct Gpt2Input<B: Backend> {
    /// Token ids, `[batch, seq]`.
    pub input_ids: Tensor<B, 2, Int>,
    /// 1 for tokens, 0 for padding, `[batch, past + seq]` (covering the cached positions too);
    /// all tokens when `None`.
    pub attention_mask: Option<Tensor<B, 2, Int>>,
    /// Positions, `[batch, seq]`; `past..past + seq` when `None` (as `transformers` does when
    /// it is not given; for left-padded batches pass `cumsum(mask) - 1`).
    pub position_ids: Option<Tensor<B, 2, Int>>,
}

impl<B: Backend> Gpt2Input<B> {
    /// Token ids only.
    pub fn new(input_ids: Tensor<B, 2, Int>) -> Self {
        Self {
            input_ids,
            attention_mask: None,
            position_ids: None,
        }
    }

    /// Sets the padding mask.
    pub fn with_attention_mask(mut self, attention_mask: Tensor<B, 2, Int>) -> Self {
        self.attention_mask = Some(attention_mask);
        self
    }

    /// Sets explicit positions.
    pub fn with_position_ids(mut self, position_ids: Tensor<B, 2, Int>) -> Self {
        self.position_ids = Some(position_ids);
        self
    }
}

/// The GPT-2 decoder stack (`transformers.GPT2Model`).
#[derive(Module, Debug)]
pub struct Gpt2Model<B: Backend> {
    /// Token embeddings, `[vocab_size, n_embd]` (also the language-model head).
    pub wte: Embedding<B>,
    /// Position embeddings, `[n_positions, n_embd]`.
    pub wpe: Embedding<B>,
    /// The blocks.
    pub h: Vec<Gpt2Block<B>>,
    /// Final norm.
    pub ln_f: LayerNorm<B>,
    eos_token_id: Vec<u32>,
}

impl<B: Backend> Gpt2Model<B> {
    /// An empty key/value cache for this model.
    pub fn new_cache(&self) -> KvCache<B> {
        KvCache::new(self.h.len())
    }

    /// The number of positions the model can attend over.
    pub fn max_positions(&self) -> usize {
        self.wpe.weight.dims()[0]
    }

    /// Runs the stack on `input`; with a cache, the input continues the cached positions and
    /// its keys and values are appended to the cache.
    ///
    /// # Shapes
    /// - input: `[batch, seq]` ids; the mask covers `past + seq` positions
    /// - output: `[batch, seq, n_embd]` (after the final norm)
    ///
    /// # Panics
    /// When `past + seq` exceeds `n_positions` (no position embedding exists for it).
    pub fn forward(&self, input: Gpt2Input<B>, mut cache: Option<&mut KvCache<B>>) -> Tensor<B, 3> {
        let [batch, seq] = input.input_ids.dims();
        let device = input.input_ids.device();
        let past = cache.as_ref().map_or(0, |c| c.len());
        let total = past + seq;
        let positions = input.position_ids.unwrap_or_else(|| {
            Tensor::<B, 1, Int>::arange(past as i64..total as i64, &device).reshape([1, seq])
        });
        let mut x = self.wte.forward(input.input_ids) + self.wpe.forward(positions);

        // Query i (absolute position past + i) may see keys 0..=past + i.
        let causal = Tensor::<B, 2, Bool>::tril_mask([seq, total], past as i64, &device)
            .reshape([1, 1, seq, total]);
        let mask = match input.attention_mask {
            Some(m) => causal.expand([batch, 1, seq, total]).bool_or(
                m.equal_elem(0)
                    .reshape([batch, 1, 1, total])
                    .expand([batch, 1, seq, total]),
            ),
            None => causal.expand([batch, 1, seq, total]),
        };
        for (i, block) in self.h.iter().enumerate() {
            let layer_cache = cache.as_deref_mut().map(|c| (c, i));
            x = block.forward(x, mask.clone(), layer_cache);
        }
        self.ln_f.forward(x)
    }
}

/// GPT-2 with its language-model head (the token embedding matrix, tied).
#[derive(Module, Debug)]
pub struct Gpt2LmHeadModel<B: Backend> {
    /// The decoder stack.
    pub transformer: Gpt2Model<B>,
}

impl<B: Backend> Gpt2LmHeadModel<B> {
    /// # Shapes
    /// - input: `[batch, seq]`
    /// - output: `[batch, seq, vocab_size]` next-token logits
    pub fn forward(&self, input: Gpt2Input<B>, cache: Option<&mut KvCache<B>>) -> Tensor<B, 3> {
        let hidden = self.transformer.forward(input, cache);
        project_tied(hidden, self.transformer.wte.weight.val())
    }
}

impl<B: Backend> CausalLm<B> for Gpt2LmHeadModel<B> {
    type Cache = KvCache<B>;

    fn new_cache(&self) -> KvCache<B> {
        self.transformer.new_cache()
    }

    fn max_positions(&self) -> usize {
        self.transformer.max_positions()
    }

    fn eos_token_ids(&self) -> &[u32] {
        &self.transformer.eos_token_id
    }

    fn device(&self) -> B::Device {
        self.transformer.wte.weight.device()
    }

    fn next_token_logits(
        &self,
        input_ids: Tensor<B, 2, Int>,
        cache: &mut KvCache<B>,
    ) -> Tensor<B, 2> {
        self.last_logits(Gpt2Input::new(input_ids), cache)
    }

    fn next_token_logits_masked(
        &self,
        input_ids: Tensor<B, 2, Int>,
        attention_mask: Tensor<B, 2, Int>,
        position_ids: Tensor<B, 2, Int>,
        cache: &mut KvCache<B>,
    ) -> Tensor<B, 2> {
        let input = Gpt2Input::new(input_ids)
            .with_attention_mask(attention_mask)
            .with_position_ids(position_ids);
        self.last_logits(input, cache)
    }
}

impl<B: Backend> Gpt2LmHeadModel<B> {
    /// The vocabulary size.
    pub fn vocab_size(&self) -> usize {
        self.transformer.wte.weight.dims()[0]
    }

    /// The logits of the token after the last input position, continuing `cache`.
    ///
    /// # Shapes
    /// - input: `[batch, seq]` ids (mask `[batch, past + seq]`, positions `[batch, seq]`)
    /// - output: `[batch, vocab_size]`
    fn last_logits(&self, input: Gpt2Input<B>, cache: &mut KvCache<B>) -> Tensor<B, 2> {
        let hidden = self.transformer.forward(input, Some(cache));
        let [batch, seq, _] = hidden.dims();
        // Only the last position predicts the next token: project just that one.
        let last = hidden.narrow(1, seq - 1, 1);
        project_tied(last, self.transformer.wte.weight.val()).reshape([batch, self.vocab_size()])
    }
}

/// The multiple-choice head (`multiple_choice_head`, `transformers`' `SequenceSummary`): one
/// hidden state per choice, projected to a score.
#[derive(Module, Debug)]
pub struct SequenceSummary<B: Backend> {
    /// `n_embd → 1` (`summary`).
    pub summary: Option<Linear<B>>,
    summary_type: String,
    tanh: bool,
}

impl<B: Backend> SequenceSummary<B> {
    /// # Shapes
    /// - hidden: `[n, seq, n_embd]`; cls_index: `[n]` (for `cls_index`; last token if `None`)
    /// - output: `[n, 1]` (`[n, n_embd]` without projection)
    pub fn forward(
        &self,
        hidden: Tensor<B, 3>,
        cls_index: Option<Tensor<B, 1, Int>>,
    ) -> Tensor<B, 2> {
        let [n, seq, d] = hidden.dims();
        let device = hidden.device();
        let pick = |index: Tensor<B, 1, Int>| {
            let index = index.reshape([n, 1, 1]).repeat_dim(2, d);
            hidden.clone().gather(1, index).reshape([n, d])
        };
        let last = || Tensor::<B, 1, Int>::full([n], seq as i64 - 1, &device);
        let x = match self.summary_type.as_str() {
            "first" => pick(Tensor::zeros([n], &device)),
            "mean" => hidden.clone().mean_dim(1).reshape([n, d]),
            "cls_index" => pick(cls_index.unwrap_or_else(last)),
            _ => pick(last()),
        };
        let x = match &self.summary {
            Some(linear) => linear.forward(x),
            None => x,
        };
        if self.tanh {
            activation::tanh(x)
        } else {
            x
        }
    }
}

/// The outputs of [`Gpt2DoubleHeadsModel`].
#[derive(Debug, Clone)]
pub struct DoubleHeadsOutput<B: Backend> {
    /// Language-model logits, `[batch, choices, seq, vocab_size]`.
    pub lm_logits: Tensor<B, 4>,
    /// Multiple-choice logits, `[batch, choices]`.
    pub mc_logits: Tensor<B, 2>,
}

/// GPT-2 with the language-model and multiple-choice heads (`GPT2DoubleHeadsModel`).
#[derive(Module, Debug)]
pub struct Gpt2DoubleHeadsModel<B: Backend> {
    /// The decoder stack.
    pub transformer: Gpt2Model<B>,
    /// The multiple-choice head.
    pub multiple_choice_head: SequenceSummary<B>,
}

impl<B: Backend> Gpt2DoubleHeadsModel<B> {
    /// # Shapes
    /// - input_ids: `[batch, choices, seq]`; attention_mask: `[batch, choices, seq]`
    /// - mc_token_ids: `[batch, choices]`, the position of the classification token of each
    ///   choice (the last position when `None`)
    /// - output: `[batch, choices, seq, vocab_size]` and `[batch, choices]` logits
    pub fn forward(
        &self,
        input_ids: Tensor<B, 3, Int>,
        mc_token_ids: Option<Tensor<B, 2, Int>>,
        attention_mask: Option<Tensor<B, 3, Int>>,
    ) -> DoubleHeadsOutput<B> {
        let [batch, choices, seq] = input_ids.dims();
        let n = batch * choices;
        let mut input = Gpt2Input::new(input_ids.reshape([n, seq]));
        input.attention_mask = attention_mask.map(|m| m.reshape([n, seq]));
        let hidden = self.transformer.forward(input, None);
        let lm_logits = project_tied(hidden.clone(), self.transformer.wte.weight.val());
        let vocab = lm_logits.dims()[2];
        let mc = self
            .multiple_choice_head
            .forward(hidden, mc_token_ids.map(|ids| ids.reshape([n])));
        DoubleHeadsOutput {
            lm_logits: lm_logits.reshape([batch, choices, seq, vocab]),
            mc_logits: mc.reshape([batch, choices]),
        }
    }
}

/// GPT-2 classifying each sequence from the hidden state of its last token
/// (`GPT2ForSequenceClassification`): a causal model has seen the whole text only there.
#[derive(Module, Debug)]
pub struct Gpt2ForSequenceClassification<B: Backend> {
    /// The decoder stack.
    pub transformer: Gpt2Model<B>,
    /// `n_embd → num_labels`, no bias.
    pub score: Linear<B>,
    pad_token_id: Option<u32>,
}

impl<B: Backend> Gpt2ForSequenceClassification<B> {
    /// The logits of each sequence, read at its last token (see
    /// [`Self::last_token_positions`]).
    ///
    /// # Shapes
    /// - input: `[batch, seq]` ids, optional `[batch, seq]` attention mask
    /// - output: `[batch, num_labels]` logits
    pub fn forward(&self, input: Gpt2Input<B>) -> Tensor<B, 2> {
        let last = self.last_token_positions(input.input_ids.clone(), input.attention_mask.clone());
        let hidden = self.transformer.forward(input, None);
        let [batch, _, d] = hidden.dims();
        let index = last.reshape([batch, 1, 1]).repeat_dim(2, d);
        // The head is applied to one position per row only (the others are not needed).
        self.score
            .forward(hidden.gather(1, index).reshape([batch, d]))
    }

    /// The position whose hidden state classifies each row: the last position where the
    /// attention mask is 1 when a mask is given (this equals `transformers`' rule for right
    /// padding and also works when the padding token occurs in the text); without a mask, the
    /// last token that is not the configured `pad_token_id` (`transformers`' rule, 0 when every
    /// token is padding); without either, the last position.
    ///
    /// # Shapes
    /// - input_ids: `[batch, seq]`; attention_mask: `[batch, seq]`
    /// - output: `[batch]`
    pub fn last_token_positions(
        &self,
        input_ids: Tensor<B, 2, Int>,
        attention_mask: Option<Tensor<B, 2, Int>>,
    ) -> Tensor<B, 1, Int> {
        let [batch, seq] = input_ids.dims();
        let device = input_ids.device();
        let keep = match (attention_mask, self.pad_token_id) {
            (Some(mask), _) => mask.not_equal_elem(0),
            (None, Some(pad)) => input_ids.not_equal_elem(i64::from(pad)),
            (None, None) => return Tensor::full([batch], seq as i64 - 1, &device),
        };
        // (position + 1) where kept, 0 elsewhere: the row maximum minus one is the last kept
        // position, and -1 (clamped to 0) when nothing is kept.
        let positions = Tensor::<B, 1, Int>::arange(1..seq as i64 + 1, &device)
            .reshape([1, seq])
            .expand([batch, seq]);
        (keep.int() * positions)
            .max_dim(1)
            .sub_scalar(1)
            .clamp_min(0)
            .reshape([batch])
    }
}

impl<B: Backend> HfModule<B> for Gpt2Model<B> {
    fn import_options() -> ImportOptions {
        weights::import_options(weights::Head::Base)
    }
}

impl<B: Backend> HfModule<B> for Gpt2LmHeadModel<B> {
    fn import_options() -> ImportOptions {
        weights::import_options(weights::Head::LmHead)
    }
}

impl<B: Backend> HfModule<B> for Gpt2DoubleHeadsModel<B> {
    fn import_options() -> ImportOptions {
        weights::import_options(weights::Head::DoubleHeads)
    }
}

impl<B: Backend> HfModule<B> for Gpt2ForSequenceClassification<B> {
    fn import_options() -> ImportOptions {
        weights::import_options(weights::Head::SequenceClassification)
    }
}


/// The family's registry declaration: the decoder and its heads, configured by a Hugging Face
/// `config.json` (`model_type = "gpt2"`).
pub const FAMILY: crate::registry::spec::FamilySpec = crate::registry::spec::FamilySpec::of_task(
    "GPT-2",
    crate::registry::task::Task::FeatureExtraction,
    &["gpt2", "gpt2_lm_head", "gpt2_double_heads", "gpt2_sequence_classification"],
    "Radford et al. 2019; transformers/models/gpt2/modeling_gpt2.py",
)
.with_variant_tasks(&[
    ("gpt2_lm_head", crate::registry::task::Task::TextGeneration),
    ("gpt2_double_heads", crate::registry::task::Task::MultipleChoice),
    ("gpt2_sequence_classification", crate::registry::task::Task::TextClassification),
])
.with_optional_params(&[("gpt2_double_heads", &[r"^multiple_choice_head\."]), ("gpt2_sequence_classification", &[r"^score\."])])
.configured_by(crate::registry::spec::ConfiguredBy::ConfigJson { model_type: "gpt2" });

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    type B = Flex;

    fn tiny() -> Gpt2Config {
        Gpt2Config {
            vocab_size: 50,
            n_positions: 16,
            n_embd: 16,
            n_layer: 2,
            n_head: 2,
            initializer_range: 0.5,
            pad_token_id: Some(49),
            ..Gpt2Config::default()
        }
    }

    #[test]
    fn classification_labels_come_from_the_config() {
        let json = r#"{"n_embd": 64, "n_head": 4, "n_layer": 2, "pad_token_id": 999,
            "id2label": {"0": "negative", "1": "neutral", "2": "positive"}}"#;
        let config: Gpt2Config = serde_json::from_str(json).unwrap();
        assert_eq!((config.labels(), config.pad_token_id), (3, Some(999)));
        assert_eq!(Gpt2Config::default().labels(), 2);
        assert_eq!(config.with_num_labels(5).labels(), 5);
    }

    #[test]
    fn sequence_classifier_reads_the_last_real_token() {
        let device = Default::default();
        let model = tiny()
            .with_num_labels(3)
            .init_sequence_classification::<B>(&device);
        let ids = Tensor::<B, 2, Int>::from_ints([[3, 5, 7, 9, 11], [4, 6, 49, 49, 49]], &device);
        let mask = Tensor::<B, 2, Int>::from_ints([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], &device);
        let positions = |m| {
            model
                .last_token_positions(ids.clone(), m)
                .into_data()
                .convert::<i64>()
                .to_vec::<i64>()
                .unwrap()
        };
        assert_eq!(positions(Some(mask.clone())), [4, 1]);
        assert_eq!(positions(None), [4, 1]);
        let all_pad = Tensor::<B, 2, Int>::from_ints([[49, 49]], &device);
        let index = model.last_token_positions(all_pad, None).into_data();
        assert_eq!(index.convert::<i64>().to_vec::<i64>().unwrap(), [0]);

        let logits = model.forward(Gpt2Input::new(ids.clone()).with_attention_mask(mask));
        assert_eq!(logits.dims(), [2, 3]);
        // Row 1 alone, unpadded, gives the same logits.
        let alone = model.forward(Gpt2Input::new(ids.narrow(0, 1, 1).narrow(1, 0, 2)));
        let diff = (logits.narrow(0, 1, 1) - alone).abs().max().into_scalar();
        assert!(diff < 1e-4, "{diff}");
    }
}
