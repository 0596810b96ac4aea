//! `hub serve [REPO ...] [--model REPO ENTRY[:WEIGHTS] ...]`: the models of the given repos over
//! HTTP — the Open Inference Protocol v2 ([`oip`]), task-level JSON endpoints with the reports
//! of `hub run --json` ([`tasks`]), a server-rendered gallery with demos ([`gallery`]) and
//! Prometheus metrics ([`metrics`]).
//!
//! One request: axum (on a small tokio runtime) parses it and resolves the model name
//! ([`models::Models::resolve`]); the model loads once, on its first use or at start
//! (`--model`), on its own thread ([`batch`]), which owns it for the life of the server. The
//! handler sends that thread a job through a bounded queue (full: 503) and waits for the answer
//! within `--timeout-s` (504 after). Classifier rows from concurrent requests are run as one
//! batch (`--max-batch-size`, `--max-delay-ms`). Nothing heavy runs on the async executor.
//! See docs/serving.md.

mod batch;
mod gallery;
mod metrics;
mod models;
mod oip;
mod tasks;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hub_core::RepoSpec;

use crate::Global;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Repos whose entrypoints are served (owner/repo[:ref], a base URL or a local directory);
    /// default: the built-in ones. The first is the default repo: its models are named by
    /// their entrypoint alone.
    repos: Vec<RepoSpec>,
    /// Load this model at start (its repo is served too); ENTRY:WEIGHTS picks the weights (a
    /// Hugging Face model id for text entrypoints). Repeatable.
    #[arg(long = "model", num_args = 2, value_names = ["REPO", "ENTRY[:WEIGHTS]"], action = clap::ArgAction::Append)]
    models: Vec<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Port to listen on (0: any free port; the log's `listening` line names it).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Most rows (images) one classifier batch runs at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=4096))]
    max_batch_size: u32,
    /// How long a classifier batch waits for more rows after its first one, in milliseconds.
    #[arg(long, default_value_t = 5)]
    max_delay_ms: u64,
    /// Requests that may wait per model; one more is answered 503.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    queue_size: u32,
    /// Largest request body, in bytes (larger: 413).
    #[arg(long, default_value_t = 16 << 20)]
    max_body_bytes: usize,
    /// Longest a request may take, body upload and model load included, in seconds (then 504;
    /// a body not received in time: 408).
    #[arg(long, default_value_t = 60.0)]
    timeout_s: f64,
    /// Keep the models' random initialisation (no weight download; for trying the server out).
    #[arg(long)]
    random_init: bool,
    /// The seed of --random-init weights and of sampling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// What every handler sees.
pub(crate) struct AppState {
    pub models: models::Models,
    pub metrics: Arc<metrics::Metrics>,
    pub limits: Limits,
    /// All `--model`s are loaded (or failed): `/v2/health/ready`.
    pub ready: AtomicBool,
    pub started: Instant,
}

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_body_bytes: usize,
    pub timeout: Duration,
}

pub(crate) type Shared = Arc<AppState>;

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.timeout_s.is_finite() && args.timeout_s > 0.0, "--timeout-s must be a positive number of seconds");
    anyhow::ensure!(args.max_body_bytes > 0, "--max-body-bytes must be at least 1");
    install_panic_logger();
    let hub = Arc::new(hub(global)?);
    let mut explicit = Vec::new();
    for pair in args.models.chunks(2) {
        let [repo, entry] = pair else { unreachable!("clap takes --model's values in pairs") };
        let spec: RepoSpec = repo.parse().map_err(|e| super::Exit(2, format!("--model {repo:?}: {e}")))?;
        let (entry, weights) = match entry.split_once(':') {
            Some((e, w)) => (e.to_owned(), Some(w.to_owned())),
            None => (entry.clone(), None),
        };
        explicit.push((spec, entry, weights));
    }
    let options = models::Options {
        random_init: args.random_init,
        seed: args.seed,
        batch: batch::Config { max_rows: args.max_batch_size as usize, max_delay: Duration::from_millis(args.max_delay_ms), queue: args.queue_size as usize },
    };
    let metrics = Arc::new(metrics::Metrics::default());
    // Repos are resolved (and checked) before anything listens.
    let models = models::Models::new(hub, &args.repos, &explicit, options)?;
    let preload = models.explicit_keys();
    let state = Arc::new(AppState {
        models,
        metrics,
        limits: Limits { max_body_bytes: args.max_body_bytes, timeout: Duration::from_secs_f64(args.timeout_s) },
        ready: AtomicBool::new(false),
        started: Instant::now(),
    });
    // Two executor threads are plenty: they only parse, route and wait; models run on their own threads.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("hub-serve").enable_all().build()?;
    runtime.block_on(serve(state, SocketAddr::new(args.host, args.port), preload))?;
    Ok(ExitCode::SUCCESS)
}

