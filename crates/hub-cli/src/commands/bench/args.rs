//! `hub bench`'s flags, parsed at the edge into types: `ENTRY[:WEIGHTS]`, durations (`10s`,
//! `250ms`), percentages (`5%`) and scenarios.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::scenario::Budget;
use crate::commands::run::ModelArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// owner/repo[:ref], a base URL, or a local directory.
    pub repo: hub_core::RepoSpec,
    /// The entrypoint, and optionally its weights (resnet50:IMAGENET1K_V1).
    #[arg(value_name = "ENTRY[:WEIGHTS]")]
    pub entry: EntryWeights,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub measure: MeasureArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What to measure, and for how long.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Measurement")]
pub struct MeasureArgs {
    /// Scenarios, comma-separated (default: single-stream,offline, and server when --qps is given).
    #[arg(long = "scenario", value_enum, value_delimiter = ',')]
    pub scenarios: Vec<Scenario>,
    /// The offline scenario's batch sizes, comma-separated (default: 1,8; 1 for models that take one input per call).
    #[arg(long = "batch", value_delimiter = ',', value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub batches: Vec<u32>,
    /// Untimed calls before each scenario and batch size.
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    /// Timed calls per scenario and batch size (queries, for the server scenario).
    #[arg(long, conflicts_with = "time", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub iters: Option<u32>,
    /// Time per scenario and batch size instead of a number of calls (e.g. 10s, 500ms, 2m); default 10s.
    #[arg(long, value_name = "DURATION")]
    pub time: Option<Seconds>,
    /// Server scenario: the mean arrival rate, queries per second (Poisson arrivals from --seed).
    #[arg(long, value_name = "R")]
    pub qps: Option<f64>,
    /// Server scenario: the latency bound whose excess share is reported.
    #[arg(long, value_name = "DURATION", default_value = "100ms")]
    pub latency_bound: Seconds,
}

/// Where the report goes, and what it is compared with.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Report")]
pub struct OutputArgs {
    /// The report as one JSON document (schema hub-bench/1) on stdout; no progress bar.
    #[arg(long)]
    pub json: bool,
    /// Also write the JSON report to this file (a later run's --baseline).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Compare with this saved report; exit 8 on a regression, 9 when it is not comparable.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// How much worse than the baseline a figure may be (e.g. 5%, 0.5%).
    #[arg(long, value_name = "P", default_value = "5%", requires = "baseline")]
    pub max_regression: Percent,
}

/// An LoadGen scenario.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// One query of one input after another: latency percentiles.
    SingleStream,
    /// Back-to-back batches of each --batch size: throughput.
    Offline,
    /// Poisson arrivals at --qps handled in order: latency from arrival, share over the bound.
    Server,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::SingleStream => "single-stream",
            Scenario::Offline => "offline",
            Scenario::Server => "server",
        }
    }
}

impl MeasureArgs {
    /// The scenarios to run, in the order given (or the default ones).
    pub fn scenarios(&self) -> anyhow::Result<Vec<Scenario>> {
        let mut chosen = if self.scenarios.is_empty() {
            let mut d = vec![Scenario::SingleStream, Scenario::Offline];
            d.extend(self.qps.map(|_| Scenario::Server));
            d
        } else {
            self.scenarios.clone()
        };
        chosen.dedup();
        if chosen.contains(&Scenario::Server) {
            let qps = self.qps.ok_or_else(|| usage("--scenario server needs --qps R (queries per second)".into()))?;
            if !(qps.is_finite() && qps > 0.0 && qps <= 1e6) {
                return Err(usage(format!("--qps {qps}: give a rate above 0 and at most 1000000")));
            }
        }
        Ok(chosen)
    }

    /// The batch sizes of the offline scenario.
    pub fn batches(&self, batched: bool) -> Vec<usize> {
        match (self.batches.is_empty(), batched) {
            (true, true) => vec![1, 8],
            (true, false) => vec![1],
            (false, _) => self.batches.iter().map(|&b| b as usize).collect(),
        }
    }

