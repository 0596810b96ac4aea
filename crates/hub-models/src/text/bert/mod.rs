//! BERT, from "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
//! (Devlin et al., 2018, <https://arxiv.org/abs/1810.04805>); a port of `transformers`'
//! `models/bert/modeling_bert.py` (eval mode, absolute position embeddings, encoder only).
//!
//! [`BertModel`] is the encoder with its pooler; the task models wrap it under the field `bert`
//! exactly as `transformers` does, so their checkpoints load with the same key names:
//! [`BertForMaskedLm`], [`BertForNextSentencePrediction`], [`BertForPreTraining`],
//! [`BertForSequenceClassification`], [`BertForMultipleChoice`], [`BertForQuestionAnswering`]
//! and [`BertForTokenClassification`].
//!
//! ```no_run
//! use burn::backend::Flex;
//! use hub_models::text::bert::{BertConfig, BertInput};
//! use hub_models::text::HfModule;
//!
//! let device = Default::default();
//! let config = BertConfig::from_file("config.json")?;
//! let (model, _report) = config.init_masked_lm::<Flex>(&device).load_weights("model.safetensors")?;
//! let ids = burn::tensor::Tensor::from_ints([[101, 7592, 103, 102]], &device);
//! let logits = model.forward(BertInput::new(ids)); // [1, 4, vocab_size]
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod block;
pub mod weights;

use std::collections::BTreeMap;
use std::path::Path;

use burn::nn::Linear;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::import::ImportOptions;
use crate::text::{read_config, Activation, ConfigError, HfModule};
use block::{BertEmbeddings, BertEncoder, BertLayer, BertLmPredictionHead, BertPooler};

/// The variant table: Hugging Face id, vocabulary, hidden size, layers, heads, feed-forward size.
const TABLE: &[(&str, usize, usize, usize, usize, usize)] = &[
    ("bert-base-uncased", 30522, 768, 12, 12, 3072),
    ("bert-large-uncased", 30522, 1024, 24, 16, 4096),
    ("bert-base-cased", 28996, 768, 12, 12, 3072),
    ("bert-large-cased", 28996, 1024, 24, 16, 4096),
    ("bert-base-multilingual-cased", 119547, 768, 12, 12, 3072),
    ("bert-base-chinese", 21128, 768, 12, 12, 3072),
    (
        "sentence-transformers/all-MiniLM-L6-v2",
        30522,
        384,
        6,
        12,
        1536,
    ),
    ("prajjwal1/bert-tiny", 30522, 128, 2, 2, 512),
];

/// The model ids whose configuration [`config`] knows.
pub const VARIANTS: &[&str] = &[
    "bert-base-uncased",
    "bert-large-uncased",
    "bert-base-cased",
    "bert-large-cased",
    "bert-base-multilingual-cased",
    "bert-base-chinese",
    "sentence-transformers/all-MiniLM-L6-v2",
    "prajjwal1/bert-tiny",
];

/// The configuration of a known model id (with or without the `google-bert/` organisation), or
/// `None`. A downloaded `config.json` ([`BertConfig::from_file`]) is authoritative over this
/// table.
pub fn config(id: &str) -> Option<BertConfig> {
    let id = id.strip_prefix("google-bert/").unwrap_or(id);
    TABLE
        .iter()
        .find(|row| row.0 == id)
        .map(|&(_, vocab, hidden, layers, heads, ffn)| BertConfig {
            vocab_size: vocab,
            hidden_size: hidden,
            num_hidden_layers: layers,
            num_attention_heads: heads,
            intermediate_size: ffn,
            ..BertConfig::default()
        })
}

