//! The Open Inference Protocol v2 (KServe / Triton) over REST, with JSON tensors and Triton's
//! binary tensor data and classification extensions.
//!
//! A model is `/v2/models/{name}[/versions/{version}]`: `name` is `ENTRY` of the default repo
//! or `REPO/ENTRY` (its slashes as they are, or `%2F`), `version` the weights' name. What each
//! task takes and gives is in [`io`]; docs/serving.md lists it.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hub_models::registry::Task;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::batch::{Info, Worker};
use super::models::LoadState;
use super::{json_response, read_body, tasks, within, ApiError, Shared};

/// The header that gives the JSON part's length of a binary-data request or response.
const HEADER_LENGTH: &str = "inference-header-content-length";

/// `GET /v2`.
pub async fn server_metadata() -> Response {
    json_response("", &json!({ "name": "hub", "version": env!("CARGO_PKG_VERSION"), "extensions": ["binary_tensor_data", "classification", "model_repository"] }))
}

/// `GET /v2/health/live`: the process answers.
pub async fn live() -> Response {
    json_response("", &json!({ "live": true }))
}

/// `GET /v2/health/ready`: the `--model`s have been loaded (or failed).
pub async fn ready(State(app): State<Shared>) -> Response {
    let ready = app.ready.load(std::sync::atomic::Ordering::SeqCst);
    let mut r = json_response("", &json!({ "ready": ready }));
    if !ready {
        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    }
    r
}

/// `POST /v2/repository/index`: every entrypoint's default model and every model seen, with its state.
pub async fn repository_index(State(app): State<Shared>) -> Response {
    let mut rows: BTreeMap<(String, String), Value> = BTreeMap::new();
    for (i, repo) in app.models.repos.iter().enumerate() {
        for entry in repo.manifest.entrypoints.keys() {
            let name = app.models.name_of(i, entry);
            let key = super::models::Key { repo: i, entry: entry.clone(), weights: None };
            let version = app.models.version_of(&key);
            rows.insert((name.clone(), version.clone()), json!({ "name": name, "version": version, "state": "UNLOADED" }));
        }
    }
    for slot in app.models.slots() {
        let (state, reason) = match slot.state() {
            LoadState::Idle => ("UNLOADED", None),
            LoadState::Loading => ("LOADING", None),
            LoadState::Ready(_) => ("READY", None),
            LoadState::Failed(e) => ("UNAVAILABLE", Some(e.message)),
        };
        let mut row = json!({ "name": slot.name, "version": slot.version, "state": state });
        if let Some(r) = reason {
            row["reason"] = json!(r);
        }
        rows.insert((slot.name.clone(), slot.version.clone()), row);
    }
    json_response("", &rows.into_values().collect::<Vec<_>>())
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Action {
    Metadata,
    Ready,
    Config,
    Infer,
}

/// `name[/versions/v][/ready|/infer|/config]`.
fn parse_path(rest: &str) -> (&str, Option<&str>, Action) {
    let (rest, action) = [("/ready", Action::Ready), ("/infer", Action::Infer), ("/config", Action::Config)]
        .into_iter()
        .find_map(|(suffix, a)| rest.strip_suffix(suffix).map(|r| (r, a)))
        .unwrap_or((rest, Action::Metadata));
    match rest.find("/versions/") {
        Some(i) => (&rest[..i], Some(&rest[i + "/versions/".len()..]), action),
        None => (rest, None, action),
    }
}

/// `GET /v2/models/{name}[/versions/{v}][/ready|/config]`.
pub async fn model_get(State(app): State<Shared>, Path(rest): Path<String>) -> Response {
    let (name, version, action) = parse_path(&rest);
    let result = async {
        let key = app.models.resolve(name, version)?;
        let slot = app.models.slot(&key);
        match action {
            Action::Ready => {
                // Readiness never waits: it starts the load and says where it is.
                slot.start(&app);
                let (ready, status) = match slot.state() {
                    LoadState::Ready(_) => (json!({ "name": slot.name, "version": slot.version, "ready": true }), StatusCode::OK),
                    LoadState::Failed(e) => (json!({ "name": slot.name, "version": slot.version, "ready": false, "error": e.message }), StatusCode::SERVICE_UNAVAILABLE),
                    LoadState::Idle | LoadState::Loading => (json!({ "name": slot.name, "version": slot.version, "ready": false }), StatusCode::SERVICE_UNAVAILABLE),
                };
                let mut r = json_response(&slot.name, &ready);
                *r.status_mut() = status;
                Ok(r)
            }
            Action::Metadata | Action::Config => {
                let deadline = tokio::time::Instant::now() + app.limits.timeout;
                let worker = within(deadline, slot.loaded(&app)).await?;
                let (inputs, outputs) = io(&worker.info);
                let body = if action == Action::Metadata {
                    json!({
                        "name": slot.name,
                        "versions": [slot.version],
                        "platform": "hub_burn_flex",
                        "parameters": { "task": worker.info.task.as_str(), "repo": worker.info.repo, "entry": worker.info.entry },
                        "inputs": inputs.iter().map(TensorSpec::metadata).collect::<Vec<_>>(),
                        "outputs": outputs.iter().map(TensorSpec::metadata).collect::<Vec<_>>(),
                    })
                } else {
                    // Triton's model configuration: dims without the batch dimension.
                    let batching = worker.info.task == Task::ImageClassification;
                    let config = |t: &TensorSpec| json!({ "name": t.name, "data_type": format!("TYPE_{}", if t.datatype == "BYTES" { "STRING" } else { t.datatype }), "dims": t.shape[1..] });
                    json!({
                        "name": slot.name,
                        "platform": "hub_burn_flex",
                        "max_batch_size": if batching { worker.config.max_rows } else { 0 },
                        "dynamic_batching": if batching { json!({ "max_queue_delay_microseconds": worker.config.max_delay.as_micros() as u64 }) } else { Value::Null },
                        "input": inputs.iter().map(config).collect::<Vec<_>>(),
                        "output": outputs.iter().map(config).collect::<Vec<_>>(),
                    })
                };
                Ok(json_response(&slot.name, &body))
            }
            Action::Infer => Err(ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "infer takes a POST")),
        }
    }
    .await;
    result.unwrap_or_else(|e: ApiError| e.for_model(name).into_response())
}

