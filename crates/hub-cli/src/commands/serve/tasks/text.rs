//! The text tasks: their request (`hub run`'s flags as JSON keys, or the inference protocol's
//! parameters), their reports (as `hub run --json` writes them) and running them on a model.

use hub_models::registry::Task;
use hub_models::tasks::{Answer, TokenPrediction, TokenTag};
use hub_models::text::generation::GenerationConfig;
use hub_models::{Cpu, Loaded, Prediction};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::error::ApiError;

/// The most classes or tokens a request may ask for.
pub(super) const MAX_TOP_K: usize = 1000;
/// The most tokens one generation request may ask for.
pub const MAX_NEW_TOKENS: usize = 1024;

/// Decoding and ranking settings, from a task request's JSON or the inference protocol's
/// request parameters.
#[derive(Debug, Clone, Deserialize)]
pub struct Params {
    #[serde(default = "default_top_k")]
    pub top_k: usize,
    #[serde(default)]
    pub max_new_tokens: Option<usize>,
    #[serde(default)]
    pub temperature: Option<f32>,
    #[serde(default)]
    pub sample_top_k: Option<usize>,
    #[serde(default)]
    pub top_p: Option<f32>,
    #[serde(default)]
    pub seed: Option<u64>,
}

fn default_top_k() -> usize {
    5
}

impl Params {
    /// Reads the known keys of a JSON object (others are left to the caller).
    pub fn from_json(v: &Value) -> Result<Params, ApiError> {
        let p: Params = serde_json::from_value(v.clone()).map_err(|e| ApiError::bad_request(format!("parameters: {e}")))?;
        if p.top_k == 0 || p.top_k > MAX_TOP_K {
            return Err(ApiError::bad_request(format!("top_k must be 1 to {MAX_TOP_K}, not {}", p.top_k)));
        }
        Ok(p)
    }

    /// Greedy decoding, or sampling when any sampling setting is given (as `hub run`).
    pub fn generation(&self) -> Result<GenerationConfig, ApiError> {
        let max_new_tokens = self.max_new_tokens.unwrap_or(40);
        if max_new_tokens > MAX_NEW_TOKENS {
            return Err(ApiError::bad_request(format!("max_new_tokens is at most {MAX_NEW_TOKENS} here, not {max_new_tokens}")));
        }
        let seed = self.seed.unwrap_or(0);
        let sampling = self.temperature.is_some() || self.sample_top_k.is_some() || self.top_p.is_some();
        let config = if sampling {
            let c = GenerationConfig::sampling(max_new_tokens, seed).with_temperature(self.temperature.unwrap_or(1.0)).with_top_p(self.top_p.unwrap_or(1.0));
            if self.sample_top_k.is_some() {
                c.with_top_k(self.sample_top_k)
            } else {
                c
            }
        } else {
            GenerationConfig::greedy(max_new_tokens)
        };
        Ok(config.with_seed(seed))
    }
}

/// One string or several.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(untagged)]
enum Texts {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Texts {
    fn into_vec(self) -> Vec<String> {
        match self {
            Texts::None => Vec::new(),
            Texts::One(s) => vec![s],
            Texts::Many(v) => v,
        }
    }
}

/// A text task's request: `hub run`'s flags as JSON keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextBody {
    #[serde(default)]
    text: Texts,
    #[serde(default)]
    text_pair: Texts,
    #[serde(default)]
    question: Option<String>,
    #[serde(default)]
    context: Option<String>,
    #[serde(default)]
    choices: Vec<String>,
    #[serde(default)]
    prompt: Texts,
    #[serde(default = "default_top_k")]
    top_k: usize,
    #[serde(default)]
    max_new_tokens: Option<usize>,
    #[serde(default)]
    temperature: Option<f32>,
    #[serde(default)]
    sample_top_k: Option<usize>,
    #[serde(default)]
    top_p: Option<f32>,
    #[serde(default)]
    seed: Option<u64>,
}

/// A parsed text request.
#[derive(Debug, Clone, Default)]
pub struct TextInputs {
    pub texts: Vec<String>,
    pub text_pairs: Vec<String>,
    pub question: Option<String>,
    pub context: Option<String>,
    pub choices: Vec<String>,
    pub prompts: Vec<String>,
}

