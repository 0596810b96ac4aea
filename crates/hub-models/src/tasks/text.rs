//! Text tasks on a [`Loaded`] text model: fill-mask, sentence embeddings, generation, sequence
//! and token classification, extractive question answering, next-sentence prediction and
//! multiple choice. Each takes plain text, tokenizes it with the model's tokenizer, runs the
//! model and maps the logits back to tokens, labels or text spans.

use burn::prelude::*;
use burn::tensor::TensorData;

use crate::error::{Error, Result};
use super::loaded::Loaded;
use crate::registry::TextModel;
use super::vision::Prediction;
use crate::text::bert::BertInput;
use crate::text::generation::{self, softmax, GenerationConfig};
use crate::text::gpt2::Gpt2Input;
use crate::text::tokenizer::{BatchOptions, Encoded};

/// Generated text (text generation).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GeneratedText {
    /// The new text, special tokens dropped.
    pub text: String,
    /// The new token ids (an end-of-text token that stopped generation included).
    pub ids: Vec<u32>,
}

/// One predicted token (fill-mask).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TokenPrediction {
    /// Token id.
    pub id: u32,
    /// The token's text.
    pub token: String,
    /// Softmax probability.
    pub probability: f32,
}
/// One token's predicted label (token classification).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TokenTag {
    /// The token as the tokenizer writes it (`##ing` for a WordPiece continuation).
    pub token: String,
    /// Byte range of the token in the text.
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
    /// Label index.
    pub index: usize,
    /// Label name (config.json `id2label`, else `LABEL_i`).
    pub label: String,
    /// Softmax probability of the label.
    pub probability: f32,
}

/// The answer span of extractive question answering.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Answer {
    /// The answer, a slice of the context.
    pub answer: String,
    /// Byte range of the answer in the context.
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
    /// First and last token of the span (indices into the encoded pair).
    pub tokens: (usize, usize),
    /// `p_start · p_end`, with both softmaxes taken over the context's tokens only.
    pub score: f64,
}

/// The longest answer, in tokens, that [`Loaded::answer`] considers (the `transformers`
/// question-answering pipeline's `max_answer_len` default).
pub const MAX_ANSWER_TOKENS: usize = 15;

fn ids_tensor<B: Backend>(rows: &[&[u32]], device: &B::Device) -> Tensor<B, 2, Int> {
    let len = rows.first().map_or(0, |r| r.len());
    let data: Vec<i64> = rows.iter().flat_map(|r| r.iter().map(|&x| i64::from(x))).collect();
    Tensor::from_data(TensorData::new(data, [rows.len(), len]), device)
}