/// `POST /v2/models/{name}[/versions/{v}]/infer`.
pub async fn model_post(State(app): State<Shared>, Path(rest): Path<String>, headers: HeaderMap, body: Body) -> Response {
    let (name, version, action) = parse_path(&rest);
    if action != Action::Infer {
        return ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "only .../infer takes a POST").for_model(name).into_response();
    }
    let deadline = tokio::time::Instant::now() + app.limits.timeout;
    let result = async {
        let key = app.models.resolve(name, version)?;
        let slot = app.models.slot(&key);
        let bytes = read_body(body, &app.limits, deadline).await?;
        let request = parse_request(&headers, bytes)?;
        let worker = within(deadline, slot.loaded(&app)).await?;
        let outputs = within(deadline, infer(&worker, &request)).await?;
        respond(&slot.name, &slot.version, &request, outputs)
    }
    .await;
    result.unwrap_or_else(|e| e.for_model(name).into_response())
}

/// One tensor of a model's metadata.
#[derive(Debug, Clone)]
struct TensorSpec {
    name: &'static str,
    datatype: &'static str,
    /// `-1`: any size.
    shape: Vec<i64>,
}

impl TensorSpec {
    fn new(name: &'static str, datatype: &'static str, shape: &[i64]) -> TensorSpec {
        TensorSpec { name, datatype, shape: shape.to_vec() }
    }

    fn metadata(&self) -> Value {
        json!({ "name": self.name, "datatype": self.datatype, "shape": self.shape })
    }
}