/// BERT hyper-parameters with the field names and defaults of `transformers.BertConfig`, so a
/// Hugging Face `config.json` deserialises directly (unknown fields are ignored).
///
/// A plain serde struct rather than burn's `#[derive(Config)]`: burn's derive does not apply
/// field defaults when deserialising, and `config.json` files routinely omit fields left at
/// their default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BertConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Width of the hidden states.
    pub hidden_size: usize,
    /// Number of encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer (divides `hidden_size`).
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Activation of the feed-forward layer and the masked-LM transform.
    pub hidden_act: Activation,
    /// Longest sequence (rows of the position embedding).
    pub max_position_embeddings: usize,
    /// Number of token types (segments).
    pub type_vocab_size: usize,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f64,
    /// Standard deviation of the random initialisation (before weights are loaded).
    pub initializer_range: f64,
    /// Id of the padding token.
    pub pad_token_id: u32,
    /// Only `"absolute"` is implemented.
    pub position_embedding_type: String,
    /// Decoder (causal) BERT is not implemented; must be `false`.
    pub is_decoder: bool,
    /// The masked-LM decoder shares the word embeddings; must be `true` for the LM heads.
    pub tie_word_embeddings: bool,
    /// Label names of classification heads (their count is the number of labels).
    pub id2label: Option<BTreeMap<String, String>>,
    /// Number of labels when `id2label` is absent.
    pub num_labels: Option<usize>,
}

impl Default for BertConfig {
    fn default() -> Self {
        Self {
            vocab_size: 30522,
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: Activation::Gelu,
            max_position_embeddings: 512,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            initializer_range: 0.02,
            pad_token_id: 0,
            position_embedding_type: "absolute".to_string(),
            is_decoder: false,
            tie_word_embeddings: true,
            id2label: None,
            num_labels: None,
        }
    }
}

/// An error unless `value` is positive and at most `max` (a `config.json` size).
pub(crate) fn check_size(field: &'static str, value: usize, max: usize) -> Result<(), ConfigError> {
    if value == 0 {
        return Err(ConfigError::Unsupported { field, value: "0".into(), reason: "must be positive" });
    }
    if value > max {
        return Err(ConfigError::Unsupported {
            field,
            value: format!("{value}, more than hub builds (at most {max})"),
            reason: "a size that large is refused before anything is allocated; the limits are listed in docs/security.md",
        });
    }
    Ok(())
}

/// An error unless a `config.json` model of `params` parameters is within
/// [`crate::registry::config::limits::max_parameters`].
pub(crate) fn check_parameters(params: u128) -> Result<(), ConfigError> {
    let max = crate::registry::config::limits::max_parameters().map_err(|value| ConfigError::Unsupported {
        field: "HUB_MAX_PARAMETERS",
        value,
        reason: "must be a positive integer (a number of parameters)",
    })?;
    if params > max as u128 {
        return Err(ConfigError::Unsupported {
            field: "the model's size",
            value: format!("{params} parameters, more than hub builds (at most {max})"),
            reason: "the sizes multiply out to more weights than fit in memory; raise HUB_MAX_PARAMETERS if this is a real model",
        });
    }
    Ok(())
}