/// The hub of `global`, with downloads reported as log lines instead of progress bars.
fn hub(global: &Global) -> anyhow::Result<hub_core::Hub> {
    let mut options = hub_core::HubOptions::from_env()?;
    options.offline |= global.offline;
    options.force_reload = global.force_reload;
    options.locked = global.locked;
    options.lockfile = global.lockfile.clone().or_else(|| {
        let default = std::path::PathBuf::from("hub.lock");
        (global.locked || default.exists()).then_some(default)
    });
    options.progress = Arc::new(LogProgress::default());
    Ok(hub_models::builtin::hub(options)?)
}

async fn serve(state: Shared, addr: SocketAddr, preload: Vec<models::Key>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    log("info", "listening", serde_json::json!({ "addr": local.to_string(), "url": format!("http://{local}/") }));
    let loader = {
        let state = state.clone();
        tokio::spawn(async move {
            for key in preload {
                // A failed load is logged (and retried on first use); the server still starts.
                let _ = state.models.slot(&key).loaded(&state).await;
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
        .route("/metrics", get(metrics::render))
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

/// The model a response was about (set by handlers, read by [`observe`] for the metrics).
#[derive(Clone, Debug)]
pub(crate) struct ModelLabel(pub String);

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

/// An error answered as `{"error": "..."}` with its status.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub model: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), model: None }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn for_model(mut self, name: &str) -> ApiError {
        self.model.get_or_insert_with(|| name.to_owned());
        self
    }

    /// A library error: the caller's input (400), something unknown (404), the network or
    /// offline (502/503), or the server's own failure (500).
    pub fn from_model(e: &hub_models::Error) -> ApiError {
        use hub_core::Error as H;
        use hub_models::Error as M;
        let status = match e {
            M::BadInput { .. } | M::Preprocess(_) | M::Tokenizer(_) | M::Generation(_) | M::WrongTask { .. } => StatusCode::BAD_REQUEST,
            M::Hub(h) => match h {
                H::UnknownEntry { .. } | H::UnknownWeights { .. } | H::ModelFilesMissing { .. } | H::NoManifest { .. } | H::HttpStatus { status: 404, .. } => StatusCode::NOT_FOUND,
                H::Offline { .. } => StatusCode::SERVICE_UNAVAILABLE,
                H::HttpStatus { .. } | H::Network { .. } | H::MalformedResponse { .. } | H::Truncated { .. } | H::TooSlow { .. } | H::Redirect { .. } => StatusCode::BAD_GATEWAY,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, chain(e))
    }
}

/// An error and its causes on one line.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cause = c.source();
    }
    s
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(serde_json::json!({ "error": self.message }))).into_response();
        if let Some(m) = self.model {
            response.extensions_mut().insert(ModelLabel(m));
        }
        response
    }
}

/// A JSON response (sorted keys, as `hub run --json` writes them) about `model`.
pub(crate) fn json_response(model: &str, value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_value(value).and_then(|v| serde_json::to_vec(&v));
    let mut response = match body {
        Ok(body) => ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response(),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("serialising the response: {e}")).into_response(),
    };
    response.extensions_mut().insert(ModelLabel(model.to_owned()));
    response
}