impl<B: Backend> Loaded<B> {
    /// For each `[MASK]` of `text` (in order), the `k` likeliest tokens (fill-mask models).
    pub fn fill_mask(&self, text: &str, k: usize) -> Result<Vec<Vec<TokenPrediction>>> {
        let (model, tok) = self.text("fill-mask")?;
        if !matches!(model, TextModel::BertMaskedLm(_) | TextModel::BertPreTraining(_)) {
            return Err(self.wrong_task("fill-mask"));
        }
        let mask_id = tok.token_to_id("[MASK]").ok_or_else(|| Error::BadInput { entry: self.entry.clone(), message: "the tokenizer has no [MASK] token".into() })?;
        let batch = tok.encode_batch(&[text], &BatchOptions::new())?;
        self.check_length(batch.seq_len())?;
        let positions: Vec<usize> = batch.input_ids[0].iter().enumerate().filter(|(_, &id)| id == mask_id).map(|(i, _)| i).collect();
        if positions.is_empty() {
            return Err(Error::BadInput { entry: self.entry.clone(), message: format!("{text:?} has no [MASK] token to fill") });
        }
        let input = BertInput::new(batch.input_ids(&self.device))
            .with_attention_mask(batch.attention_mask(&self.device))
            .with_token_type_ids(batch.token_type_ids(&self.device));
        let logits = match model {
            TextModel::BertMaskedLm(m) => m.forward(input),
            TextModel::BertPreTraining(m) => m.forward(input).prediction_logits,
            _ => unreachable!("checked above"),
        };
        let [_, _, vocab] = logits.dims();
        let mut out = Vec::new();
        for p in positions {
            let row = logits.clone().slice([0..1, p..p + 1, 0..vocab]).reshape([1, vocab]);
            let top = &crate::imagenet::top_k_labeled(row, k, &[])[0];
            out.push(
                top.iter()
                    .map(|t| {
                        let id = t.index as u32;
                        Ok(TokenPrediction { id, token: tok.decode(&[id], false)?.trim().to_owned(), probability: t.prob })
                    })
                    .collect::<Result<Vec<_>>>()?,
            );
        }
        Ok(out)
    }
    /// Mean-pooled, L2-normalised sentence embeddings (feature-extraction models).
    ///
    /// # Shapes
    /// - returns: `[texts.len(), hidden]`
    pub fn embed(&self, texts: &[&str]) -> Result<Tensor<B, 2>> {
        let (model, tok) = self.text("feature extraction")?;
        let batch = tok.encode_batch(texts, &BatchOptions::new())?;
        self.check_length(batch.seq_len())?;
        let mask = batch.attention_mask(&self.device);
        let hidden = match model {
            TextModel::Bert(m) => {
                let input = BertInput::new(batch.input_ids(&self.device)).with_attention_mask(mask.clone()).with_token_type_ids(batch.token_type_ids(&self.device));
                m.forward(input).last_hidden_state
            }
            TextModel::Gpt2(m) => {
                let mut input = Gpt2Input::new(batch.input_ids(&self.device));
                input.attention_mask = Some(mask.clone());
                m.forward(input, None)
            }
            _ => return Err(self.wrong_task("feature extraction")),
        };
        Ok(crate::text::bert::mean_pooling_normalized(hidden, mask))
    }
    /// Continues `prompt` (text-generation models); `on_token` receives each new token's text as
    /// it is generated. Returns the generated text and token ids.
    pub fn generate_text(&self, prompt: &str, config: &GenerationConfig, mut on_token: impl FnMut(&str)) -> Result<GeneratedText> {
        let (model, tok) = self.text("text generation")?;
        let TextModel::Gpt2LmHead(m) = model else { return Err(self.wrong_task("text generation")) };
        let ids = tok.encode(prompt, false)?;
        // Stream whole characters: decode the growing sequence and emit what is new.
        let mut generated: Vec<u32> = Vec::new();
        let mut shown = 0;
        let mut decode_err = None;
        let all = generation::generate::<B, _>(m.as_ref(), &ids, config, |id| {
            generated.push(id);
            match tok.decode(&generated, true) {
                Ok(text) if text.len() > shown && !text.ends_with('\u{fffd}') => {
                    on_token(&text[shown..]);
                    shown = text.len();
                }
                Ok(_) => {}
                Err(e) => decode_err = Some(e),
            }
            true
        })?;
        if let Some(e) = decode_err {
            return Err(e.into());
        }
        Ok(GeneratedText { text: tok.decode(&all, true)?, ids: all })
    }

    /// Continues several prompts at once (text-generation models): one left-padded batch, so
    /// each step costs one batched forward pass. Returns each prompt's generated text and ids.
    pub fn generate_texts(&self, prompts: &[&str], config: &GenerationConfig) -> Result<Vec<GeneratedText>> {
        let (model, tok) = self.text("text generation")?;
        let TextModel::Gpt2LmHead(m) = model else { return Err(self.wrong_task("text generation")) };
        let ids = prompts.iter().map(|p| tok.encode(p, false)).collect::<std::result::Result<Vec<_>, _>>()?;
        // GPT-2 has no padding token: it pads with end-of-text, which the attention mask hides.
        let pad = generation::CausalLm::<B>::eos_token_ids(m.as_ref()).first().copied().or_else(|| tok.pad_token_id()).unwrap_or(0);
        let out = generation::generate_batch::<B, _>(m.as_ref(), &ids, pad, config, |_, _| true)?;
        out.into_iter().map(|ids| Ok(GeneratedText { text: tok.decode(&ids, true)?, ids })).collect()
    }

