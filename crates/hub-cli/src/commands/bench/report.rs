//! The `hub-bench/1` report: what `--json` prints, `--out` writes and `--baseline` reads back
//! (documented field by field in docs/benchmarks.md), and its text table.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::env::Environment;
use super::measure::Latency;
use super::scenario::{Offline, Server};
use crate::output::{bytes, write_table};

/// The schema name and version of [`Report`]; a change that renames or re-means a field
/// bumps the version.
pub const SCHEMA: &str = "hub-bench/1";

/// One benchmark run.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// What was benchmarked.
    pub model: ModelInfo,
    /// Where.
    pub environment: Environment,
    /// How.
    pub settings: Settings,
    /// Model load times.
    pub load: Load,
    /// The first call at batch 1 (allocations, caches and kernel choices that steady state reuses).
    pub first_call_ms: f64,
    /// `None` when the scenario was not run.
    pub single_stream: Option<Latency>,
    /// One entry per batch size (empty when the scenario was not run).
    pub offline: Vec<Offline>,
    /// `None` when the scenario was not run.
    pub server: Option<Server>,
    /// The process's peak resident memory (`None` off Linux).
    pub peak_rss_bytes: Option<u64>,
}

/// What was benchmarked.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// The repo spec as given.
    pub repo: String,
    /// The entrypoint's canonical name.
    pub entry: String,
    /// The weights' name, the `--checkpoint` path, or `None` (random init).
    pub weights: Option<String>,
    /// The task (`image-classification`, ...).
    pub task: String,
    /// The input of one call.
    pub input: String,
}

/// The options of the run.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Settings {
    /// Untimed calls before each scenario.
    pub warmup: usize,
    /// Timed calls per scenario and batch size (`None` with `--time`).
    pub iters: Option<usize>,
    /// Seconds per scenario and batch size (`None` with `--iters`).
    pub time_s: Option<f64>,
    /// The seed of the input, the random weights and the arrival schedule.
    pub seed: u64,
    /// The scenarios run, in order.
    pub scenarios: Vec<String>,
    /// The offline scenario's batch sizes.
    pub batch_sizes: Vec<usize>,
}

/// How long loading took.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Load {
    /// What was loaded: `random-init`, `checkpoint` (a `.pth`/`.safetensors` file) or
    /// `burnpack` (the copy `hub convert` wrote).
    pub source: String,
    /// Finding the manifest and the cached files (downloads included, if any were needed).
    pub resolve_ms: f64,
    /// Building the model and reading the weights from the checkpoint (or random init).
    pub cold_ms: f64,
    /// The same from the converted burnpack; `None` when there is none.
    pub warm_ms: Option<f64>,
}

/// Milliseconds with the precision a reader wants.
pub fn ms(v: f64) -> String {
    match v {
        v if v < 10.0 => format!("{v:.3}"),
        v if v < 1000.0 => format!("{v:.2}"),
        v => format!("{v:.0}"),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (m, e) = (&self.model, &self.environment);
        writeln!(f, "{} ({}, {}): {}", m.entry, m.repo, m.weights.as_deref().unwrap_or("random init"), m.task)?;
        writeln!(f, "  input   {}", m.input)?;
        let cores = e.physical_cores.map_or_else(|| format!("{} logical CPUs", e.logical_cores), |p| format!("{p} cores, {} logical", e.logical_cores));
        writeln!(f, "  cpu     {} ({cores}; {})", e.cpu_model.as_deref().unwrap_or("unknown CPU"), e.cpu_flags.join(" "))?;
        writeln!(f, "  run     {} threads on {} ({}), hub {}{}, burn {}", e.threads, e.device, e.kernel_path, e.hub_version, e.git_commit.as_deref().map(|c| format!(" ({c})")).unwrap_or_default(), e.burn_version)?;
        let warm = self.load.warm_ms.map_or_else(|| "no converted copy".to_owned(), |w| format!("{} ms (burnpack)", ms(w)));
        writeln!(f, "  load    resolve {} ms, cold {} ms ({}), warm {warm}", ms(self.load.resolve_ms), ms(self.load.cold_ms), self.load.source)?;
        writeln!(f, "  first   call {} ms", ms(self.first_call_ms))?;
        let rss = self.peak_rss_bytes.map_or_else(|| "not measured (Linux only)".to_owned(), bytes);
        writeln!(f, "  memory  peak RSS {rss}")?;
        let mut rows = Vec::new();
        if let Some(l) = &self.single_stream {
            rows.push(vec!["single-stream".into(), "1".into(), l.count.to_string(), ms(l.p50_ms), ms(l.p90_ms), ms(l.p99_ms), ms(l.max_ms), format!("{:.2}", 1e3 / l.mean_ms)]);
        }
        for o in &self.offline {
            rows.push(vec!["offline".into(), o.batch.to_string(), o.calls.to_string(), ms(o.p50_call_ms), "".into(), "".into(), "".into(), format!("{:.2}", o.throughput_per_s)]);
        }
        if let Some(s) = &self.server {
            let l = &s.latency;
            rows.push(vec![format!("server {} qps", s.qps), "1".into(), l.count.to_string(), ms(l.p50_ms), ms(l.p90_ms), ms(l.p99_ms), ms(l.max_ms), format!("{:.2}", s.achieved_qps)]);
        }
        writeln!(f)?;
        write_table(f, "", &["SCENARIO", "BATCH", "CALLS", "P50 MS", "P90 MS", "P99 MS", "MAX MS", "PER SECOND"], &rows)?;
        if let Some(s) = &self.server {
            writeln!(f, "server: {:.1}% of queries over the {} ms latency bound", s.over_bound_fraction * 100.0, ms(s.latency_bound_ms))?;
        }
        Ok(())
    }
}