/// The inputs and outputs of a model's task (none: not served over this protocol yet; its
/// task endpoint serves it).
fn io(info: &Info) -> (Vec<TensorSpec>, Vec<TensorSpec>) {
    let t = TensorSpec::new;
    let text = || t("text", "BYTES", &[-1]);
    match info.task {
        Task::ImageClassification => {
            let c = info.crop().map_or(-1, |c| c as i64);
            (vec![t("input", "FP32", &[-1, 3, c, c])], vec![t("logits", "FP32", &[-1, info.classes.map_or(-1, |n| n as i64)])])
        }
        Task::FillMask => (vec![text()], vec![t("token", "BYTES", &[-1, -1, -1]), t("token_id", "INT64", &[-1, -1, -1]), t("probability", "FP32", &[-1, -1, -1])]),
        Task::FeatureExtraction => (vec![text()], vec![t("embedding", "FP32", &[-1, -1])]),
        Task::TextGeneration => (vec![text()], vec![t("generated", "BYTES", &[-1])]),
        Task::TextClassification => (vec![text(), t("text_pair", "BYTES", &[-1])], vec![t("probabilities", "FP32", &[-1, -1]), t("label", "BYTES", &[-1])]),
        Task::QuestionAnswering => (
            vec![t("question", "BYTES", &[-1]), t("context", "BYTES", &[-1])],
            vec![t("answer", "BYTES", &[-1]), t("score", "FP32", &[-1]), t("start", "INT64", &[-1]), t("end", "INT64", &[-1])],
        ),
        Task::NextSentencePrediction => (vec![text(), t("text_pair", "BYTES", &[-1])], vec![t("is_next_probability", "FP32", &[-1])]),
        Task::ImageGeneration
        | Task::SemanticSegmentation
        | Task::TextToSpectrogram
        | Task::SpectrogramToAudio
        | Task::TokenClassification
        | Task::MultipleChoice
        | Task::PreTraining
        | Task::Tokenization => (Vec::new(), Vec::new()),
    }
}

#[derive(Deserialize, Debug)]
struct InferRequest {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    parameters: Map<String, Value>,
    inputs: Vec<RequestInput>,
    #[serde(default)]
    outputs: Option<Vec<RequestOutput>>,
}

#[derive(Deserialize, Debug)]
struct RequestInput {
    name: String,
    shape: Vec<i64>,
    datatype: String,
    #[serde(default)]
    parameters: Map<String, Value>,
    #[serde(default)]
    data: Option<Value>,
}

#[derive(Deserialize, Debug)]
struct RequestOutput {
    name: String,
    #[serde(default)]
    parameters: Map<String, Value>,
}

/// A decoded input tensor.
#[derive(Debug)]
struct Input {
    name: String,
    shape: Vec<usize>,
    data: Data,
}

#[derive(Debug)]
enum Data {
    F32(Vec<f32>),
    Bytes(Vec<Vec<u8>>),
    /// A datatype that no model here takes (named in the error).
    Other(String),
}

/// A parsed request: its JSON and its inputs' values.
#[derive(Debug)]
struct Request {
    json: InferRequest,
    inputs: Vec<Input>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message)
}

/// Splits off the binary part (when `Inference-Header-Content-Length` says there is one),
/// parses the JSON and decodes every input.
fn parse_request(headers: &HeaderMap, body: Bytes) -> Result<Request, ApiError> {
    let (head, mut binary) = match headers.get(HEADER_LENGTH) {
        Some(v) => {
            let n: usize = v.to_str().ok().and_then(|s| s.trim().parse().ok()).ok_or_else(|| bad(format!("{HEADER_LENGTH} is not a number")))?;
            if n > body.len() {
                return Err(bad(format!("{HEADER_LENGTH} is {n} but the body has {} bytes", body.len())));
            }
            (body.slice(..n), body.slice(n..))
        }
        None => (body.clone(), Bytes::new()),
    };
    let json: InferRequest = serde_json::from_slice(&head).map_err(|e| bad(format!("the request is not a valid inference request: {e}")))?;
    let mut inputs = Vec::with_capacity(json.inputs.len());
    for input in &json.inputs {
        inputs.push(decode_input(input, &mut binary)?);
    }
    if !binary.is_empty() {
        return Err(bad(format!("{} bytes of binary data are not claimed by any input's binary_data_size", binary.len())));
    }
    Ok(Request { json, inputs })
}

