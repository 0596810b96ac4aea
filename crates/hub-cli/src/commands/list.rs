//! `hub list REPO [--filter GLOB] [--json]`.

use std::process::ExitCode;

use hub_core::RepoSpec;
use serde_json::json;

use crate::output::{count, glob, table};
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

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let hub = global.hub()?;
    let repo = hub.repo(&args.repo)?;
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for (name, entry) in &repo.manifest.entrypoints {
        if args.filter.as_deref().is_some_and(|f| !glob(f, name)) {
            continue;
        }
        let weights = entry.weights(name, None)?;
        let runnable = hub_models::registry::find(&entry.architecture).is_some();
        let params = weights.and_then(|(_, w)| w.params);
        let acc1 = weights.and_then(|(_, w)| w.metrics.get("acc@1").copied());
        rows.push(vec![
            name.clone(),
            entry.task.clone(),
            weights.map_or("-".into(), |(n, _)| n.to_owned()),
            params.map_or("-".into(), count),
            acc1.map_or("-".into(), |a| format!("{a:.2}")),
            if runnable { String::new() } else { "not in this build".into() },
        ]);
        items.push(json!({
            "name": name,
            "task": entry.task,
            "architecture": entry.architecture,
            "summary": entry.summary,
            "default_weights": weights.map(|(n, _)| n),
            "weights": entry.weights.keys().collect::<Vec<_>>(),
            "params": params,
            "acc@1": acc1,
            "runnable": runnable,
        }));
    }
    if args.json {
        super::print_json(&json!({ "repo": args.repo.to_string(), "commit": repo.commit, "entrypoints": items }))?;
    } else {
        print!("{}", table(&["NAME", "TASK", "DEFAULT WEIGHTS", "PARAMS", "ACC@1", ""], &rows));
    }
    Ok(ExitCode::SUCCESS)
}
