//! `hub list REPO [--filter GLOB] [--json]`.

use std::fmt;
use std::process::ExitCode;

use hub_core::RepoSpec;
use serde::Serialize;

use crate::output::{count, glob, natural_cmp, table};
use crate::report::{self, Format};
use crate::Global;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// owner/repo[:ref], a base URL, or a local directory.
    repo: RepoSpec,
    /// Only entrypoints whose name matches this glob (e.g. 'resnet*').
    #[arg(long)]
    filter: Option<String>,
    /// One JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// A repo's entrypoints.
#[derive(Serialize, Debug)]
struct Listing<'a> {
    repo: String,
    /// The commit the repo resolved to, if it is a git repo.
    commit: Option<&'a str>,
    entrypoints: Vec<Entry<'a>>,
}

#[derive(Serialize, Debug)]
struct Entry<'a> {
    name: &'a str,
    task: &'a str,
    architecture: &'a str,
    summary: &'a str,
    default_weights: Option<&'a str>,
    weights: Vec<&'a str>,
    params: Option<u64>,
    #[serde(rename = "acc@1")]
    acc1: Option<f64>,
    /// Whether this build implements the architecture.
    runnable: bool,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let hub = global.hub()?;
    let repo = hub.repo(&args.repo)?;
    let mut entrypoints = Vec::new();
    for (name, entry) in &repo.manifest.entrypoints {
        if args.filter.as_deref().is_some_and(|f| !glob(f, name)) {
            continue;
        }
        let weights = entry.weights(name, None)?;
        entrypoints.push(Entry {
            name,
            task: &entry.task,
            architecture: &entry.architecture,
            summary: &entry.summary,
            default_weights: weights.map(|(n, _)| n),
            weights: entry.weights.keys().map(String::as_str).collect(),
            params: weights.and_then(|(_, w)| w.params),
            acc1: weights.and_then(|(_, w)| w.metrics.get("acc@1").copied()),
            runnable: hub_models::registry::find(&entry.architecture).is_some(),
        });
    }
    entrypoints.sort_by(|a, b| natural_cmp(a.name, b.name));
    let listing = Listing { repo: args.repo.to_string(), commit: repo.commit.as_deref(), entrypoints };
    report::print(&listing, Format::json_if(args.json))?;
    Ok(ExitCode::SUCCESS)
}

impl fmt::Display for Listing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<Vec<String>> = self
            .entrypoints
            .iter()
            .map(|e| {
                vec![
                    e.name.to_owned(),
                    e.task.to_owned(),
                    e.default_weights.unwrap_or("-").to_owned(),
                    e.params.map_or("-".into(), count),
                    e.acc1.map_or("-".into(), |a| format!("{a:.2}")),
                    if e.runnable { String::new() } else { "not in this build".into() },
                ]
            })
            .collect();
        f.write_str(&table(&["NAME", "TASK", "DEFAULT WEIGHTS", "PARAMS", "ACC@1", ""], &rows))
    }
}