fn decode_input(input: &RequestInput, binary: &mut Bytes) -> Result<Input, ApiError> {
    let name = &input.name;
    let mut count: usize = 1;
    let mut shape = Vec::with_capacity(input.shape.len());
    for &d in &input.shape {
        let d = usize::try_from(d).map_err(|_| bad(format!("input {name:?}: shape {:?} has a negative dimension", input.shape)))?;
        count = count.checked_mul(d).ok_or_else(|| bad(format!("input {name:?}: shape {:?} is too large", input.shape)))?;
        shape.push(d);
    }
    let data = match input.parameters.get("binary_data_size") {
        Some(size) => {
            let size = size.as_u64().and_then(|s| usize::try_from(s).ok()).ok_or_else(|| bad(format!("input {name:?}: binary_data_size is not a byte count")))?;
            if size > binary.len() {
                return Err(bad(format!("input {name:?}: binary_data_size {size} but only {} bytes of binary data remain", binary.len())));
            }
            let raw = binary.split_to(size);
            decode_binary(name, &input.datatype, &raw, count)?
        }
        None => {
            let Some(data) = &input.data else { return Err(bad(format!("input {name:?} has no data (nor binary_data_size)"))) };
            let mut leaves = Vec::new();
            flatten(data, &mut leaves);
            decode_json(name, &input.datatype, &leaves, count)?
        }
    };
    Ok(Input { name: name.clone(), shape, data })
}

/// The leaves of nested JSON arrays, in row-major order.
fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        leaf => out.push(leaf),
    }
}

fn count_error(name: &str, got: usize, want: usize) -> ApiError {
    bad(format!("input {name:?} has {got} values but its shape holds {want}"))
}

fn decode_json(name: &str, datatype: &str, leaves: &[&Value], count: usize) -> Result<Data, ApiError> {
    if leaves.len() != count {
        return Err(count_error(name, leaves.len(), count));
    }
    Ok(match datatype {
        "FP32" => Data::F32(
            leaves
                .iter()
                .map(|v| v.as_f64().map(|x| x as f32).ok_or_else(|| bad(format!("input {name:?} is FP32 but holds {v}"))))
                .collect::<Result<_, _>>()?,
        ),
        "BYTES" => Data::Bytes(
            leaves.iter().map(|v| v.as_str().map(|s| s.as_bytes().to_vec()).ok_or_else(|| bad(format!("input {name:?} is BYTES but holds {v} (not a string)")))).collect::<Result<_, _>>()?,
        ),
        other => known_datatype(name, other)?,
    })
}

fn decode_binary(name: &str, datatype: &str, raw: &[u8], count: usize) -> Result<Data, ApiError> {
    Ok(match datatype {
        "FP32" => {
            if raw.len() != count * 4 {
                return Err(count_error(name, raw.len() / 4, count));
            }
            Data::F32(raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        }
        "BYTES" => {
            // Each element: a 4-byte little-endian length, then its bytes.
            let mut items = Vec::new();
            let mut rest = raw;
            while !rest.is_empty() {
                let (len, tail) = rest.split_at_checked(4).ok_or_else(|| bad(format!("input {name:?}: truncated BYTES element length")))?;
                let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
                let (item, tail) = tail.split_at_checked(len).ok_or_else(|| bad(format!("input {name:?}: a BYTES element is longer than the data")))?;
                items.push(item.to_vec());
                rest = tail;
            }
            if items.len() != count {
                return Err(count_error(name, items.len(), count));
            }
            Data::Bytes(items)
        }
        other => known_datatype(name, other)?,
    })
}

/// A valid datatype no model takes is kept (and refused where an input is read); an invalid one is an error now.
fn known_datatype(name: &str, datatype: &str) -> Result<Data, ApiError> {
    const TYPES: &[&str] = &["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BF16", "BYTES"];
    if TYPES.contains(&datatype) {
        Ok(Data::Other(datatype.to_owned()))
    } else {
        Err(bad(format!("input {name:?}: {datatype:?} is not a datatype of the protocol ({})", TYPES.join(", "))))
    }
}

/// An output tensor.
#[derive(Debug)]
struct Output {
    name: &'static str,
    shape: Vec<usize>,
    data: OutData,
}

#[derive(Debug)]
enum OutData {
    F32(Vec<f32>),
    I64(Vec<i64>),
    Bytes(Vec<String>),
}

impl OutData {
    fn datatype(&self) -> &'static str {
        match self {
            OutData::F32(_) => "FP32",
            OutData::I64(_) => "INT64",
            OutData::Bytes(_) => "BYTES",
        }
    }

    fn json(&self) -> Value {
        match self {
            OutData::F32(v) => json!(v),
            OutData::I64(v) => json!(v),
            OutData::Bytes(v) => json!(v),
        }
    }

    fn binary(&self) -> Vec<u8> {
        match self {
            OutData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            OutData::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            OutData::Bytes(v) => v.iter().flat_map(|s| (s.len() as u32).to_le_bytes().into_iter().chain(s.bytes())).collect(),
        }
    }
}