impl BertConfig {
    /// Reads and checks a Hugging Face `config.json`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let config: Self = read_config(path.as_ref())?;
        config.validate()?;
        Ok(config)
    }

    /// Checks that this port implements what the configuration asks for, and that every size
    /// is within [`crate::registry::config::limits`] (before anything is allocated).
    pub fn validate(&self) -> Result<(), ConfigError> {
        use crate::registry::config::limits;
        let sizes: [(&'static str, usize, usize); 8] = [
            ("vocab_size", self.vocab_size, limits::MAX_VOCAB),
            ("hidden_size", self.hidden_size, limits::MAX_HIDDEN),
            ("num_hidden_layers", self.num_hidden_layers.max(1), limits::MAX_LAYERS),
            ("num_attention_heads", self.num_attention_heads, limits::MAX_HEADS),
            ("intermediate_size", self.intermediate_size, limits::MAX_INTERMEDIATE),
            ("max_position_embeddings", self.max_position_embeddings, limits::MAX_POSITIONS),
            ("type_vocab_size", self.type_vocab_size, limits::MAX_VOCAB),
            ("num_labels", self.labels(), limits::MAX_CLASSES),
        ];
        for (field, value, max) in sizes {
            check_size(field, value, max)?;
        }
        let (v, h, i) = (self.vocab_size as u128, self.hidden_size as u128, self.intermediate_size as u128);
        let extra = (self.max_position_embeddings + self.type_vocab_size + self.labels()) as u128;
        let params = (v + extra) * h
            + self.num_hidden_layers as u128 * (4 * h * h + 2 * h * i + 9 * h + i)
            + 2 * h * h
            + v;
        check_parameters(params)?;
        if self.pad_token_id as usize >= self.vocab_size {
            return Err(ConfigError::Unsupported {
                field: "pad_token_id",
                value: self.pad_token_id.to_string(),
                reason: "must be below vocab_size",
            });
        }
        if self.position_embedding_type != "absolute" {
            return Err(ConfigError::Unsupported {
                field: "position_embedding_type",
                value: self.position_embedding_type.clone(),
                reason: "only absolute position embeddings are implemented",
            });
        }
        if self.is_decoder {
            return Err(ConfigError::Unsupported {
                field: "is_decoder",
                value: "true".into(),
                reason: "only the bidirectional encoder is implemented",
            });
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(ConfigError::Unsupported {
                field: "num_attention_heads",
                value: self.num_attention_heads.to_string(),
                reason: "must divide hidden_size",
            });
        }
        Ok(())
    }

    /// The number of labels of the classification heads: `len(id2label)`, else `num_labels`,
    /// else 2 (the `transformers` default).
    pub fn labels(&self) -> usize {
        self.id2label
            .as_ref()
            .map(BTreeMap::len)
            .or(self.num_labels)
            .unwrap_or(2)
    }

    /// Sets the number of labels of the classification heads.
    pub fn with_num_labels(mut self, num_labels: usize) -> Self {
        self.num_labels = Some(num_labels);
        self.id2label = None;
        self
    }

    /// The encoder with its pooler (`BertModel`).
    pub fn init<B: Backend>(&self, device: &B::Device) -> BertModel<B> {
        self.init_with_pooler(true, device)
    }

    /// The encoder, with or without the pooler (`BertModel(config, add_pooling_layer)`), e.g.
    /// to load the encoder of a masked-LM checkpoint, which has no pooler weights.
    pub fn init_with_pooler<B: Backend>(&self, pooler: bool, device: &B::Device) -> BertModel<B> {
        BertModel {
            embeddings: BertEmbeddings::new(self, device),
            encoder: BertEncoder {
                layer: (0..self.num_hidden_layers)
                    .map(|_| BertLayer::new(self, device))
                    .collect(),
            },
            pooler: pooler.then(|| BertPooler {
                dense: block::linear(self, self.hidden_size, self.hidden_size).init(device),
            }),
        }
    }

    fn head<B: Backend>(&self, d_out: usize, device: &B::Device) -> Linear<B> {
        block::linear(self, self.hidden_size, d_out).init(device)
    }

    /// `BertForMaskedLM` (no pooler, as in `transformers`).
    pub fn init_masked_lm<B: Backend>(&self, device: &B::Device) -> BertForMaskedLm<B> {
        BertForMaskedLm {
            bert: self.init_with_pooler(false, device),
            cls: BertOnlyMlmHead {
                predictions: BertLmPredictionHead::new(self, device),
            },
        }
    }

    /// `BertForNextSentencePrediction`.
    pub fn init_next_sentence<B: Backend>(
        &self,
        device: &B::Device,
    ) -> BertForNextSentencePrediction<B> {
        BertForNextSentencePrediction {
            bert: self.init(device),
            cls: BertOnlyNspHead {
                seq_relationship: self.head(2, device),
            },
        }
    }

    /// `BertForPreTraining` (masked-LM and next-sentence heads).
    pub fn init_pretraining<B: Backend>(&self, device: &B::Device) -> BertForPreTraining<B> {
        BertForPreTraining {
            bert: self.init(device),
            cls: BertPreTrainingHeads {
                predictions: BertLmPredictionHead::new(self, device),
                seq_relationship: self.head(2, device),
            },
        }
    }

    /// `BertForSequenceClassification` with [`Self::labels`] outputs.
    pub fn init_sequence_classification<B: Backend>(
        &self,
        device: &B::Device,
    ) -> BertForSequenceClassification<B> {
        BertForSequenceClassification {
            bert: self.init(device),
            classifier: self.head(self.labels(), device),
        }
    }

    /// `BertForMultipleChoice` (one score per choice).
    pub fn init_multiple_choice<B: Backend>(&self, device: &B::Device) -> BertForMultipleChoice<B> {
        BertForMultipleChoice {
            bert: self.init(device),
            classifier: self.head(1, device),
        }
    }

    /// `BertForQuestionAnswering` (span start and end logits; no pooler).
    pub fn init_question_answering<B: Backend>(
        &self,
        device: &B::Device,
    ) -> BertForQuestionAnswering<B> {
        BertForQuestionAnswering {
            bert: self.init_with_pooler(false, device),
            qa_outputs: self.head(2, device),
        }
    }

    /// `BertForTokenClassification` with [`Self::labels`] outputs per token (no pooler).
    pub fn init_token_classification<B: Backend>(
        &self,
        device: &B::Device,
    ) -> BertForTokenClassification<B> {
        BertForTokenClassification {
            bert: self.init_with_pooler(false, device),
            classifier: self.head(self.labels(), device),
        }
    }
}

