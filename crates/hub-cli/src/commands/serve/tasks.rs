//! Task-level JSON endpoints: `POST /api/models/{name}` answers the document `hub run --json`
//! prints for the same inputs (the `repo`, `entry`, `weights`, `device` envelope beside the
//! task's fields), and `GET /api/models` lists every entrypoint as `hub list --json` does.
//!
//! Image classifiers take the image as the body (PNG or JPEG) or as `multipart/form-data`
//! files (several: one batch); `?top_k=5`. Text models take a JSON body with the `hub run`
//! flags' names: `text`, `text_pair`, `question`, `context`, `choices`, `prompt`, `top_k`,
//! `max_new_tokens`, `temperature`, `sample_top_k`, `top_p`, `seed`. `?weights=NAME` picks
//! the version.
//!
//! The report types mirror those of `commands/run/*.rs`, which are private to `hub run`.

use std::io::Cursor;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hub_models::registry::Task;
use hub_models::tasks::{Answer, TokenPrediction, TokenTag};
use hub_models::text::generation::GenerationConfig;
use hub_models::{Cpu, Loaded, Prediction};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::batch::Worker;
use super::{json_response, read_body, within, ApiError, Shared};
use crate::report::Ran;

/// The most classes or tokens a request may ask for.
const MAX_TOP_K: usize = 1000;
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

fn parse_text_body(bytes: &[u8]) -> Result<(TextInputs, Params), ApiError> {
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

/// The top classes of each image (`hub run`'s classification report).
#[derive(Serialize, Debug)]
pub struct Classified {
    pub results: Vec<ImageClasses>,
}

#[derive(Serialize, Debug)]
pub struct ImageClasses {
    /// The uploaded file's name.
    pub input: String,
    pub top_k: Vec<Prediction>,
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

fn unsupported(task: Task, entry: &str) -> ApiError {
    ApiError::bad_request(format!("{} models ({entry}) are not served over HTTP yet; `hub run` runs them", task.as_str()))
}

/// Decodes an uploaded image as 8-bit RGB, refusing more than `HUB_MAX_IMAGE_PIXELS` pixels
/// from the header, before decoding (as `hub run`'s file loader does).
pub fn decode_image(name: &str, bytes: &[u8]) -> Result<image::RgbImage, ApiError> {
    let bad = |e: &dyn std::fmt::Display| ApiError::bad_request(format!("{name}: not a PNG or JPEG image this server can read: {e}"));
    let max = hub_models::preprocess::max_image_pixels().map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let reader = || image::ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| bad(&e));
    let (w, h) = reader()?.into_dimensions().map_err(|e| bad(&e))?;
    let pixels = u64::from(w) * u64::from(h);
    if pixels > max {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("{name}: {w}x{h} is {pixels} pixels, more than HUB_MAX_IMAGE_PIXELS {max}")));
    }
    let mut reader = reader()?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max.saturating_mul(8).max(1 << 20));
    reader.limits(limits);
    let image = reader.decode().map_err(|e| bad(&e))?.to_rgb8();
    if image.width() == 0 || image.height() == 0 {
        return Err(ApiError::bad_request(format!("{name}: the image is empty")));
    }
    Ok(image)
}

/// Classifies uploaded images `(name, bytes)` through the batching queue.
pub async fn classify(worker: &Worker, images: Vec<(String, Bytes)>, k: usize) -> Result<Classified, ApiError> {
    if images.is_empty() {
        return Err(ApiError::bad_request("give an image: the request body, or multipart/form-data files"));
    }
    if k == 0 || k > MAX_TOP_K {
        return Err(ApiError::bad_request(format!("top_k must be 1 to {MAX_TOP_K}, not {k}")));
    }
    let pre = worker.info.preprocess.clone().ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the classifier has no preprocessing"))?;
    let names: Vec<String> = images.iter().map(|(n, _)| n.clone()).collect();
    let n = images.len();
    // Decoding and resizing are CPU work: not on the async executor.
    let values = tokio::task::spawn_blocking(move || -> Result<Vec<f32>, ApiError> {
        let mut values = Vec::new();
        for (name, bytes) in &images {
            let image = decode_image(name, bytes)?;
            values.extend(pre.to_chw(&image).map_err(|e| ApiError::from_model(&e.into()))?);
        }
        Ok(values)
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "decoding the image failed (a bug in hub; see the log)"))??;
    let out = worker.rows(values, n, Some(k)).await?;
    Ok(Classified { results: names.into_iter().zip(out.top_k).map(|(input, top_k)| ImageClasses { input, top_k }).collect() })
}

/// The images of a request: `multipart/form-data` files, or the body itself.
pub async fn images_of(request: Request, app: &Shared, deadline: tokio::time::Instant, default_name: &str) -> Result<Vec<(String, Bytes)>, ApiError> {
    let multipart = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with("multipart/form-data"));
    if !multipart {
        let body = read_body(request.into_body(), &app.limits, deadline).await?;
        return Ok(if body.is_empty() { Vec::new() } else { vec![(default_name.to_owned(), body)] });
    }
    let collect = async {
        let mut form = Multipart::from_request(request, &()).await.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        let mut files = Vec::new();
        while let Some(field) = form.next_field().await.map_err(|e| ApiError::new(e.status(), e.body_text()))? {
            let Some(file) = field.file_name().map(str::to_owned) else { continue };
            let bytes = field.bytes().await.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
            if !bytes.is_empty() {
                files.push((if file.is_empty() { default_name.to_owned() } else { file }, bytes));
            }
        }
        Ok(files)
    };
    tokio::time::timeout_at(deadline, collect).await.unwrap_or_else(|_| Err(ApiError::new(StatusCode::REQUEST_TIMEOUT, "the request body did not arrive within --timeout-s")))
}