impl Request {
    /// The one input called `name`, checked against `spec` (datatype; shape where fixed).
    fn input(&self, spec: &TensorSpec) -> Result<Option<&Input>, ApiError> {
        let Some(input) = self.inputs.iter().find(|i| i.name == spec.name) else { return Ok(None) };
        let datatype = match &input.data {
            Data::F32(_) => "FP32",
            Data::Bytes(_) => "BYTES",
            Data::Other(t) => t.as_str(),
        };
        if datatype != spec.datatype {
            return Err(bad(format!("input {:?} must be {}, not {datatype}", spec.name, spec.datatype)));
        }
        let fits = input.shape.len() == spec.shape.len() && input.shape.iter().zip(&spec.shape).all(|(&got, &want)| want < 0 || got as i64 == want);
        if !fits {
            return Err(bad(format!("input {:?} has shape {:?}; this model takes {:?} (-1: any size)", spec.name, input.shape, spec.shape)));
        }
        Ok(Some(input))
    }

    /// The strings of a BYTES input, as UTF-8.
    fn texts(&self, spec: &TensorSpec) -> Result<Option<Vec<String>>, ApiError> {
        let Some(input) = self.input(spec)? else { return Ok(None) };
        let Data::Bytes(items) = &input.data else { unreachable!("input() checked the datatype") };
        let texts = items.iter().map(|b| String::from_utf8(b.clone()).map_err(|_| bad(format!("input {:?} holds bytes that are not UTF-8 text", spec.name)))).collect::<Result<Vec<_>, _>>()?;
        if texts.is_empty() {
            return Err(bad(format!("input {:?} is empty", spec.name)));
        }
        Ok(Some(texts))
    }

    fn required_texts(&self, spec: &TensorSpec) -> Result<Vec<String>, ApiError> {
        self.texts(spec)?.ok_or_else(|| bad(format!("this model needs the input {:?} ({} {:?})", spec.name, spec.datatype, spec.shape)))
    }

    /// A request-level parameter.
    fn parameter(&self, name: &str) -> Option<&Value> {
        self.json.parameters.get(name)
    }

    /// What the client asked of the output `name`: `None` when it named outputs but not this one.
    fn requested(&self, name: &str) -> Option<&Map<String, Value>> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        match &self.json.outputs {
            None => Some(EMPTY.get_or_init(Map::new)),
            Some(outs) if outs.is_empty() => Some(EMPTY.get_or_init(Map::new)),
            Some(outs) => outs.iter().find(|o| o.name == name).map(|o| &o.parameters),
        }
    }
}