/// The inputs of a BERT forward pass.
#[derive(Debug, Clone)]
pub struct BertInput<B: Backend> {
    /// Token ids, `[batch, seq]`.
    pub input_ids: Tensor<B, 2, Int>,
    /// Segment ids, `[batch, seq]`; zeros when `None`.
    pub token_type_ids: Option<Tensor<B, 2, Int>>,
    /// 1 for tokens, 0 for padding, `[batch, seq]`; all tokens when `None`.
    pub attention_mask: Option<Tensor<B, 2, Int>>,
}

impl<B: Backend> BertInput<B> {
    /// Token ids only (one segment, no padding).
    pub fn new(input_ids: Tensor<B, 2, Int>) -> Self {
        Self {
            input_ids,
            token_type_ids: None,
            attention_mask: None,
        }
    }

    /// Sets the segment ids.
    pub fn with_token_type_ids(mut self, token_type_ids: Tensor<B, 2, Int>) -> Self {
        self.token_type_ids = Some(token_type_ids);
        self
    }

    /// Sets the padding mask.
    pub fn with_attention_mask(mut self, attention_mask: Tensor<B, 2, Int>) -> Self {
        self.attention_mask = Some(attention_mask);
        self
    }
}

/// The outputs of [`BertModel`].
#[derive(Debug, Clone)]
pub struct BertOutput<B: Backend> {
    /// The last layer's hidden states, `[batch, seq, hidden]`.
    pub last_hidden_state: Tensor<B, 3>,
    /// `tanh(dense(h[:, 0]))`, `[batch, hidden]`; `None` for models without a pooler.
    pub pooler_output: Option<Tensor<B, 2>>,
}

/// The BERT encoder (`transformers.BertModel`).
#[derive(Module, Debug)]
pub struct BertModel<B: Backend> {
    /// Token, position and segment embeddings.
    pub embeddings: BertEmbeddings<B>,
    /// The transformer layers.
    pub encoder: BertEncoder<B>,
    /// The `[CLS]` pooler (absent in the token-level task models).
    pub pooler: Option<BertPooler<B>>,
}

impl<B: Backend> BertModel<B> {
    /// # Shapes
    /// - input: `[batch, seq]` ids, segments and mask (`seq` ≤ `max_position_embeddings`)
    /// - output: hidden states `[batch, seq, hidden]`, pooled `[batch, hidden]`
    pub fn forward(&self, input: BertInput<B>) -> BertOutput<B> {
        let x = self
            .embeddings
            .forward(input.input_ids, input.token_type_ids);
        let last_hidden_state = self.encoder.forward(x, input.attention_mask);
        let pooler_output = self
            .pooler
            .as_ref()
            .map(|p| p.forward(last_hidden_state.clone()));
        BertOutput {
            last_hidden_state,
            pooler_output,
        }
    }

    /// The longest sequence the position embeddings cover (`max_position_embeddings`).
    pub fn max_positions(&self) -> usize {
        self.embeddings.position_embeddings.weight.dims()[0]
    }

    /// The word-embedding matrix, `[vocab_size, hidden]`.
    pub fn word_embeddings(&self) -> Tensor<B, 2> {
        self.embeddings.word_embeddings.weight.val()
    }

