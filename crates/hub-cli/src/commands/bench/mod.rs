//! `hub bench REPO ENTRY[:WEIGHTS] [--batch 1,8] [--iters N | --time 10s] [--scenario ...]
//! [--qps R] [--json] [--out FILE] [--baseline FILE --max-regression 5%]`: loads the model as
//! `hub run` does, measures MLPerf LoadGen's scenarios on a fixed input and prints one
//! `hub-bench/1` report.
//!
//! [`args`] parses the flags; [`workload`] is one call per task; [`scenario`] runs the
//! scenarios on a clock and [`measure`] computes their figures; [`env`] records the machine;
//! [`report`] is the document; [`baseline`] reads and compares a saved one.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use burn::tensor::backend::Backend;
use hub_models::{LoadOptions, Loaded};
use serde::Serialize;

use crate::progress::Steps;
use crate::report::{render, Format};
use crate::Global;

pub use args::Args;
use args::Scenario;
pub use baseline::{BaselineError, NotComparable, Regressed};
use baseline::Comparison;
use report::{Load, ModelInfo, Report, Settings};
use scenario::{Budget, Wall};
use workload::Workload;

mod args;
mod baseline;
mod env;
mod measure;
mod report;
mod scenario;
mod workload;

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    args.model.device.dispatch(BenchJob(&args, global))
}

struct BenchJob<'a>(&'a Args, &'a Global);

impl crate::commands::run::OnBackend for BenchJob<'_> {
    fn on<B: Backend>(self, device: &B::Device) -> anyhow::Result<ExitCode> {
        bench_on::<B>(self.0, self.1, device)
    }
}

fn bench_on<B: Backend>(args: &Args, global: &Global, device: &B::Device) -> anyhow::Result<ExitCode> {
    // A bad baseline fails before minutes of measuring.
    let baseline = args.output.baseline.as_deref().map(baseline::load).transpose()?;
    let m = &args.measure;
    let scenarios = m.scenarios()?;
    let seed = args.model.seed;
    if args.model.weights.is_some() && args.entry.weights.is_some() {
        return Err(args::usage(format!("name the weights once: {}:WEIGHTS or --weights", args.entry.entry)));
    }
    B::seed(device, seed);
    let hub = global.hub()?;
    let (model, load) = load::<B>(&hub, args, &args.model.load_options(args.entry.weights.as_deref())?, device)?;
    let mut work = Workload::new(&model, seed)?;
    let batches = m.batches(work.batched());
    if let Some(&b) = batches.iter().find(|&&b| b > 1).filter(|_| !work.batched() && scenarios.contains(&Scenario::Offline)) {
        return Err(args::usage(format!("{} ({}) takes one input per call, so --batch {b} cannot be measured: use --batch 1", model.entry, model.architecture.task)));
    }
    let budget = m.budget();
    let quiet = args.output.json;

    work.prepare(1)?;
    let t = Instant::now();
    work.run(1)?;
    let first_call_ms = ms(t.elapsed());

    let (mut single_stream, mut offline, mut server) = (None, Vec::new(), None);
    for &s in &scenarios {
        match s {
            Scenario::SingleStream => {
                let bar = Steps::new(budget.total(), s.name().to_owned(), quiet);
                warm_up(&mut work, 1, m.warmup)?;
                single_stream = scenario::single_stream(&Wall::start(), budget, || work.run(1), &mut |c, e| bar.set(budget.done(c, e)))?;
            }
            Scenario::Offline => {
                for &b in &batches {
                    let bar = Steps::new(budget.total(), format!("offline, batch {b}"), quiet);
                    warm_up(&mut work, b, m.warmup)?;
                    offline.extend(scenario::offline(&Wall::start(), budget, b, || work.run(b), &mut |c, e| bar.set(budget.done(c, e)))?);
                }
            }
            Scenario::Server => {
                let qps = m.qps.unwrap_or_default();
                let queries = match budget {
                    Budget::Iters(n) => n,
                    Budget::Time(t) => ((qps * t.as_secs_f64()).ceil() as usize).clamp(1, scenario::MAX_CALLS),
                };
                let arrivals = measure::poisson_arrivals(queries, qps, seed).ok_or_else(|| anyhow::anyhow!("--qps {qps}: give a rate above 0"))?;
                let bar = Steps::new(queries as u64, format!("server, {qps} qps"), quiet);
                warm_up(&mut work, 1, m.warmup)?;
                server = scenario::server(&Wall::start(), &arrivals, qps, m.latency_bound.0, || work.run(1), &mut |c, _| bar.set(c as u64))?;
            }
        }
    }

    let env = env::Environment::detect(args.model.device.name(), hub_models::kernels::init_threads(None)?);
    let weights = model.weights.clone().or_else(|| model.checkpoint.as_ref().map(|p| p.display().to_string()));
    let report = Report {
        schema: report::SCHEMA.to_owned(),
        model: ModelInfo { repo: args.repo.to_string(), entry: model.entry.clone(), weights, task: model.architecture.task.to_string(), input: work.describe() },
        environment: env,
        settings: Settings {
            warmup: m.warmup,
            iters: m.iters.map(|n| n as usize),
            time_s: match budget {
                Budget::Time(t) => Some(t.as_secs_f64()),
                Budget::Iters(_) => None,
            },
            seed,
            scenarios: scenarios.iter().map(|s| s.name().to_owned()).collect(),
            batch_sizes: batches,
        },
        load,
        first_call_ms,
        single_stream,
        offline,
        server,
        peak_rss_bytes: env::peak_rss_bytes(),
    };
    finish(args, &report, baseline)
}