/// Runs the request on the model: its task's inputs in, its outputs out.
async fn infer(worker: &Worker, request: &Request) -> Result<Vec<Output>, ApiError> {
    let (inputs, outputs) = io(&worker.info);
    if inputs.is_empty() {
        return Err(bad(format!(
            "{} models ({}) are not served over the inference protocol yet; POST /api/models/NAME serves their task",
            worker.info.task.as_str(),
            worker.info.entry
        )));
    }
    for input in &request.inputs {
        if !inputs.iter().any(|s| s.name == input.name) {
            let names: Vec<&str> = inputs.iter().map(|s| s.name).collect();
            return Err(bad(format!("this model has no input {:?}; its inputs are {}", input.name, names.join(", "))));
        }
    }
    if let Some(outs) = &request.json.outputs {
        for o in outs {
            if !outputs.iter().any(|s| s.name == o.name) {
                let names: Vec<&str> = outputs.iter().map(|s| s.name).collect();
                return Err(bad(format!("this model has no output {:?}; its outputs are {}", o.name, names.join(", "))));
            }
        }
    }
    let params = tasks::Params::from_json(&Value::Object(request.json.parameters.clone()))?;
    match worker.info.task {
        Task::ImageClassification => {
            let input = request.input(&inputs[0])?.ok_or_else(|| bad("this model needs the input \"input\" (FP32 [N, 3, H, W])"))?;
            let Data::F32(values) = &input.data else { unreachable!("input() checked the datatype") };
            let classification = request.requested("logits").and_then(|p| p.get("classification")).map(|k| k.as_u64().filter(|k| *k > 0).ok_or_else(|| bad("classification must be a positive count"))).transpose()?;
            let out = worker.rows(values.clone(), input.shape[0], classification.map(|k| k as usize)).await?;
            let rows = input.shape[0];
            if let Some(k) = classification {
                // Triton's classification extension: "score:index:label" strings, best first.
                let k = (k as usize).min(out.classes);
                let strings = out.top_k.iter().flat_map(|row| row.iter().take(k).map(|p| format!("{}:{}:{}", p.probability, p.index, p.label))).collect();
                return Ok(vec![Output { name: "logits", shape: vec![rows, k], data: OutData::Bytes(strings) }]);
            }
            Ok(vec![Output { name: "logits", shape: vec![rows, out.classes], data: OutData::F32(out.logits) }])
        }
        Task::FillMask => {
            let texts = request.required_texts(&inputs[0])?;
            let k = params.top_k;
            let filled = worker.run(move |m| tasks::fill_mask(m, &texts, k)).await?;
            let masks = filled.results.first().map_or(0, |r| r.masks.len());
            let k = filled.results.first().and_then(|r| r.masks.first()).map_or(0, Vec::len);
            if filled.results.iter().any(|r| r.masks.len() != masks || r.masks.iter().any(|m| m.len() != k)) {
                return Err(bad("every text of one request needs the same number of [MASK] tokens (the output is [texts, masks, k])"));
            }
            let preds = filled.results.iter().flat_map(|r| r.masks.iter().flatten());
            let shape = vec![filled.results.len(), masks, k];
            Ok(vec![
                Output { name: "token", shape: shape.clone(), data: OutData::Bytes(preds.clone().map(|p| p.token.clone()).collect()) },
                Output { name: "token_id", shape: shape.clone(), data: OutData::I64(preds.clone().map(|p| i64::from(p.id)).collect()) },
                Output { name: "probability", shape, data: OutData::F32(preds.map(|p| p.probability).collect()) },
            ])
        }
        Task::FeatureExtraction => {
            let texts = request.required_texts(&inputs[0])?;
            let (values, n, dim) = worker
                .run(move |m| {
                    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                    let emb = m.embed(&refs).map_err(|e| ApiError::from_model(&e))?;
                    let [n, dim] = emb.dims();
                    Ok((emb.into_data().iter::<f32>().collect::<Vec<f32>>(), n, dim))
                })
                .await?;
            Ok(vec![Output { name: "embedding", shape: vec![n, dim], data: OutData::F32(values) }])
        }
        Task::TextGeneration => {
            let prompts = request.required_texts(&inputs[0])?;
            let config = params.generation()?;
            let n = prompts.len();
            let texts = worker
                .run(move |m| {
                    let refs: Vec<&str> = prompts.iter().map(String::as_str).collect();
                    m.generate_texts(&refs, &config).map_err(|e| ApiError::from_model(&e))
                })
                .await?;
            Ok(vec![Output { name: "generated", shape: vec![n], data: OutData::Bytes(texts.into_iter().map(|t| t.text).collect()) }])
        }
        Task::TextClassification => {
            let texts = request.required_texts(&inputs[0])?;
            let pairs = request.texts(&inputs[1])?;
            check_same_len(&texts, pairs.as_deref(), "text_pair")?;
            let n = texts.len();
            let labels = worker
                .run(move |m| {
                    texts.iter().enumerate().map(|(i, t)| m.classify_text(t, pairs.as_ref().map(|p| p[i].as_str()), usize::MAX).map_err(|e| ApiError::from_model(&e))).collect::<Result<Vec<_>, _>>()
                })
                .await?;
            let width = labels.first().map_or(0, Vec::len);
            let mut probabilities = vec![0.0; n * width];
            for (row, preds) in labels.iter().enumerate() {
                for p in preds {
                    probabilities[row * width + p.index] = p.probability;
                }
            }
            Ok(vec![
                Output { name: "probabilities", shape: vec![n, width], data: OutData::F32(probabilities) },
                Output { name: "label", shape: vec![n], data: OutData::Bytes(labels.iter().map(|l| l.first().map(|p| p.label.clone()).unwrap_or_default()).collect()) },
            ])
        }
        Task::QuestionAnswering => {
            let questions = request.required_texts(&inputs[0])?;
            let contexts = request.required_texts(&inputs[1])?;
            check_same_len(&questions, Some(&contexts), "context")?;
            let n = questions.len();
            let answers = worker
                .run(move |m| questions.iter().zip(&contexts).map(|(q, c)| m.answer(q, c).map_err(|e| ApiError::from_model(&e))).collect::<Result<Vec<_>, _>>())
                .await?;
            Ok(vec![
                Output { name: "answer", shape: vec![n], data: OutData::Bytes(answers.iter().map(|a| a.answer.clone()).collect()) },
                Output { name: "score", shape: vec![n], data: OutData::F32(answers.iter().map(|a| a.score as f32).collect()) },
                Output { name: "start", shape: vec![n], data: OutData::I64(answers.iter().map(|a| a.start as i64).collect()) },
                Output { name: "end", shape: vec![n], data: OutData::I64(answers.iter().map(|a| a.end as i64).collect()) },
            ])
        }
        Task::NextSentencePrediction => {
            let texts = request.required_texts(&inputs[0])?;
            let pairs = request.texts(&inputs[1])?.ok_or_else(|| bad("this model needs the input \"text_pair\" (BYTES [N])"))?;
            check_same_len(&texts, Some(&pairs), "text_pair")?;
            let n = texts.len();
            let probs = worker
                .run(move |m| texts.iter().zip(&pairs).map(|(a, b)| m.next_sentence(a, b).map_err(|e| ApiError::from_model(&e))).collect::<Result<Vec<_>, _>>())
                .await?;
            Ok(vec![Output { name: "is_next_probability", shape: vec![n], data: OutData::F32(probs) }])
        }
        Task::ImageGeneration
        | Task::SemanticSegmentation
        | Task::TextToSpectrogram
        | Task::SpectrogramToAudio
        | Task::TokenClassification
        | Task::MultipleChoice
        | Task::PreTraining
        | Task::Tokenization => unreachable!("io() lists no inputs for these"),
    }
}