    fn pooled(&self, input: BertInput<B>) -> (Tensor<B, 3>, Tensor<B, 2>) {
        let out = self.forward(input);
        let pooled = match out.pooler_output {
            Some(p) => p,
            // Only reachable for a hand-assembled model (every constructor of a sentence-level
            // head builds the pooler): the head then sees the raw first-token state.
            None => out.last_hidden_state.clone().narrow(1, 0, 1).squeeze_dim(1),
        };
        (out.last_hidden_state, pooled)
    }
}

/// `cls` of [`BertForMaskedLm`].
#[derive(Module, Debug)]
pub struct BertOnlyMlmHead<B: Backend> {
    /// `cls.predictions`.
    pub predictions: BertLmPredictionHead<B>,
}

/// `cls` of [`BertForNextSentencePrediction`].
#[derive(Module, Debug)]
pub struct BertOnlyNspHead<B: Backend> {
    /// `cls.seq_relationship`: `hidden → 2` (is-next, not-next).
    pub seq_relationship: Linear<B>,
}

/// `cls` of [`BertForPreTraining`].
#[derive(Module, Debug)]
pub struct BertPreTrainingHeads<B: Backend> {
    /// `cls.predictions`.
    pub predictions: BertLmPredictionHead<B>,
    /// `cls.seq_relationship`.
    pub seq_relationship: Linear<B>,
}

/// BERT with the masked-language-model head.
#[derive(Module, Debug)]
pub struct BertForMaskedLm<B: Backend> {
    /// The encoder (no pooler).
    pub bert: BertModel<B>,
    /// The prediction head.
    pub cls: BertOnlyMlmHead<B>,
}

impl<B: Backend> BertForMaskedLm<B> {
    /// # Shapes
    /// - input: `[batch, seq]`
    /// - output: `[batch, seq, vocab_size]` (logits)
    pub fn forward(&self, input: BertInput<B>) -> Tensor<B, 3> {
        let hidden = self.bert.forward(input).last_hidden_state;
        self.cls
            .predictions
            .forward(hidden, self.bert.word_embeddings())
    }
}

/// BERT with the next-sentence-prediction head.
#[derive(Module, Debug)]
pub struct BertForNextSentencePrediction<B: Backend> {
    /// The encoder with its pooler.
    pub bert: BertModel<B>,
    /// The head.
    pub cls: BertOnlyNspHead<B>,
}

impl<B: Backend> BertForNextSentencePrediction<B> {
    /// # Shapes
    /// - input: `[batch, seq]` (a sentence pair, segments 0 and 1)
    /// - output: `[batch, 2]` logits (index 0: B follows A)
    pub fn forward(&self, input: BertInput<B>) -> Tensor<B, 2> {
        let (_, pooled) = self.bert.pooled(input);
        self.cls.seq_relationship.forward(pooled)
    }
}

/// The outputs of [`BertForPreTraining`].
#[derive(Debug, Clone)]
pub struct BertPreTrainingOutput<B: Backend> {
    /// Masked-LM logits, `[batch, seq, vocab_size]`.
    pub prediction_logits: Tensor<B, 3>,
    /// Next-sentence logits, `[batch, 2]`.
    pub seq_relationship_logits: Tensor<B, 2>,
}

/// BERT with both pre-training heads.
#[derive(Module, Debug)]
pub struct BertForPreTraining<B: Backend> {
    /// The encoder with its pooler.
    pub bert: BertModel<B>,
    /// The heads.
    pub cls: BertPreTrainingHeads<B>,
}

impl<B: Backend> BertForPreTraining<B> {
    /// # Shapes
    /// - input: `[batch, seq]`
    /// - output: `[batch, seq, vocab_size]` and `[batch, 2]` logits
    pub fn forward(&self, input: BertInput<B>) -> BertPreTrainingOutput<B> {
        let (hidden, pooled) = self.bert.pooled(input);
        BertPreTrainingOutput {
            prediction_logits: self
                .cls
                .predictions
                .forward(hidden, self.bert.word_embeddings()),
            seq_relationship_logits: self.cls.seq_relationship.forward(pooled),
        }
    }
}

/// BERT with a sentence classification (or regression, one label) head on the pooled output.
#[derive(Module, Debug)]
pub struct BertForSequenceClassification<B: Backend> {
    /// The encoder with its pooler.
    pub bert: BertModel<B>,
    /// `hidden → num_labels`.
    pub classifier: Linear<B>,
}