/// The query of a task or demo request.
#[derive(Debug, Deserialize, Default)]
pub struct TaskQuery {
    #[serde(default)]
    pub weights: Option<String>,
    #[serde(default)]
    pub top_k: Option<usize>,
    /// The name of an image sent as the body.
    #[serde(default)]
    pub name: Option<String>,
}

pub fn query<T: serde::de::DeserializeOwned + Default>(uri: &Uri) -> Result<T, ApiError> {
    if uri.query().is_none() {
        return Ok(T::default());
    }
    axum::extract::Query::<T>::try_from_uri(uri).map(|q| q.0).map_err(|e| ApiError::bad_request(e.body_text()))
}

/// The envelope of `hub run --json`.
pub fn ran(worker: &Worker) -> Ran {
    Ran { repo: worker.info.repo.clone(), entry: worker.info.entry.clone(), weights: worker.info.weights.clone(), device: "cpu" }
}

/// `POST /api/models/{name}`: the model's task on the request's inputs.
pub async fn run(State(app): State<Shared>, Path(name): Path<String>, request: Request) -> Response {
    let deadline = tokio::time::Instant::now() + app.limits.timeout;
    let result = async {
        let q: TaskQuery = query(request.uri())?;
        let key = app.models.resolve(&name, q.weights.as_deref())?;
        let slot = app.models.slot(&key);
        let worker = within(deadline, slot.loaded(&app)).await?;
        let envelope = ran(&worker);
        let task = worker.info.task;
        let body = match task {
            Task::ImageClassification => {
                let images = images_of(request, &app, deadline, q.name.as_deref().unwrap_or("upload")).await?;
                let report = within(deadline, classify(&worker, images, q.top_k.unwrap_or(5))).await?;
                serde_json::to_value(envelope.with(report))
            }
            Task::FillMask | Task::FeatureExtraction | Task::TextGeneration | Task::TextClassification | Task::TokenClassification | Task::QuestionAnswering | Task::NextSentencePrediction | Task::MultipleChoice => {
                let bytes = read_body(request.into_body(), &app.limits, deadline).await?;
                let (inputs, params) = parse_text_body(&bytes)?;
                within(deadline, run_text(&worker, inputs, params)).await.map(|report| serde_json::to_value(envelope.with(report)))?
            }
            other => return Err(unsupported(other, &worker.info.entry)),
        }
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        Ok::<_, ApiError>(json_response(&slot.name, &body))
    }
    .await;
    result.unwrap_or_else(|e| e.for_model(&name).into_response())
}

/// A text task's report, as JSON.
pub async fn run_text(worker: &Worker, inputs: TextInputs, params: Params) -> Result<Value, ApiError> {
    let task = worker.info.task;
    let to_json = |r: Result<Value, serde_json::Error>| r.map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()));
    worker
        .run(move |m| match task {
            Task::FillMask => to_json(serde_json::to_value(fill_mask(m, &inputs.texts, params.top_k)?)),
            Task::FeatureExtraction => to_json(serde_json::to_value(embed(m, &inputs.texts)?)),
            Task::TextGeneration => {
                let prompts = if inputs.prompts.is_empty() { &inputs.texts } else { &inputs.prompts };
                to_json(serde_json::to_value(generate(m, prompts, &params)?))
            }
            _ => to_json(serde_json::to_value(text_task(m, &inputs, params.top_k)?)),
        })
        .await
}

/// One entrypoint of a served repo, as `hub list --json` shows it, with its model name.
#[derive(Serialize, Debug, Clone)]
pub struct EntryRow {
    /// The model's name on this server.
    pub model: String,
    pub repo: String,
    pub name: String,
    pub task: String,
    pub architecture: String,
    pub summary: String,
    pub default_weights: Option<String>,
    pub weights: Vec<String>,
    pub params: Option<u64>,
    #[serde(rename = "acc@1")]
    pub acc1: Option<f64>,
    pub runnable: bool,
    /// The default weights are in the cache.
    pub cached: bool,
    pub loaded: bool,
}

/// Every entrypoint of every served repo.
pub fn entries(app: &Shared) -> Vec<EntryRow> {
    let loaded: Vec<(usize, String)> = app.models.slots().iter().filter(|s| s.worker().is_some()).map(|s| (s.key.repo, s.key.entry.clone())).collect();
    let mut rows = Vec::new();
    for (i, repo) in app.models.repos.iter().enumerate() {
        for (name, e) in &repo.manifest.entrypoints {
            let default = e.weights(name, None).ok().flatten();
            rows.push(EntryRow {
                model: app.models.name_of(i, name),
                repo: repo.name.clone(),
                name: name.clone(),
                task: e.task.clone(),
                architecture: e.architecture.clone(),
                summary: e.summary.clone(),
                default_weights: default.map(|(n, _)| n.to_owned()),
                weights: e.weights.keys().cloned().collect(),
                params: default.and_then(|(_, w)| w.params),
                acc1: default.and_then(|(_, w)| w.metrics.get("acc@1").copied()),
                runnable: hub_models::registry::find(&e.architecture).is_some(),
                cached: default.is_some_and(|(_, w)| app.models.hub.is_cached(&w.artifact)),
                loaded: loaded.iter().any(|(r, n)| *r == i && n == name),
            });
        }
    }
    rows
}

/// `GET /api/models`.
pub async fn list(State(app): State<Shared>) -> Response {
    let rows = tokio::task::spawn_blocking(move || entries(&app)).await.unwrap_or_default();
    json_response("", &serde_json::json!({ "models": rows }))
}
