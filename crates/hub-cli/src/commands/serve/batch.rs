//! One thread per model: it loads the model, owns it, and runs the jobs of a bounded queue.
//!
//! Classifier rows (`infer` tensors and uploaded images, already preprocessed) are batched:
//! the first waiting job opens a batch, which takes the jobs that arrive within
//! `--max-delay-ms` until it holds `--max-batch-size` rows, and runs as one `forward`. Other
//! jobs (the text tasks) run one at a time, in order. A job whose client is gone (timed out,
//! disconnected) is dropped unrun. A panic in a job answers 500 and the model keeps serving.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use burn::tensor::{Tensor, TensorData};
use hub_core::{Hub, RepoSpec};
use hub_models::preprocess::Preprocess;
use hub_models::registry::Task;
use hub_models::{load_with, Cpu, LoadOptions, Loaded, Prediction};
use tokio::sync::oneshot;

use super::error::ApiError;
use super::log::log;
use super::metrics::Metrics;

/// The batching and queue settings.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Most rows in one batch.
    pub max_rows: usize,
    /// How long a batch waits for more rows after its first.
    pub max_delay: Duration,
    /// Jobs that may wait.
    pub queue: usize,
}

/// What a model thread loads, how, and where it reports.
#[derive(Clone)]
pub struct Source {
    pub hub: Arc<Hub>,
    pub spec: RepoSpec,
    /// The repo's name, as served.
    pub repo: String,
    pub entry: String,
    /// `None`: the default weights.
    pub weights: Option<String>,
    pub random_init: bool,
    pub seed: u64,
    pub config: Config,
    pub metrics: Arc<Metrics>,
}

/// What a loaded model is, for metadata and validation.
#[derive(Debug, Clone)]
pub struct Info {
    pub repo: String,
    pub entry: String,
    /// The weights' name (`None`: random init or a local checkpoint).
    pub weights: Option<String>,
    pub task: Task,
    /// Image models: the preprocessing, whose crop is the input's height and width.
    pub preprocess: Option<Preprocess>,
    /// Classifiers: the number of classes (the logits' width).
    pub classes: Option<usize>,
    pub load_seconds: f64,
}

impl Info {
    /// Classifiers: the side of the square input.
    pub fn crop(&self) -> Option<usize> {
        self.preprocess.as_ref().map(|p| p.crop_size)
    }
}

/// A loaded model's queue.
pub struct Worker {
    tx: SyncSender<Job>,
    depth: Arc<AtomicUsize>,
    pub info: Info,
    pub config: Config,
}

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

/// Classifier rows `[rows, 3, crop, crop]`, channel-major, preprocessed.
struct Rows {
    values: Vec<f32>,
    rows: usize,
    /// Also the top-k classes of each row.
    top_k: Option<usize>,
    reply: Reply<RowsOut>,
}

/// The logits of a job's rows.
pub struct RowsOut {
    /// `[rows, classes]`, row-major.
    pub logits: Vec<f32>,
    pub classes: usize,
    /// When asked: the top-k classes of each row.
    pub top_k: Vec<Vec<Prediction>>,
}

/// Work on the model that answers through its own channel.
type Closure = Box<dyn FnOnce(&Loaded<Cpu>) + Send>;

enum Job {
    Rows(Rows),
    Run(Closure),
}

impl Worker {
    fn submit(&self, job: Job) -> Result<(), ApiError> {
        self.depth.fetch_add(1, Ordering::SeqCst);
        match self.tx.try_send(job) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.depth.fetch_sub(1, Ordering::SeqCst);
                Err(match e {
                    TrySendError::Full(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("the queue of this model is full ({} requests wait); try again later", self.config.queue)),
                    TrySendError::Disconnected(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "this model has stopped"),
                })
            }
        }
    }

    /// Runs classifier rows (batched with other requests' rows).
    pub async fn rows(&self, values: Vec<f32>, rows: usize, top_k: Option<usize>) -> Result<RowsOut, ApiError> {
        if rows == 0 || rows > self.config.max_rows {
            return Err(ApiError::bad_request(format!("a request may hold 1 to {} rows (--max-batch-size), not {rows}", self.config.max_rows)));
        }
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Rows(Rows { values, rows, top_k, reply }))?;
        answer.await.map_err(|_| internal())?
    }

    /// Runs `f` on the model's thread, after the jobs before it.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce(&Loaded<Cpu>) -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Run(Box::new(move |model| {
            if !reply.is_closed() {
                let _ = reply.send(f(model));
            }
        })))?;
        answer.await.map_err(|_| internal())?
    }

    /// Jobs waiting.
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::SeqCst)
    }
}

fn internal() -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the model failed on this request (a bug in hub; the server log has the panic)")
}

/// Who hears how a model's load ended.
pub trait OnLoad: Send + Sync + 'static {
    /// The load that began at `started` ended with `result`.
    fn finished(&self, result: Result<Arc<Worker>, ApiError>, started: Instant);
}