    /// How long each scenario runs.
    pub fn budget(&self) -> Budget {
        match (self.iters, self.time) {
            (Some(n), _) => Budget::Iters(n as usize),
            (None, Some(t)) => Budget::Time(t.0),
            (None, None) => Budget::Time(Duration::from_secs(10)),
        }
    }
}

/// A usage error (exit code 2).
pub fn usage(message: String) -> anyhow::Error {
    crate::exit::Exit(2, message).into()
}

/// `ENTRY[:WEIGHTS]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryWeights {
    pub entry: String,
    pub weights: Option<String>,
}

impl FromStr for EntryWeights {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (entry, weights) = match s.split_once(':') {
            Some((e, w)) => (e, Some(w)),
            None => (s, None),
        };
        if entry.is_empty() || weights.is_some_and(str::is_empty) {
            return Err(format!("{s:?} is not ENTRY or ENTRY:WEIGHTS (e.g. resnet50:IMAGENET1K_V1)"));
        }
        Ok(EntryWeights { entry: entry.to_owned(), weights: weights.map(str::to_owned) })
    }
}

/// A duration written `10s`, `250ms`, `1.5m` or `2h`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seconds(pub Duration);

impl FromStr for Seconds {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let scale = match unit.trim() {
            "ms" => 1e-3,
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            _ => return Err(format!("{s:?} is not a duration: write e.g. 10s, 250ms or 2m")),
        };
        let v: f64 = number.parse().map_err(|_| format!("{s:?} is not a duration: write e.g. 10s, 250ms or 2m"))?;
        let secs = v * scale;
        if !(secs > 0.0 && secs <= 24.0 * 3600.0) {
            return Err(format!("{s:?}: give a duration above 0 and at most a day"));
        }
        Ok(Seconds(Duration::from_secs_f64(secs)))
    }
}

/// A percentage written `5%` or `5`, held as a fraction (0.05).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percent(pub f64);

impl FromStr for Percent {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let v: f64 = t.strip_suffix('%').unwrap_or(t).trim().parse().map_err(|_| format!("{s:?} is not a percentage: write e.g. 5%"))?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(format!("{s:?}: give a percentage of 0 or more"));
        }
        Ok(Percent(v / 100.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_and_weights() {
        assert_eq!("resnet50".parse(), Ok(EntryWeights { entry: "resnet50".into(), weights: None }));
        assert_eq!("resnet50:IMAGENET1K_V1".parse(), Ok(EntryWeights { entry: "resnet50".into(), weights: Some("IMAGENET1K_V1".into()) }));
        assert!("resnet50:".parse::<EntryWeights>().is_err());
        assert!(":x".parse::<EntryWeights>().is_err());
    }

    #[test]
    fn durations() {
        assert_eq!("10s".parse(), Ok(Seconds(Duration::from_secs(10))));
        assert_eq!("250ms".parse(), Ok(Seconds(Duration::from_millis(250))));
        assert_eq!("1.5m".parse(), Ok(Seconds(Duration::from_secs(90))));
        assert_eq!("2h".parse(), Ok(Seconds(Duration::from_secs(7200))));
        for bad in ["10", "s", "0s", "-1s", "1e3s", "25h", "10 parsecs", ""] {
            assert!(bad.parse::<Seconds>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn percentages() {
        assert_eq!("5%".parse(), Ok(Percent(0.05)));
        assert_eq!("5".parse(), Ok(Percent(0.05)));
        assert_eq!("0.5 %".parse(), Ok(Percent(0.005)));
        assert_eq!("0%".parse(), Ok(Percent(0.0)));
        for bad in ["-1%", "five", "inf", "NaN%"] {
            assert!(bad.parse::<Percent>().is_err(), "{bad:?}");
        }
    }
}
