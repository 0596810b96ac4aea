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
    /// Weight variant (default: each entrypoint's default).
    #[arg(long)]
    weights: Option<String>,
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
        let selected: Vec<(&str, &hub_core::Weights)> = if args.all_weights {
            entry.weights.iter().map(|(n, w)| (n.as_str(), w)).collect()
        } else {
            entry.weights(name, args.weights.as_deref())?.into_iter().collect()
        };
        if selected.is_empty() {
            eprintln!("{name}: publishes no weights");
        }
        for (wname, w) in selected {
            for artifact in std::iter::once(&w.artifact).chain(w.files.values()) {
                let path = hub.fetch(artifact)?;
                println!("{name} {wname} {}", path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
