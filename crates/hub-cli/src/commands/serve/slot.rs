//! One model's load state: idle, loading, ready (its [`Worker`]) or failed.

use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use tokio::sync::watch;

use super::batch::{self, OnLoad, Source, Worker};
use super::error::ApiError;
use super::log::log;

/// One model: an entrypoint (its canonical name) of a repo (an index into the served repos)
/// with its weights (`None`: the default ones).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub repo: usize,
    pub entry: String,
    pub weights: Option<String>,
}

/// Where a model's load is.
#[derive(Clone)]
pub enum LoadState {
    Idle,
    Loading,
    Ready(Arc<Worker>),
    /// The last load failed; the next use tries again.
    Failed(ApiError),
}

/// One model: its name and version, and its load state.
pub struct Slot {
    pub key: Key,
    pub name: String,
    pub version: String,
    source: Source,
    state: watch::Sender<LoadState>,
}

impl Slot {
    /// An idle slot that loads from `source`.
    pub fn new(key: Key, name: String, version: String, source: Source) -> Slot {
        Slot { key, name, version, source, state: watch::Sender::new(LoadState::Idle) }
    }

    /// The loaded model, if it is.
    pub fn worker(&self) -> Option<Arc<Worker>> {
        match &*self.state.borrow() {
            LoadState::Ready(w) => Some(w.clone()),
            _ => None,
        }
    }

    pub fn state(&self) -> LoadState {
        self.state.borrow().clone()
    }

    /// Starts loading unless it is loading or loaded.
    pub fn start(self: &Arc<Self>) {
        let start = self.state.send_if_modified(|s| match s {
            LoadState::Idle | LoadState::Failed(_) => {
                *s = LoadState::Loading;
                true
            }
            _ => false,
        });
        if start {
            batch::spawn(self.source.clone(), self.name.clone(), self.version.clone(), self.clone());
        }
    }

    /// The loaded model, loading it first if needed (the caller bounds the wait).
    pub async fn loaded(self: &Arc<Self>) -> Result<Arc<Worker>, ApiError> {
        let mut rx = self.state.subscribe();
        self.start();
        let state = rx.wait_for(|s| matches!(s, LoadState::Ready(_) | LoadState::Failed(_))).await.map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the model's loader went away"))?;
        match &*state {
            LoadState::Ready(w) => Ok(w.clone()),
            LoadState::Failed(e) => Err(e.clone().for_model(&self.name)),
            LoadState::Idle | LoadState::Loading => unreachable!("wait_for returned a finished state"),
        }
    }
}

impl OnLoad for Slot {
    fn finished(&self, result: Result<Arc<Worker>, ApiError>, started: Instant) {
        let seconds = started.elapsed().as_secs_f64();
        match &result {
            Ok(_) => log("info", "model loaded", serde_json::json!({ "model": self.name, "version": self.version, "seconds": seconds })),
            Err(e) => log("error", "model load failed", serde_json::json!({ "model": self.name, "version": self.version, "seconds": seconds, "error": e.message })),
        }
        self.state.send_replace(match result {
            Ok(w) => LoadState::Ready(w),
            Err(e) => LoadState::Failed(e),
        });
    }
}