pub(super) fn parse_text_body(bytes: &[u8]) -> Result<(TextInputs, Params), ApiError> {
    let b: TextBody = serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("the request is not a valid task request: {e}")))?;
    let params = Params::from_json(&serde_json::json!({
        "top_k": b.top_k, "max_new_tokens": b.max_new_tokens, "temperature": b.temperature,
        "sample_top_k": b.sample_top_k, "top_p": b.top_p, "seed": b.seed,
    }))?;
    let inputs = TextInputs {
        texts: b.text.into_vec(),
        text_pairs: b.text_pair.into_vec(),
        question: b.question,
        context: b.context,
        choices: b.choices,
        prompts: b.prompt.into_vec(),
    };
    Ok((inputs, params))
}

/// The likeliest tokens for each `[MASK]` of each text.
#[derive(Serialize, Debug)]
pub struct Filled {
    pub results: Vec<FilledText>,
}

#[derive(Serialize, Debug)]
pub struct FilledText {
    pub input: String,
    pub masks: Vec<Vec<TokenPrediction>>,
}

/// Sentence embeddings, as their cosine similarities.
#[derive(Serialize, Debug)]
pub struct Embedded {
    pub dim: usize,
    pub inputs: Vec<String>,
    pub cosine_similarity: Vec<Vec<f32>>,
}

/// The continuations of the prompts.
#[derive(Serialize, Debug)]
#[serde(untagged)]
pub enum Generated {
    One {
        #[serde(flatten)]
        continuation: Continuation,
        sampling: bool,
        seed: u64,
    },
    Batch {
        results: Vec<Continuation>,
        sampling: bool,
        seed: u64,
    },
}

#[derive(Serialize, Debug)]
pub struct Continuation {
    pub prompt: String,
    pub generated: String,
    pub token_ids: Vec<u32>,
}

/// The results of the other text tasks.
#[derive(Serialize, Debug)]
pub struct TextTask {
    pub task: &'static str,
    pub results: Vec<TextResult>,
}

#[derive(Serialize, Debug)]
#[serde(untagged)]
pub enum TextResult {
    Labels { text: String, text_pair: Option<String>, labels: Vec<Prediction> },
    Tags { text: String, tokens: Vec<TokenTag> },
    Answer { question: String, context: String, answer: Answer },
    NextSentence { text: String, text_pair: String, is_next_probability: f32 },
    Choices { text: String, choices: Vec<Choice> },
}

#[derive(Serialize, Debug)]
pub struct Choice {
    pub choice: String,
    pub probability: f32,
}

fn model_error(e: hub_models::Error) -> ApiError {
    ApiError::from_model(&e)
}

/// Fill-mask on each text.
pub fn fill_mask(model: &Loaded<Cpu>, texts: &[String], k: usize) -> Result<Filled, ApiError> {
    if texts.is_empty() {
        return Err(ApiError::bad_request("give text: \"... [MASK] ...\" (one or more)"));
    }
    let results = texts.iter().map(|t| Ok(FilledText { input: t.clone(), masks: model.fill_mask(t, k).map_err(model_error)? })).collect::<Result<_, ApiError>>()?;
    Ok(Filled { results })
}