impl<B: Backend> BertForSequenceClassification<B> {
    /// # Shapes
    /// - input: `[batch, seq]`
    /// - output: `[batch, num_labels]` logits
    pub fn forward(&self, input: BertInput<B>) -> Tensor<B, 2> {
        let (_, pooled) = self.bert.pooled(input);
        self.classifier.forward(pooled)
    }
}

/// BERT scoring each of several candidate inputs (e.g. SWAG).
#[derive(Module, Debug)]
pub struct BertForMultipleChoice<B: Backend> {
    /// The encoder with its pooler.
    pub bert: BertModel<B>,
    /// `hidden → 1`.
    pub classifier: Linear<B>,
}

impl<B: Backend> BertForMultipleChoice<B> {
    /// # Shapes
    /// - input_ids, token_type_ids, attention_mask: `[batch, choices, seq]`
    /// - output: `[batch, choices]` logits
    pub fn forward(
        &self,
        input_ids: Tensor<B, 3, Int>,
        token_type_ids: Option<Tensor<B, 3, Int>>,
        attention_mask: Option<Tensor<B, 3, Int>>,
    ) -> Tensor<B, 2> {
        let [batch, choices, seq] = input_ids.dims();
        let flat = |t: Tensor<B, 3, Int>| t.reshape([batch * choices, seq]);
        let input = BertInput {
            input_ids: flat(input_ids),
            token_type_ids: token_type_ids.map(flat),
            attention_mask: attention_mask.map(flat),
        };
        let (_, pooled) = self.bert.pooled(input);
        self.classifier.forward(pooled).reshape([batch, choices])
    }
}

/// The outputs of [`BertForQuestionAnswering`].
#[derive(Debug, Clone)]
pub struct SpanLogits<B: Backend> {
    /// Answer-start logits, `[batch, seq]`.
    pub start_logits: Tensor<B, 2>,
    /// Answer-end logits, `[batch, seq]`.
    pub end_logits: Tensor<B, 2>,
}

/// BERT with an extractive question-answering (span) head.
#[derive(Module, Debug)]
pub struct BertForQuestionAnswering<B: Backend> {
    /// The encoder (no pooler).
    pub bert: BertModel<B>,
    /// `hidden → 2` (start, end).
    pub qa_outputs: Linear<B>,
}

impl<B: Backend> BertForQuestionAnswering<B> {
    /// # Shapes
    /// - input: `[batch, seq]` (question and context as a pair)
    /// - output: start and end logits, `[batch, seq]` each
    pub fn forward(&self, input: BertInput<B>) -> SpanLogits<B> {
        let hidden = self.bert.forward(input).last_hidden_state;
        let [batch, seq, _] = hidden.dims();
        let logits = self.qa_outputs.forward(hidden);
        SpanLogits {
            start_logits: logits.clone().narrow(2, 0, 1).reshape([batch, seq]),
            end_logits: logits.narrow(2, 1, 1).reshape([batch, seq]),
        }
    }
}

/// BERT with a per-token classification head (e.g. named entities).
#[derive(Module, Debug)]
pub struct BertForTokenClassification<B: Backend> {
    /// The encoder (no pooler).
    pub bert: BertModel<B>,
    /// `hidden → num_labels`.
    pub classifier: Linear<B>,
}

impl<B: Backend> BertForTokenClassification<B> {
    /// # Shapes
    /// - input: `[batch, seq]`
    /// - output: `[batch, seq, num_labels]` logits
    pub fn forward(&self, input: BertInput<B>) -> Tensor<B, 3> {
        self.classifier
            .forward(self.bert.forward(input).last_hidden_state)
    }
}

macro_rules! hf_module {
    ($($model:ident => $head:expr),* $(,)?) => {$(
        impl<B: Backend> HfModule<B> for $model<B> {
            fn import_options() -> ImportOptions {
                weights::import_options($head)
            }
        }
    )*};
}