fn check_same_len(texts: &[String], other: Option<&[String]>, name: &str) -> Result<(), ApiError> {
    match other {
        Some(o) if o.len() != texts.len() => Err(bad(format!("{name} needs one value per text ({} texts, {} {name}s)", texts.len(), o.len()))),
        _ => Ok(()),
    }
}

/// The response: JSON, or JSON then binary data for the outputs asked as binary.
fn respond(name: &str, version: &str, request: &Request, outputs: Vec<Output>) -> Result<Response, ApiError> {
    let all_binary = request.parameter("binary_data_output").and_then(Value::as_bool).unwrap_or(false);
    let mut binary = Vec::new();
    let mut listed = Vec::new();
    for out in outputs {
        let Some(params) = request.requested(out.name) else { continue };
        let as_binary = params.get("binary_data").and_then(Value::as_bool).unwrap_or(all_binary);
        let mut o = json!({ "name": out.name, "datatype": out.data.datatype(), "shape": out.shape });
        if as_binary {
            let bytes = out.data.binary();
            o["parameters"] = json!({ "binary_data_size": bytes.len() });
            binary.extend(bytes);
        } else {
            o["data"] = out.data.json();
        }
        listed.push(o);
    }
    let mut body = json!({ "model_name": name, "model_version": version, "outputs": listed });
    if let Some(id) = &request.json.id {
        body["id"] = json!(id);
    }
    if binary.is_empty() {
        return Ok(json_response(name, &body));
    }
    let mut bytes = serde_json::to_vec(&body).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let head = bytes.len();
    bytes.extend(binary);
    let mut response = (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream")), (header::HeaderName::from_static(HEADER_LENGTH), HeaderValue::from(head))],
        bytes,
    )
        .into_response();
    response.extensions_mut().insert(super::ModelLabel(name.to_owned()));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_the_model_version_and_action() {
        assert_eq!(parse_path("resnet50"), ("resnet50", None, Action::Metadata));
        assert_eq!(parse_path("resnet50/ready"), ("resnet50", None, Action::Ready));
        assert_eq!(parse_path("pytorch/vision/resnet50/versions/IMAGENET1K_V1/infer"), ("pytorch/vision/resnet50", Some("IMAGENET1K_V1"), Action::Infer));
        assert_eq!(parse_path("m/versions/owner/model-id/config"), ("m", Some("owner/model-id"), Action::Config));
    }

    #[test]
    fn json_and_binary_inputs_decode_to_the_same_values() {
        let body = br#"{"inputs":[{"name":"input","shape":[2,2],"datatype":"FP32","data":[[1,2],[3.5,-4]]}]}"#;
        let r = parse_request(&HeaderMap::new(), Bytes::from_static(body)).unwrap();
        assert_eq!(r.inputs[0].shape, [2, 2]);
        let Data::F32(json_values) = &r.inputs[0].data else { panic!("{:?}", r.inputs[0].data) };
        assert_eq!(json_values, &[1.0, 2.0, 3.5, -4.0]);

        let head = br#"{"inputs":[{"name":"input","shape":[2,2],"datatype":"FP32","parameters":{"binary_data_size":16}},{"name":"t","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":11}}]}"#;
        let mut body = head.to_vec();
        for x in [1.0f32, 2.0, 3.5, -4.0] {
            body.extend(x.to_le_bytes());
        }
        body.extend(2u32.to_le_bytes());
        body.extend(b"hi");
        body.extend(1u32.to_le_bytes());
        body.extend(b"!");
        let mut headers = HeaderMap::new();
        headers.insert(HEADER_LENGTH, HeaderValue::from(head.len()));
        let r = parse_request(&headers, Bytes::from(body)).unwrap();
        let Data::F32(binary_values) = &r.inputs[0].data else { panic!() };
        assert_eq!(binary_values, json_values);
        let Data::Bytes(items) = &r.inputs[1].data else { panic!() };
        assert_eq!(items, &[b"hi".to_vec(), b"!".to_vec()]);
    }

    #[test]
    fn malformed_inputs_are_refused_with_a_reason() {
        let parse = |body: &str| parse_request(&HeaderMap::new(), Bytes::from(body.to_owned())).map(|_| ()).unwrap_err().message;
        assert!(parse("{").contains("not a valid inference request"));
        assert!(parse(r#"{"inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":[1,2]}]}"#).contains("has 2 values but its shape holds 3"));
        assert!(parse(r#"{"inputs":[{"name":"x","shape":[-1],"datatype":"FP32","data":[1]}]}"#).contains("negative"));
        assert!(parse(r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":["a"]}]}"#).contains("is FP32 but holds"));
        assert!(parse(r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FLOAT","data":[1]}]}"#).contains("not a datatype"));
        assert!(parse(r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32"}]}"#).contains("has no data"));
    }

    #[test]
    fn binary_outputs_are_little_endian_and_bytes_are_length_prefixed() {
        assert_eq!(OutData::F32(vec![1.0]).binary(), 1.0f32.to_le_bytes());
        assert_eq!(OutData::Bytes(vec!["ab".into()]).binary(), [2, 0, 0, 0, b'a', b'b']);
    }
}
