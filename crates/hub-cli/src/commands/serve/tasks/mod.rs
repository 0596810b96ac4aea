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

mod text;

use std::io::Cursor;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hub_models::registry::Task;
use hub_models::Prediction;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::batch::Worker;
use super::error::{json_response, read_body, within, ApiError};
use super::state::Shared;
use crate::report::Ran;
use self::text::{parse_text_body, unsupported, MAX_TOP_K};
pub use self::text::{embed, fill_mask, generate, text_task, Generated, Params, TextInputs, TextResult, MAX_NEW_TOKENS};

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
        let worker = within(deadline, slot.loaded()).await?;
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
