//! `hub lock REPO [ENTRY...] [--all]`: resolve and fetch, recording hashes in the lockfile.

use std::path::PathBuf;
use std::process::ExitCode;

use hub_core::RepoSpec;

use crate::Global;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// owner/repo[:ref], a base URL, or a local directory.
    repo: RepoSpec,
    /// Entrypoints whose default weights to lock (fetched to learn their hashes).
    entries: Vec<String>,
    /// Every entrypoint of the repo.
    #[arg(long, conflicts_with = "entries")]
    all: bool,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let lockfile = global.lockfile.clone().unwrap_or_else(|| PathBuf::from("hub.lock"));
    let global = Global { lockfile: Some(lockfile.clone()), offline: global.offline, force_reload: global.force_reload, locked: global.locked };
    let hub = global.hub()?;
    let repo = hub.repo(&args.repo)?;
    let names: Vec<String> = if args.all { repo.manifest.entrypoints.keys().cloned().collect() } else { args.entries.clone() };
    for wanted in &names {
        let (name, entry) = repo.manifest.entry(wanted)?;
        if let Some(choice) = entry.choose_weights(name, None, None)? {
            hub_models::fetch_weights(&hub, entry, &choice)?;
        }
    }
    // A lockfile is written even when nothing changed, so `hub lock` always leaves one.
    if !lockfile.exists() {
        hub_core::Lockfile::new().save(&lockfile)?;
    }
    println!("{} {}", if global.locked { "checked" } else { "wrote" }, lockfile.display());
    Ok(ExitCode::SUCCESS)
}
