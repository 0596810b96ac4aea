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
//!
//! Layout, each file importing only those listed before it: [`error`] and [`log`] (leaves),
//! [`metrics`], [`batch`] (the model threads), [`slot`] (a model's load state), [`models`]
//! (names and slots), [`state`] (what handlers see), the handlers ([`tasks`], [`oip`],
//! [`gallery`]) and [`app`] (routes, request log, shutdown).

mod app;
mod batch;
mod error;
mod gallery;
mod log;
mod metrics;
mod models;
mod oip;
mod slot;
mod state;
mod tasks;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hub_core::RepoSpec;

use self::error::Limits;
use self::log::{install_panic_logger, LogProgress};
use self::state::AppState;
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

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.timeout_s.is_finite() && args.timeout_s > 0.0, "--timeout-s must be a positive number of seconds");
    anyhow::ensure!(args.max_body_bytes > 0, "--max-body-bytes must be at least 1");
    install_panic_logger();
    let hub = Arc::new(hub(global)?);
    let mut explicit = Vec::new();
    for pair in args.models.chunks(2) {
        let [repo, entry] = pair else { unreachable!("clap takes --model's values in pairs") };
        let spec: RepoSpec = repo.parse().map_err(|e| crate::exit::Exit(2, format!("--model {repo:?}: {e}")))?;
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
    let models = models::Models::new(hub, &args.repos, &explicit, options, metrics.clone())?;
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
    runtime.block_on(app::serve(state, SocketAddr::new(args.host, args.port), preload))?;
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
