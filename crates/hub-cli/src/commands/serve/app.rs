//! The HTTP server: routes, the request logger and metrics, graceful shutdown.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::error::{ApiError, ModelLabel};
use super::gallery;
use super::log::log;
use super::oip;
use super::slot::Key;
use super::state::Shared;
use super::tasks;

pub(crate) async fn serve(state: Shared, addr: SocketAddr, preload: Vec<Key>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    log("info", "listening", serde_json::json!({ "addr": local.to_string(), "url": format!("http://{local}/") }));
    let loader = {
        let state = state.clone();
        tokio::spawn(async move {
            for key in preload {
                // A failed load is logged (and retried on first use); the server still starts.
                let _ = state.models.slot(&key).loaded().await;
            }
            state.ready.store(true, Ordering::SeqCst);
            log("info", "ready", serde_json::json!({ "models": state.models.loaded_names() }));
        })
    };
    let app = router(state.clone());
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    loader.abort();
    log("info", "shutdown", serde_json::json!({ "uptime_s": state.started.elapsed().as_secs_f64() }));
    Ok(())
}

fn router(state: Shared) -> Router {
    Router::new()
        .route("/v2", get(oip::server_metadata))
        .route("/v2/health/live", get(oip::live))
        .route("/v2/health/ready", get(oip::ready))
        .route("/v2/repository/index", axum::routing::post(oip::repository_index))
        .route("/v2/models/{*rest}", get(oip::model_get).post(oip::model_post))
        .route("/api/models", get(tasks::list))
        .route("/api/models/{*name}", axum::routing::post(tasks::run))
        .route("/metrics", get(metrics))
        .route("/", get(gallery::index))
        .route("/models/{*name}", get(gallery::model))
        .route("/demo/{*name}", get(gallery::demo_get).post(gallery::demo_post))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such endpoint") })
        .method_not_allowed_fallback(|| async { ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed on this endpoint") })
        // Multipart uploads read this limit; other bodies are read with it by `read_body`.
        .layer(axum::extract::DefaultBodyLimit::max(state.limits.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Ctrl-C or SIGTERM: stop accepting, finish the requests in flight, exit 0.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    let signal = tokio::select! {
        _ = ctrl_c => "SIGINT",
        _ = term => "SIGTERM",
    };
    log("info", "shutting down", serde_json::json!({ "signal": signal }));
}

/// Logs and counts every request.
async fn observe(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let endpoint = endpoint_of(&path);
    let response = next.run(request).await;
    let seconds = start.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    let model = response.extensions().get::<ModelLabel>().map(|m| m.0.clone()).unwrap_or_default();
    state.metrics.request(&model, endpoint, status, seconds);
    let level = if status >= 500 { "error" } else if status >= 400 { "warn" } else { "info" };
    log(level, "request", serde_json::json!({ "method": method.as_str(), "path": path, "status": status, "ms": seconds * 1e3, "model": model }));
    response
}

/// A low-cardinality name of the endpoint for the metrics.
fn endpoint_of(path: &str) -> &'static str {
    match path {
        "/v2" => "server_metadata",
        "/v2/health/live" => "live",
        "/v2/health/ready" => "ready",
        "/metrics" => "metrics",
        "/" => "gallery",
        p if p.starts_with("/v2/models/") && p.ends_with("/infer") => "infer",
        p if p.starts_with("/v2/models/") && p.ends_with("/ready") => "model_ready",
        p if p.starts_with("/v2/models/") => "model_metadata",
        p if p.starts_with("/api/models") => "task",
        p if p.starts_with("/models/") => "gallery",
        p if p.starts_with("/demo/") => "demo",
        _ => "other",
    }
}

/// `GET /metrics`: Prometheus text.
async fn metrics(State(app): State<Shared>) -> Response {
    let queues: Vec<(String, String, usize)> = app.models.slots().iter().filter_map(|s| s.worker().map(|w| (s.name.clone(), s.version.clone(), w.depth()))).collect();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], app.metrics.render(&queues)).into_response()
}
