//! `--baseline FILE --max-regression P`: reads a saved report, refuses one from another
//! setup (CPU, threads, device, model), and compares the figures side by side.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::report::{ms, Report, SCHEMA};
use crate::output::write_table;

/// The largest baseline file read (a report is a few KiB).
const MAX_BASELINE_BYTES: u64 = 16 << 20;

/// A baseline that cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum BaselineError {
    /// The file cannot be read.
    Read { path: PathBuf, source: std::io::Error },
    /// It is not a `hub-bench/1` JSON report (malformed, truncated, or too large).
    Malformed { path: PathBuf, message: String },
    /// A report of another schema version.
    Schema { path: PathBuf, found: String },
}

impl fmt::Display for BaselineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaselineError::Read { path, source } => write!(f, "cannot read the baseline {}: {source}", path.display()),
            BaselineError::Malformed { path, message } => {
                write!(f, "the baseline {} is not a {SCHEMA} report ({message}); write one with `hub bench ... --out FILE`", path.display())
            }
            BaselineError::Schema { path, found } => {
                write!(f, "the baseline {} is a {found:?} report, this hub reads {SCHEMA}: benchmark the baseline again with this hub", path.display())
            }
        }
    }
}

impl std::error::Error for BaselineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BaselineError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Reads the report at `path`.
pub fn load(path: &Path) -> Result<Report, BaselineError> {
    let malformed = |message: String| BaselineError::Malformed { path: path.to_owned(), message };
    let read = |source| BaselineError::Read { path: path.to_owned(), source };
    let len = std::fs::metadata(path).map_err(read)?.len();
    if len > MAX_BASELINE_BYTES {
        return Err(malformed(format!("{len} bytes, more than the {MAX_BASELINE_BYTES} a report can have")));
    }
    let text = std::fs::read_to_string(path).map_err(read)?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(SCHEMA) => {}
        Some(other) => return Err(BaselineError::Schema { path: path.to_owned(), found: other.to_owned() }),
        None => return Err(malformed("no \"schema\" field".into())),
    }
    serde_json::from_value(value).map_err(|e| malformed(e.to_string()))
}

/// How each setting that makes figures comparable differs between `baseline` and `now`
/// (empty: comparable).
pub fn differences(baseline: &Report, now: &Report) -> Vec<String> {
    let (b, n) = (&baseline.environment, &now.environment);
    let unknown = || "unknown".to_owned();
    let pairs = [
        ("CPU", b.cpu_model.clone().unwrap_or_else(unknown), n.cpu_model.clone().unwrap_or_else(unknown)),
        ("threads", b.threads.to_string(), n.threads.to_string()),
        ("device", b.device.clone(), n.device.clone()),
        ("kernel path", b.kernel_path.clone(), n.kernel_path.clone()),
        ("repo", baseline.model.repo.clone(), now.model.repo.clone()),
        ("entry", baseline.model.entry.clone(), now.model.entry.clone()),
        ("weights", format!("{:?}", baseline.model.weights), format!("{:?}", now.model.weights)),
        ("input", baseline.model.input.clone(), now.model.input.clone()),
    ];
    pairs.into_iter().filter(|(_, b, n)| b != n).map(|(what, b, n)| format!("{what}: {b} in the baseline, {n} now")).collect()
}

/// Which way is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Better {
    Lower,
    Higher,
}

/// One figure of both reports.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Figure {
    /// `single_stream.p50_ms`, `offline[batch=8].throughput_per_s`, ...
    pub name: String,
    pub baseline: f64,
    pub now: f64,
    /// How much worse now is, relative to the baseline (negative: better).
    pub worse_by: f64,
    /// `worse_by` above the allowed regression.
    pub regressed: bool,
}

/// The comparison of a run with its baseline.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The baseline file.
    pub baseline: PathBuf,
    /// The allowed regression (0.05 = 5%).
    pub max_regression: f64,
    /// The figures both reports have.
    pub figures: Vec<Figure>,
}

impl Comparison {
    /// The figures that regressed.
    pub fn regressions(&self) -> impl Iterator<Item = &Figure> {
        self.figures.iter().filter(|f| f.regressed)
    }
}