/// Reads a request body of at most `limits.max_body_bytes` (413 beyond), by `deadline` (408).
pub(crate) async fn read_body(body: Body, limits: &Limits, deadline: tokio::time::Instant) -> Result<Bytes, ApiError> {
    let max = limits.max_body_bytes;
    match tokio::time::timeout_at(deadline, axum::body::to_bytes(body, max)).await {
        Err(_) => Err(ApiError::new(StatusCode::REQUEST_TIMEOUT, format!("the request body did not arrive within {:.0} s (--timeout-s)", limits.timeout.as_secs_f64()))),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            // axum reports an over-long body as a length-limit error somewhere in the chain.
            let text = chain(&e);
            if text.to_ascii_lowercase().contains("length limit") {
                Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the request body is larger than --max-body-bytes {max}")))
            } else {
                Err(ApiError::bad_request(format!("reading the request body: {text}")))
            }
        }
    }
}

/// `work`, or a 504 when `deadline` passes first.
pub(crate) async fn within<T>(deadline: tokio::time::Instant, work: impl std::future::Future<Output = Result<T, ApiError>>) -> Result<T, ApiError> {
    tokio::time::timeout_at(deadline, work)
        .await
        .unwrap_or_else(|_| Err(ApiError::new(StatusCode::GATEWAY_TIMEOUT, "the request did not finish within --timeout-s (the model may still be loading; try again)")))
}

/// One structured log line on stderr: `{"ts": unix seconds, "level", "msg", ...fields}`.
pub(crate) fn log(level: &str, msg: &str, fields: serde_json::Value) {
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default();
    let mut line = serde_json::json!({ "ts": (ts * 1e3).round() / 1e3, "level": level, "msg": msg });
    if let (Some(map), serde_json::Value::Object(extra)) = (line.as_object_mut(), fields) {
        map.extend(extra);
    }
    eprintln!("{line}");
}

/// A panic is a bug, but one request's bug must not take the server down: it is logged (the
/// request that hit it gets a 500) instead of ending the process as `hub`'s other commands do.
fn install_panic_logger() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload().downcast_ref::<String>().cloned().or_else(|| info.payload().downcast_ref::<&str>().map(|s| (*s).to_owned())).unwrap_or_default();
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let thread = std::thread::current().name().unwrap_or("?").to_owned();
        log("error", "panic (a bug in hub, please report it)", serde_json::json!({ "panic": message, "at": location, "thread": thread }));
    }));
}

/// Downloads as log lines: start, every 10 %, finish.
#[derive(Default)]
struct LogProgress {
    state: std::sync::Mutex<Option<Download>>,
}

struct Download {
    url: String,
    total: Option<u64>,
    done: u64,
    logged_tenth: u64,
    start: Instant,
}

impl hub_core::Progress for LogProgress {
    fn start(&self, url: &str, total: Option<u64>, resumed_from: u64) {
        log("info", "download started", serde_json::json!({ "url": url, "bytes": total, "resumed_from": resumed_from }));
        if let Ok(mut s) = self.state.lock() {
            *s = Some(Download { url: url.to_owned(), total, done: resumed_from, logged_tenth: 0, start: Instant::now() });
        }
    }

    fn advance(&self, bytes: u64) {
        let Ok(mut s) = self.state.lock() else { return };
        let Some(d) = s.as_mut() else { return };
        d.done += bytes;
        if let Some(total) = d.total.filter(|t| *t > 0) {
            let tenth = d.done.saturating_mul(10) / total;
            if tenth > d.logged_tenth && tenth < 10 {
                d.logged_tenth = tenth;
                log("info", "download progress", serde_json::json!({ "url": d.url, "percent": tenth * 10, "bytes": d.done }));
            }
        }
    }

    fn finish(&self, url: &str) {
        let seconds = self.state.lock().ok().and_then(|s| s.as_ref().map(|d| (d.done, d.start.elapsed().as_secs_f64())));
        let (bytes, seconds) = seconds.unwrap_or_default();
        log("info", "download finished", serde_json::json!({ "url": url, "bytes": bytes, "seconds": seconds }));
    }

    fn waiting(&self, lock: &std::path::Path, holder: &str) {
        log("info", "waiting for another process's download", serde_json::json!({ "lock": lock.display().to_string(), "holder": holder }));
    }
}
