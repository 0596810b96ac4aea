//! `hub download REPO ENTRY... [--weights NAME] [--all]`: fetch and verify weights into the cache.

use std::process::ExitCode;

use hub_core::RepoSpec;

use crate::Global;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// owner/repo[:ref], a base URL, or a local directory.
    repo: RepoSpec,
    /// Entrypoints whose weights to fetch.
    entries: Vec<String>,
    /// Weight variant (default: each entrypoint's default), or a model id (`owner/name[@revision]`)
    /// for entrypoints that take any.
    #[arg(long)]
    weights: Option<String>,
    /// Revision (branch, tag or commit) of a model id's files.
    #[arg(long, conflicts_with = "all_weights")]
    revision: Option<String>,
    /// Every entrypoint of the repo.
    #[arg(long, conflicts_with = "entries")]
    all: bool,
    /// Every weight variant, not only the default.
    #[arg(long, conflicts_with = "weights")]
    all_weights: bool,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let hub = global.hub()?;
    let repo = hub.repo(&args.repo)?;
    let names: Vec<String> = if args.all {
        repo.manifest.entrypoints.keys().cloned().collect()
    } else if args.entries.is_empty() {
        anyhow::bail!("name the entrypoints to download (see `hub list {}`), or pass --all", args.repo);
    } else {
        args.entries.clone()
    };
    for wanted in &names {
        let (name, entry) = repo.manifest.entry(wanted)?;
        let selected: Vec<hub_core::WeightsChoice> = if args.all_weights {
            entry.weights.iter().map(|(n, w)| hub_core::WeightsChoice::Listed(n, w)).collect()
        } else {
            entry.choose_weights(name, args.weights.as_deref(), args.revision.as_deref())?.into_iter().collect()
        };
        if selected.is_empty() {
            eprintln!("{name}: publishes no weights");
        }
        for choice in selected {
            let fetched = hub_models::fetch_weights(&hub, entry, &choice)?;
            for path in fetched.checkpoint.iter().chain(fetched.files.values()) {
                println!("{name} {} {}", fetched.name, path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