/// Compares the steady-state figures and the peak memory that both reports have (load and
/// first-call times vary with the disk and the page cache and are not compared).
pub fn compare(path: &Path, baseline: &Report, now: &Report, max_regression: f64) -> Comparison {
    let mut pairs: Vec<(String, Better, f64, f64)> = Vec::new();
    if let (Some(b), Some(n)) = (&baseline.single_stream, &now.single_stream) {
        pairs.push(("single_stream.p50_ms".into(), Better::Lower, b.p50_ms, n.p50_ms));
        pairs.push(("single_stream.p90_ms".into(), Better::Lower, b.p90_ms, n.p90_ms));
        pairs.push(("single_stream.p99_ms".into(), Better::Lower, b.p99_ms, n.p99_ms));
    }
    for n in &now.offline {
        if let Some(b) = baseline.offline.iter().find(|b| b.batch == n.batch) {
            pairs.push((format!("offline[batch={}].throughput_per_s", n.batch), Better::Higher, b.throughput_per_s, n.throughput_per_s));
        }
    }
    if let (Some(b), Some(n)) = (&baseline.server, &now.server) {
        if b.qps == n.qps {
            pairs.push(("server.p50_ms".into(), Better::Lower, b.latency.p50_ms, n.latency.p50_ms));
            pairs.push(("server.p99_ms".into(), Better::Lower, b.latency.p99_ms, n.latency.p99_ms));
        }
    }
    if let (Some(b), Some(n)) = (baseline.peak_rss_bytes, now.peak_rss_bytes) {
        pairs.push(("peak_rss_bytes".into(), Better::Lower, b as f64, n as f64));
    }
    let figures = pairs
        .into_iter()
        .filter(|(_, _, b, n)| b.is_finite() && n.is_finite() && *b > 0.0)
        .map(|(name, better, baseline, now)| {
            let worse_by = match better {
                Better::Lower => (now - baseline) / baseline,
                Better::Higher => (baseline - now) / baseline,
            };
            Figure { name, baseline, now, worse_by, regressed: worse_by > max_regression }
        })
        .collect();
    Comparison { baseline: path.to_owned(), max_regression, figures }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nagainst {} (at most {:.1}% worse):", self.baseline.display(), self.max_regression * 100.0)?;
        let value = |name: &str, v: f64| if name.ends_with("_ms") { ms(v) } else { format!("{v:.2}") };
        let rows: Vec<Vec<String>> = self
            .figures
            .iter()
            .map(|fig| {
                let verdict = if fig.regressed { "REGRESSED" } else { "ok" };
                vec![fig.name.clone(), value(&fig.name, fig.baseline), value(&fig.name, fig.now), format!("{:+.1}%", fig.worse_by * 100.0), verdict.into()]
            })
            .collect();
        write_table(f, "  ", &["FIGURE", "BASELINE", "NOW", "WORSE BY", ""], &rows)
    }
}

/// Figures worse than the baseline by more than allowed (its own exit code).
#[derive(Debug)]
pub struct Regressed(pub Comparison);

impl fmt::Display for Regressed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.0.regressions().map(|r| format!("{} ({:+.1}%)", r.name, r.worse_by * 100.0)).collect();
        write!(f, "regression against {}: {} worse by more than {:.1}%", self.0.baseline.display(), names.join(", "), self.0.max_regression * 100.0)
    }
}

impl std::error::Error for Regressed {}

/// A baseline from another setup (its own exit code): nothing was compared.
#[derive(Debug)]
pub struct NotComparable {
    pub path: PathBuf,
    pub differences: Vec<String>,
}

impl fmt::Display for NotComparable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the baseline {} is not comparable with this run ({}): nothing compared; keep one baseline per runner type and thread count",
            self.path.display(),
            self.differences.join("; ")
        )
    }
}

impl std::error::Error for NotComparable {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::bench::env::Environment;
    use crate::commands::bench::measure::Latency;
    use crate::commands::bench::report::{Load, ModelInfo, Settings};
    use crate::commands::bench::scenario::Offline;