hf_module! {
    BertModel => weights::Head::Base,
    BertForMaskedLm => weights::Head::MaskedLm,
    BertForNextSentencePrediction => weights::Head::NextSentence,
    BertForPreTraining => weights::Head::PreTraining,
    BertForSequenceClassification => weights::Head::Classifier,
    BertForMultipleChoice => weights::Head::Classifier,
    BertForQuestionAnswering => weights::Head::QuestionAnswering,
    BertForTokenClassification => weights::Head::Classifier,
}

/// Mean of the token embeddings over the attention mask, L2-normalised: the sentence embedding
/// of sentence-transformers models such as all-MiniLM-L6-v2 (`Pooling(mean)` + `Normalize`).
///
/// # Shapes
/// - hidden: `[batch, seq, hidden]`, attention_mask: `[batch, seq]`
/// - output: `[batch, hidden]`, unit L2 norm per row
pub fn mean_pooling_normalized<B: Backend>(
    hidden: Tensor<B, 3>,
    attention_mask: Tensor<B, 2, Int>,
) -> Tensor<B, 2> {
    let [batch, seq, h] = hidden.dims();
    let mask = attention_mask.float().reshape([batch, seq, 1]);
    let summed = (hidden * mask.clone()).sum_dim(1).reshape([batch, h]);
    // sentence-transformers clamps the token count at 1e-9 and the norm at 1e-12.
    let counts = mask.sum_dim(1).reshape([batch, 1]).clamp_min(1e-9);
    let mean = summed / counts;
    let norm = mean
        .clone()
        .powi_scalar(2)
        .sum_dim(1)
        .sqrt()
        .clamp_min(1e-12);
    mean / norm
}