/// Prints (and writes) the report, then compares it with the baseline.
fn finish(args: &Args, report: &Report, baseline: Option<Report>) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.output.out {
        std::fs::write(path, render(report, Format::Json)?).map_err(|e| anyhow::anyhow!("writing the report to {}: {e}", path.display()))?;
    }
    let (Some(base), Some(path)) = (baseline, &args.output.baseline) else {
        crate::report::print(&Output { report, comparison: None }, Format::json_if(args.output.json))?;
        return Ok(ExitCode::SUCCESS);
    };
    let differences = baseline::differences(&base, report);
    if !differences.is_empty() {
        crate::report::print(&Output { report, comparison: None }, Format::json_if(args.output.json))?;
        for d in &differences {
            eprintln!("warning: not comparable with {}: {d}", path.display());
        }
        return Err(NotComparable { path: path.clone(), differences }.into());
    }
    let comparison = baseline::compare(path, &base, report, args.output.max_regression.0);
    crate::report::print(&Output { report, comparison: Some(&comparison) }, Format::json_if(args.output.json))?;
    if comparison.regressions().next().is_some() {
        return Err(Regressed(comparison).into());
    }
    Ok(ExitCode::SUCCESS)
}

/// What is printed: the report and, with `--baseline`, its comparison.
#[derive(Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    report: &'a Report,
    #[serde(skip_serializing_if = "Option::is_none")]
    comparison: Option<&'a Comparison>,
}

impl std::fmt::Display for Output<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.report.fmt(f)?;
        self.comparison.map_or(Ok(()), |c| c.fmt(f))
    }
}

/// Loads the model: from the checkpoint (cold), and again from its converted burnpack (warm)
/// when `hub convert` wrote one; the model benchmarked is the last one loaded.
fn load<B: Backend>(hub: &hub_core::Hub, args: &Args, options: &LoadOptions, device: &B::Device) -> anyhow::Result<(Loaded<B>, Load)> {
    let t = Instant::now();
    let mut plan = hub_models::plan(hub, &args.repo, &args.entry.entry, options)?;
    let resolve_ms = ms(t.elapsed());
    let source = if plan.source.checkpoint().is_some() { "checkpoint" } else { "random-init" };
    let converted = match &plan.source {
        hub_models::load::WeightSource::Converted { file, .. } => Some(file.as_ref().clone()),
        _ => None,
    };
    let has_copy = converted.is_some();
    if let Some(file) = converted {
        plan.source = file;
    }
    let t = Instant::now();
    let model = plan.build::<B>(device)?;
    let cold_ms = ms(t.elapsed());
    let mut load = Load { source: source.to_owned(), resolve_ms, cold_ms, warm_ms: None };
    if !has_copy {
        return Ok((model, load));
    }
    drop(model);
    let plan = hub_models::plan(hub, &args.repo, &args.entry.entry, options)?;
    let t = Instant::now();
    let model = plan.build::<B>(device)?;
    load.warm_ms = Some(ms(t.elapsed()));
    Ok((model, load))
}

/// `n` untimed calls of `batch` items (the input prepared first).
fn warm_up<B: Backend>(work: &mut Workload<'_, B>, batch: usize, n: usize) -> anyhow::Result<()> {
    work.prepare(batch)?;
    (0..n).try_for_each(|_| work.run(batch))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