    pub(crate) fn report(p50: f64, throughput: f64) -> Report {
        let latency = Latency { count: 10, mean_ms: p50, p50_ms: p50, p90_ms: p50 * 1.1, p99_ms: p50 * 1.2, max_ms: p50 * 2.0 };
        Report {
            schema: SCHEMA.into(),
            model: ModelInfo { repo: "pytorch/vision".into(), entry: "resnet18".into(), weights: None, task: "image-classification".into(), input: "x".into() },
            environment: Environment::detect("cpu", 2),
            settings: Settings { warmup: 1, iters: Some(10), time_s: None, seed: 0, scenarios: vec!["single-stream".into(), "offline".into()], batch_sizes: vec![1, 8] },
            load: Load { source: "random-init".into(), resolve_ms: 1.0, cold_ms: 2.0, warm_ms: None },
            first_call_ms: 3.0,
            single_stream: Some(latency),
            offline: vec![Offline { batch: 8, calls: 10, throughput_per_s: throughput, p50_call_ms: 1.0 }],
            server: None,
            peak_rss_bytes: Some(1 << 30),
        }
    }

    #[test]
    fn a_report_against_itself_passes_and_against_a_much_faster_one_fails() {
        let now = report(10.0, 100.0);
        let same = compare(Path::new("b.json"), &now, &now, 0.05);
        assert_eq!(same.figures.len(), 5, "{same:?}");
        assert_eq!(same.regressions().count(), 0);
        let fast = report(0.01, 100_000.0);
        let c = compare(Path::new("b.json"), &fast, &now, 0.05);
        let names: Vec<&str> = c.regressions().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["single_stream.p50_ms", "single_stream.p90_ms", "single_stream.p99_ms", "offline[batch=8].throughput_per_s"]);
        assert!((c.figures[0].worse_by - 999.0).abs() < 1e-6);
        assert!((c.figures[3].worse_by - 0.999).abs() < 1e-9);
        let text = c.to_string();
        assert!(text.contains("REGRESSED") && text.contains("b.json"), "{text}");
        assert!(Regressed(c).to_string().contains("single_stream.p50_ms (+99900.0%)"));
    }

    #[test]
    fn the_allowed_regression_is_a_bound_on_the_relative_change() {
        let base = report(10.0, 100.0);
        let c = compare(Path::new("b"), &base, &report(10.4, 96.0), 0.05);
        assert_eq!(c.regressions().count(), 0, "4% worse is within 5%");
        let c = compare(Path::new("b"), &base, &report(10.6, 100.0), 0.05);
        assert_eq!(c.regressions().count(), 3, "6% slower latencies: {c:?}");
        let better = compare(Path::new("b"), &base, &report(5.0, 200.0), 0.0);
        assert_eq!(better.regressions().count(), 0);
        assert!(better.figures.iter().all(|f| f.worse_by <= 0.0));
    }

    #[test]
    fn another_thread_count_or_cpu_is_not_comparable() {
        let now = report(10.0, 100.0);
        assert!(differences(&now, &now).is_empty());
        let mut other = now.clone();
        other.environment.threads = 7;
        other.environment.cpu_model = Some("Some Other CPU".into());
        let d = differences(&other, &now);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[1].contains("threads: 7 in the baseline, 2 now"), "{d:?}");
    }

    #[test]
    fn bad_files_are_typed_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("base.json");
        let full = serde_json::to_string(&report(1.0, 1.0)).unwrap();
        std::fs::write(&path, &full[..full.len() / 2]).unwrap();
        let e = load(&path).unwrap_err();
        assert!(matches!(e, BaselineError::Malformed { .. }) && e.to_string().contains("base.json"), "{e}");
        std::fs::write(&path, full.replace(SCHEMA, "hub-bench/9")).unwrap();
        assert!(matches!(load(&path).unwrap_err(), BaselineError::Schema { found, .. } if found == "hub-bench/9"));
        std::fs::write(&path, "{\"schema\": \"hub-bench/1\"}").unwrap();
        assert!(matches!(load(&path).unwrap_err(), BaselineError::Malformed { .. }));
        std::fs::write(&path, &full).unwrap();
        assert_eq!(load(&path).unwrap(), report(1.0, 1.0));
        let e = load(&dir.path().join("missing.json")).unwrap_err();
        assert!(matches!(e, BaselineError::Read { .. }) && e.to_string().contains("missing.json"), "{e}");
    }
}