/// The family's registry declaration: the encoder and its task heads, configured by a
/// Hugging Face `config.json` (`model_type = "bert"`).
pub const FAMILY: crate::registry::spec::FamilySpec = crate::registry::spec::FamilySpec::of_task(
    "BERT",
    crate::registry::task::Task::FeatureExtraction,
    &[
        "bert",
        "bert_masked_lm",
        "bert_next_sentence",
        "bert_pretraining",
        "bert_sequence_classification",
        "bert_multiple_choice",
        "bert_question_answering",
        "bert_token_classification",
    ],
    "Devlin et al. 2018, https://arxiv.org/abs/1810.04805; transformers/models/bert/modeling_bert.py",
)
.with_variant_tasks(&[
    ("bert_masked_lm", crate::registry::task::Task::FillMask),
    ("bert_next_sentence", crate::registry::task::Task::NextSentencePrediction),
    ("bert_pretraining", crate::registry::task::Task::PreTraining),
    ("bert_sequence_classification", crate::registry::task::Task::TextClassification),
    ("bert_multiple_choice", crate::registry::task::Task::MultipleChoice),
    ("bert_question_answering", crate::registry::task::Task::QuestionAnswering),
    ("bert_token_classification", crate::registry::task::Task::TokenClassification),
])
.with_optional_params(&[
    ("bert_next_sentence", &[r"^cls\.seq_relationship\.", r"^bert\.pooler\."]),
    ("bert_pretraining", &[r"^cls\.seq_relationship\.", r"^bert\.pooler\."]),
    ("bert_sequence_classification", &[r"^classifier\.", r"^bert\.pooler\."]),
    ("bert_multiple_choice", &[r"^classifier\.", r"^bert\.pooler\."]),
    ("bert_question_answering", &[r"^qa_outputs\."]),
    ("bert_token_classification", &[r"^classifier\."]),
])
.configured_by(crate::registry::spec::ConfiguredBy::ConfigJson { model_type: "bert" });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::state_dict_shapes;
    use burn::backend::Flex;

    type B = Flex;

    fn tiny() -> BertConfig {
        BertConfig {
            vocab_size: 50,
            hidden_size: 16,
            num_hidden_layers: 2,
            num_attention_heads: 4,
            intermediate_size: 32,
            max_position_embeddings: 20,
            ..BertConfig::default()
        }
    }

    #[test]
    fn hf_config_json_parses_with_defaults_and_extra_fields() {
        let json = r#"{"architectures": ["BertForMaskedLM"], "hidden_size": 128,
            "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 512,
            "hidden_act": "gelu", "model_type": "bert", "transformers_version": "5.5.4",
            "id2label": {"0": "NEG", "1": "NEU", "2": "POS"}}"#;
        let config: BertConfig = serde_json::from_str(json).unwrap();
        assert_eq!(config.hidden_size, 128);
        assert_eq!(config.vocab_size, 30522);
        assert_eq!(config.layer_norm_eps, 1e-12);
        assert_eq!(config.labels(), 3);
        assert!(config.validate().is_ok());

        let relative = BertConfig {
            position_embedding_type: "relative_key".into(),
            ..tiny()
        };
        assert!(matches!(
            relative.validate(),
            Err(ConfigError::Unsupported {
                field: "position_embedding_type",
                ..
            })
        ));
    }

    #[test]
    fn state_dict_keys_are_the_transformers_keys_after_remapping() {
        let device = Default::default();
        let keys: Vec<String> = state_dict_shapes(&tiny().init_pretraining::<B>(&device))
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        for key in [
            "bert.embeddings.layer_norm.weight",
            "bert.encoder.layer.1.attention.self_attention.query.weight",
            "bert.encoder.layer.0.attention.output.layer_norm.bias",
            "bert.pooler.dense.weight",
            "cls.predictions.bias",
            "cls.predictions.transform.layer_norm.weight",
            "cls.seq_relationship.weight",
        ] {
            assert!(keys.contains(&key.to_string()), "{key} not in {keys:?}");
        }
    }

    #[test]
    fn heads_have_the_documented_shapes_and_padding_does_not_leak() {
        let device = Default::default();
        let config = tiny().with_num_labels(3);
        let ids = Tensor::<B, 2, Int>::from_ints([[2, 5, 7, 9, 0], [2, 6, 8, 0, 0]], &device);
        let mask = Tensor::<B, 2, Int>::from_ints([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]], &device);
        let input = BertInput::new(ids.clone()).with_attention_mask(mask.clone());

        let model = config.init_pretraining::<B>(&device);
        let out = model.forward(input.clone());
        assert_eq!(out.prediction_logits.dims(), [2, 5, 50]);
        assert_eq!(out.seq_relationship_logits.dims(), [2, 2]);

        // A padded row equals the same row run alone without its padding.
        let base = &model.bert;
        let padded = base
            .forward(input.clone())
            .last_hidden_state
            .narrow(0, 1, 1)
            .narrow(1, 0, 3);
        let alone = base
            .forward(BertInput::new(ids.clone().narrow(0, 1, 1).narrow(1, 0, 3)))
            .last_hidden_state;
        let diff = (padded - alone).abs().max().into_scalar();
        assert!(diff < 1e-5, "{diff}");

        assert_eq!(
            config
                .init_masked_lm::<B>(&device)
                .forward(input.clone())
                .dims(),
            [2, 5, 50]
        );
        assert_eq!(
            config
                .init_next_sentence::<B>(&device)
                .forward(input.clone())
                .dims(),
            [2, 2]
        );
        assert_eq!(
            config
                .init_sequence_classification::<B>(&device)
                .forward(input.clone())
                .dims(),
            [2, 3]
        );
        assert_eq!(
            config
                .init_token_classification::<B>(&device)
                .forward(input.clone())
                .dims(),
            [2, 5, 3]
        );
        let span = config.init_question_answering::<B>(&device).forward(input);
        assert_eq!(span.start_logits.dims(), [2, 5]);
        assert_eq!(span.end_logits.dims(), [2, 5]);
        let choices = config.init_multiple_choice::<B>(&device).forward(
            ids.reshape([1, 2, 5]),
            None,
            Some(mask.reshape([1, 2, 5])),
        );
        assert_eq!(choices.dims(), [1, 2]);
    }

    #[test]
    fn mean_pooling_skips_padding_and_normalises() {
        let device = Default::default();
        let hidden =
            Tensor::<B, 3>::from_floats([[[3.0, 0.0], [0.0, 4.0], [100.0, 100.0]]], &device);
        let mask = Tensor::<B, 2, Int>::from_ints([[1, 1, 0]], &device);
        let e = mean_pooling_normalized(hidden, mask)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        assert!(
            (e[0] - 0.6).abs() < 1e-6 && (e[1] - 0.8).abs() < 1e-6,
            "{e:?}"
        );
    }
}