/// Starts the thread of model `name` at `version`: it loads the model, tells `on_load`, then
/// serves the model's queue.
pub fn spawn(source: Source, name: String, version: String, on_load: Arc<dyn OnLoad>) {
    let thread_on_load = on_load.clone();
    let spawned = std::thread::Builder::new().name(format!("hub-model {name}")).spawn(move || {
        let started = Instant::now();
        log("info", "loading model", serde_json::json!({ "model": name, "version": version }));
        let loaded = catch_unwind(AssertUnwindSafe(|| load(&source))).unwrap_or_else(|_| Err(internal()));
        let (model, mut info) = match loaded {
            Ok(m) => m,
            Err(e) => return thread_on_load.finished(Err(e), started),
        };
        info.load_seconds = started.elapsed().as_secs_f64();
        source.metrics.model_loaded(&name, info.load_seconds);
        let config = source.config;
        let (tx, rx) = sync_channel(config.queue);
        let depth = Arc::new(AtomicUsize::new(0));
        thread_on_load.finished(Ok(Arc::new(Worker { tx, depth: depth.clone(), info: info.clone(), config })), started);
        serve_queue(&model, &info, rx, &depth, config, &source.metrics, &name);
    });
    if let Err(e) = spawned {
        on_load.finished(Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot start the model's thread: {e}"))), Instant::now());
    }
}

fn load(source: &Source) -> Result<(Loaded<Cpu>, Info), ApiError> {
    let device = Default::default();
    let mut options = LoadOptions::default();
    options.weights = source.weights.clone();
    options.pretrained = !source.random_init;
    if source.random_init {
        <Cpu as burn::tensor::backend::Backend>::seed(&device, source.seed);
    }
    let model: Loaded<Cpu> = load_with(&source.hub, &source.spec, &source.entry, &options, &device).map_err(|e| ApiError::from_model(&e))?;
    let task = model.architecture.task;
    // One forward on zeros: the number of classes, and the first run's one-off costs paid now.
    let classes = match (task, &model.preprocess) {
        (Task::ImageClassification, Some(p)) => {
            let x = Tensor::<Cpu, 4>::zeros([1, 3, p.crop_size, p.crop_size], &device);
            Some(model.forward(x).map_err(|e| ApiError::from_model(&e))?.dims()[1])
        }
        _ => None,
    };
    let info = Info {
        repo: source.repo.clone(),
        entry: model.entry.clone(),
        weights: model.weights.clone(),
        task,
        preprocess: model.preprocess.clone(),
        classes,
        load_seconds: 0.0,
    };
    Ok((model, info))
}

fn serve_queue(model: &Loaded<Cpu>, info: &Info, rx: Receiver<Job>, depth: &AtomicUsize, config: Config, metrics: &Metrics, name: &str) {
    let mut backlog: VecDeque<Job> = VecDeque::new();
    let take = |job: Job| {
        depth.fetch_sub(1, Ordering::SeqCst);
        job
    };
    loop {
        let job = match backlog.pop_front() {
            Some(job) => job,
            None => match rx.recv() {
                Ok(job) => take(job),
                // Every sender is gone: the server is shutting down.
                Err(_) => return,
            },
        };
        match job {
            Job::Run(f) => {
                // A panic drops the reply: the request gets a 500, the model keeps serving.
                let _ = catch_unwind(AssertUnwindSafe(|| f(model)));
            }
            Job::Rows(first) => {
                let mut rows = first.rows;
                let mut batch = vec![first];
                let deadline = Instant::now() + config.max_delay;
                while rows < config.max_rows && backlog.is_empty() {
                    let now = Instant::now();
                    let next = if now >= deadline {
                        // Past the delay, only what is already queued joins.
                        rx.try_recv().map_err(|_| RecvTimeoutError::Timeout)
                    } else {
                        rx.recv_timeout(deadline - now)
                    };
                    match next.map(take) {
                        Ok(Job::Rows(r)) if rows + r.rows <= config.max_rows => {
                            rows += r.rows;
                            batch.push(r);
                        }
                        Ok(other) => backlog.push_back(other),
                        Err(_) => break,
                    }
                }
                run_batch(model, info, batch, metrics, name);
            }
        }
    }
}

fn run_batch(model: &Loaded<Cpu>, info: &Info, mut batch: Vec<Rows>, metrics: &Metrics, name: &str) {
    // Clients that gave up are not computed for.
    batch.retain(|r| !r.reply.is_closed());
    if batch.is_empty() {
        return;
    }
    let rows: usize = batch.iter().map(|r| r.rows).sum();
    let crop = info.crop().unwrap_or(0);
    let mut values = Vec::with_capacity(rows * 3 * crop * crop);
    let mut jobs = Vec::with_capacity(batch.len());
    for r in batch {
        values.extend(r.values);
        jobs.push((r.rows, r.top_k, r.reply));
    }
    metrics.batch(name, rows);
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<_, ApiError> {
        let x = Tensor::<Cpu, 4>::from_data(TensorData::new(values, [rows, 3, crop, crop]), &model.device);
        let logits = model.forward(x).map_err(|e| ApiError::from_model(&e))?;
        let classes = logits.dims()[1];
        let mut start = 0;
        let mut tops = Vec::with_capacity(jobs.len());
        for (n, k, _) in &jobs {
            tops.push(k.map(|k| model.top_k(logits.clone().narrow(0, start, *n), k)).unwrap_or_default());
            start += n;
        }
        let flat: Vec<f32> = logits.into_data().iter::<f32>().collect();
        Ok((flat, classes, tops))
    }));
    match result {
        Ok(Ok((flat, classes, tops))) => {
            let mut start = 0;
            for ((n, _, reply), top_k) in jobs.into_iter().zip(tops) {
                let logits = flat[start * classes..(start + n) * classes].to_vec();
                start += n;
                let _ = reply.send(Ok(RowsOut { logits, classes, top_k }));
            }
        }
        Ok(Err(e)) => {
            for (_, _, reply) in jobs {
                let _ = reply.send(Err(e.clone()));
            }
        }
        // A panic in forward: every request of the batch gets a 500.
        Err(_) => {
            for (_, _, reply) in jobs {
                let _ = reply.send(Err(internal()));
            }
        }
    }
}
