//! What every handler sees: the models, the metrics, the limits and readiness.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use super::error::Limits;
use super::metrics::Metrics;
use super::models::Models;

/// What every handler sees.
pub(crate) struct AppState {
    pub models: Models,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    /// All `--model`s are loaded (or failed): `/v2/health/ready`.
    pub ready: AtomicBool,
    pub started: Instant,
}

pub(crate) type Shared = Arc<AppState>;