    fn bad_input(&self, message: impl Into<String>) -> Error {
        Error::BadInput { entry: self.entry.clone(), message: message.into() }
    }

    /// The values of a (small) logits tensor, read back from the device.
    fn to_vec<const D: usize>(&self, t: Tensor<B, D>) -> Result<Vec<f32>> {
        t.into_data().convert::<f32>().to_vec::<f32>().map_err(|e| self.bad_input(format!("reading the logits back: {e:?}")))
    }

    fn label(&self, index: usize) -> String {
        self.categories.get(index).cloned().unwrap_or_else(|| format!("LABEL_{index}"))
    }

    fn bert_input(&self, e: &Encoded) -> Result<BertInput<B>> {
        self.check_length(e.ids.len())?;
        Ok(BertInput::new(ids_tensor(&[&e.ids], &self.device))
            .with_token_type_ids(ids_tensor(&[&e.type_ids], &self.device))
            .with_attention_mask(ids_tensor(&[&vec![1; e.ids.len()]], &self.device)))
    }

    /// Labels of `text` (and `pair`, for sentence-pair classifiers) with their probabilities,
    /// the `k` likeliest first (text-classification models).
    pub fn classify_text(&self, text: &str, pair: Option<&str>, k: usize) -> Result<Vec<Prediction>> {
        let (model, tok) = self.text("text classification")?;
        let logits = match model {
            TextModel::BertSequenceClassification(m) => m.forward(self.bert_input(&tok.encode_detailed(text, pair)?)?),
            TextModel::Gpt2SequenceClassification(m) => {
                if pair.is_some() {
                    return Err(self.bad_input("GPT-2 classifies one text: join the pair into one --text"));
                }
                let ids = tok.encode(text, false)?;
                if ids.is_empty() {
                    return Err(self.bad_input("the text is empty"));
                }
                self.check_length(ids.len())?;
                m.forward(Gpt2Input::new(ids_tensor(&[&ids], &self.device)))
            }
            _ => return Err(self.wrong_task("text classification")),
        };
        let probs = softmax(&self.to_vec(logits)?);
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        Ok(order.into_iter().take(k).map(|i| Prediction { index: i, label: self.label(i), probability: probs[i] as f32 }).collect())
    }

    /// The likeliest label of every token of `text`, special tokens left out
    /// (token-classification models).
    pub fn tag_tokens(&self, text: &str) -> Result<Vec<TokenTag>> {
        let (model, tok) = self.text("token classification")?;
        let TextModel::BertTokenClassification(m) = model else { return Err(self.wrong_task("token classification")) };
        let e = tok.encode_detailed(text, None)?;
        let logits = m.forward(self.bert_input(&e)?);
        let [_, seq, labels] = logits.dims();
        let values = self.to_vec(logits)?;
        Ok((0..seq)
            .filter(|&i| !e.special[i])
            .map(|i| {
                let p = softmax(&values[i * labels..(i + 1) * labels]);
                let best = (0..labels).fold(0, |b, j| if p[j] > p[b] { j } else { b });
                TokenTag { token: e.tokens[i].clone(), start: e.offsets[i].0, end: e.offsets[i].1, index: best, label: self.label(best), probability: p[best] as f32 }
            })
            .collect())
    }

