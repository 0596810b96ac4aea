//! The Open Inference Protocol v2 (KServe / Triton) over REST, with JSON tensors and Triton's
//! binary tensor data and classification extensions.
//!
//! A model is `/v2/models/{name}[/versions/{version}]`: `name` is `ENTRY` of the default repo
//! or `REPO/ENTRY` (its slashes as they are, or `%2F`), `version` the weights' name. What each
//! task takes and gives is in [`infer::io`]; the bodies are read and written by [`wire`]; docs/serving.md lists it.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hub_models::registry::Task;
use serde_json::{json, Value};

mod infer;
mod wire;

use super::error::{json_response, read_body, within, ApiError};
use super::slot::LoadState;
use super::state::Shared;
use self::infer::{infer, io};
use self::wire::{parse_request, respond, TensorSpec};

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
            let key = super::slot::Key { repo: i, entry: entry.clone(), weights: None };
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
                slot.start();
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
                let worker = within(deadline, slot.loaded()).await?;
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
        let worker = within(deadline, slot.loaded()).await?;
        let outputs = within(deadline, infer(&worker, &request)).await?;
        respond(&slot.name, &slot.version, &request, outputs)
    }
    .await;
    result.unwrap_or_else(|e| e.for_model(name).into_response())
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
}