/// Sentence embeddings and their cosine similarities.
pub fn embed(model: &Loaded<Cpu>, texts: &[String]) -> Result<Embedded, ApiError> {
    if texts.is_empty() {
        return Err(ApiError::bad_request("give text: one or more sentences"));
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let emb = model.embed(&refs).map_err(model_error)?;
    let [n, dim] = emb.dims();
    let values: Vec<f32> = emb.into_data().iter::<f32>().collect();
    let row = |i: usize| &values[i * dim..(i + 1) * dim];
    // The embeddings are L2-normalised: their dot products are the cosines.
    let cosine_similarity = (0..n).map(|i| (0..n).map(|j| row(i).iter().zip(row(j)).map(|(a, b)| a * b).sum()).collect()).collect();
    Ok(Embedded { dim, inputs: texts.to_vec(), cosine_similarity })
}

/// Continues the prompts (several: one batch).
pub fn generate(model: &Loaded<Cpu>, prompts: &[String], params: &Params) -> Result<Generated, ApiError> {
    let config = params.generation()?;
    let (sampling, seed) = (config.do_sample, params.seed.unwrap_or(0));
    match prompts {
        [] => Err(ApiError::bad_request("give prompt: \"...\" (one or more)")),
        [prompt] => {
            let t = model.generate_text(prompt, &config, |_| {}).map_err(model_error)?;
            Ok(Generated::One { continuation: Continuation { prompt: prompt.clone(), generated: t.text, token_ids: t.ids }, sampling, seed })
        }
        _ => {
            let refs: Vec<&str> = prompts.iter().map(String::as_str).collect();
            let texts = model.generate_texts(&refs, &config).map_err(model_error)?;
            let results = prompts.iter().zip(texts).map(|(p, t)| Continuation { prompt: p.clone(), generated: t.text, token_ids: t.ids }).collect();
            Ok(Generated::Batch { results, sampling, seed })
        }
    }
}

/// Text classification, token tagging, question answering, next-sentence and multiple choice.
pub fn text_task(model: &Loaded<Cpu>, inputs: &TextInputs, top_k: usize) -> Result<TextTask, ApiError> {
    let bad = |m: String| ApiError::bad_request(m);
    let task = model.architecture.task;
    let pairs = || -> Result<Vec<(&str, Option<&str>)>, ApiError> {
        if inputs.texts.is_empty() {
            return Err(bad("give text (one or more)".into()));
        }
        if !inputs.text_pairs.is_empty() && inputs.text_pairs.len() != inputs.texts.len() {
            return Err(bad(format!("give one text_pair per text ({} texts, {} pairs)", inputs.texts.len(), inputs.text_pairs.len())));
        }
        Ok(inputs.texts.iter().enumerate().map(|(i, t)| (t.as_str(), inputs.text_pairs.get(i).map(String::as_str))).collect())
    };
    let results = match task {
        Task::TextClassification => pairs()?
            .into_iter()
            .map(|(text, pair)| Ok(TextResult::Labels { labels: model.classify_text(text, pair, top_k).map_err(model_error)?, text: text.to_owned(), text_pair: pair.map(str::to_owned) }))
            .collect::<Result<_, ApiError>>()?,
        Task::TokenClassification => {
            if !inputs.text_pairs.is_empty() {
                return Err(bad(format!("{} tags single texts: text_pair does not apply", model.entry)));
            }
            pairs()?.into_iter().map(|(text, _)| Ok(TextResult::Tags { tokens: model.tag_tokens(text).map_err(model_error)?, text: text.to_owned() })).collect::<Result<_, ApiError>>()?
        }
        Task::QuestionAnswering => {
            let (Some(question), Some(context)) = (&inputs.question, &inputs.context) else { return Err(bad(format!("{} answers questions: give question and context", model.entry))) };
            vec![TextResult::Answer { answer: model.answer(question, context).map_err(model_error)?, question: question.clone(), context: context.clone() }]
        }
        Task::NextSentencePrediction => {
            let mut out = Vec::new();
            for (text, pair) in pairs()? {
                let Some(pair) = pair else { return Err(bad(format!("{} scores sentence pairs: give text and text_pair", model.entry))) };
                out.push(TextResult::NextSentence { is_next_probability: model.next_sentence(text, pair).map_err(model_error)?, text: text.to_owned(), text_pair: pair.to_owned() });
            }
            out
        }
        Task::MultipleChoice => {
            let [prompt] = inputs.texts.as_slice() else { return Err(bad(format!("{} picks a continuation: give one text and choices", model.entry))) };
            let choices: Vec<&str> = inputs.choices.iter().map(String::as_str).collect();
            let probs = model.multiple_choice(prompt, &choices).map_err(model_error)?;
            vec![TextResult::Choices { text: prompt.clone(), choices: inputs.choices.iter().zip(probs).map(|(c, probability)| Choice { choice: c.clone(), probability }).collect() }]
        }
        other => return Err(unsupported(other, &model.entry)),
    };
    Ok(TextTask { task: task.as_str(), results })
}

pub(super) fn unsupported(task: Task, entry: &str) -> ApiError {
    ApiError::bad_request(format!("{} models ({entry}) are not served over HTTP yet; `hub run` runs them", task.as_str()))
}