    /// The answer to `question` in `context` (extractive question-answering models): the span
    /// of at most [`MAX_ANSWER_TOKENS`] context tokens maximising `p_start · p_end`.
    pub fn answer(&self, question: &str, context: &str) -> Result<Answer> {
        let (model, tok) = self.text("question answering")?;
        let TextModel::BertQuestionAnswering(m) = model else { return Err(self.wrong_task("question answering")) };
        let e = tok.encode_detailed(question, Some(context))?;
        let spans = m.forward(self.bert_input(&e)?);
        let (start, end) = (self.to_vec(spans.start_logits)?, self.to_vec(spans.end_logits)?);
        let candidates: Vec<usize> = (0..e.ids.len()).filter(|&i| e.sequence[i] == Some(1) && !e.special[i]).collect();
        if candidates.is_empty() {
            return Err(self.bad_input("the context is empty"));
        }
        let pick = |logits: &[f32]| softmax(&candidates.iter().map(|&i| logits[i]).collect::<Vec<_>>());
        let (ps, pe) = (pick(&start), pick(&end));
        let mut best = (0, 0, f64::MIN);
        for (a, &s) in candidates.iter().enumerate() {
            for (b, &t) in candidates.iter().enumerate().skip(a) {
                if t - s + 1 > MAX_ANSWER_TOKENS {
                    break;
                }
                let score = ps[a] * pe[b];
                if score > best.2 {
                    best = (s, t, score);
                }
            }
        }
        let (s, t, score) = best;
        let (from, to) = (e.offsets[s].0, e.offsets[t].1);
        Ok(Answer { answer: context[from..to].to_owned(), start: from, end: to, tokens: (s, t), score })
    }

    /// The probability that `second` follows `first` (next-sentence and pre-training models).
    pub fn next_sentence(&self, first: &str, second: &str) -> Result<f32> {
        let (model, tok) = self.text("next-sentence prediction")?;
        let input = self.bert_input(&tok.encode_detailed(first, Some(second))?)?;
        let logits = match model {
            TextModel::BertNextSentence(m) => m.forward(input),
            TextModel::BertPreTraining(m) => m.forward(input).seq_relationship_logits,
            _ => return Err(self.wrong_task("next-sentence prediction")),
        };
        Ok(softmax(&self.to_vec(logits)?)[0] as f32)
    }

    /// A probability per choice of continuing `prompt` (multiple-choice models). BERT scores
    /// the pairs `(prompt, choice)`; GPT-2 scores `prompt + " " + choice` at its last token.
    pub fn multiple_choice(&self, prompt: &str, choices: &[&str]) -> Result<Vec<f32>> {
        let (model, tok) = self.text("multiple choice")?;
        if choices.len() < 2 {
            return Err(self.bad_input("give at least two choices"));
        }
        let n = choices.len();
        let logits = match model {
            TextModel::BertMultipleChoice(m) => {
                let pairs: Vec<(&str, &str)> = choices.iter().map(|&c| (prompt, c)).collect();
                let b = tok.encode_pair_batch(&pairs, &BatchOptions::new())?;
                let seq = b.seq_len();
                self.check_length(seq)?;
                let r = |t: Tensor<B, 2, Int>| t.reshape([1, n, seq]);
                m.forward(r(b.input_ids(&self.device)), Some(r(b.token_type_ids(&self.device))), Some(r(b.attention_mask(&self.device))))
            }
            TextModel::Gpt2DoubleHeads(m) => {
                let texts: Vec<String> = choices.iter().map(|c| format!("{prompt} {c}")).collect();
                let rows = texts.iter().map(|t| tok.encode(t, false)).collect::<std::result::Result<Vec<_>, _>>()?;
                // Right padding (any id: masked), classification token = each row's last token.
                let len = rows.iter().map(Vec::len).max().unwrap_or(0);
                self.check_length(len)?;
                let padded: Vec<Vec<u32>> = rows.iter().map(|r| r.iter().copied().chain(std::iter::repeat_n(0, len - r.len())).collect()).collect();
                let mask: Vec<Vec<u32>> = rows.iter().map(|r| (0..len).map(|i| u32::from(i < r.len())).collect()).collect();
                let last: Vec<i64> = rows.iter().map(|r| r.len() as i64 - 1).collect();
                let rows3 = |v: &[Vec<u32>]| ids_tensor::<B>(&v.iter().map(Vec::as_slice).collect::<Vec<_>>(), &self.device).reshape([1, n, len]);
                let mc = Tensor::<B, 1, Int>::from_data(TensorData::new(last, [n]), &self.device).reshape([1, n]);
                m.forward(rows3(&padded), Some(mc), Some(rows3(&mask))).mc_logits
            }
            _ => return Err(self.wrong_task("multiple choice")),
        };
        Ok(softmax(&self.to_vec(logits)?).into_iter().map(|p| p as f32).collect())
    }
}
