//! `hub cache ls|verify|rm|gc|path`.

use std::process::ExitCode;

use hub_core::cache::Verified;
use serde_json::json;

use super::Exit;
use crate::output::{bytes, table};
use crate::Global;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// List cached files.
    Ls {
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Re-hash every cached file; exit 5 if any is corrupt.
    Verify {
        /// Remove corrupt files.
        #[arg(long)]
        delete: bool,
    },
    /// Remove cached files by name, sha256 (or a prefix of 8+ digits) or URL.
    Rm {
        /// What to remove.
        #[arg(required = true)]
        targets: Vec<String>,
    },
    /// Remove abandoned partial downloads and stale URL records.
    Gc,
    /// Print the cache root.
    Path,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let hub = global.hub()?;
    let cache = hub.cache();
    match args.command {
        Command::Path => println!("{}", cache.root().display()),
        Command::Ls { json } => {
            let all = cache.artifacts()?;
            if json {
                let items: Vec<_> = all.iter().map(|a| json!({ "path": a.path, "sha256": a.sha256, "size": a.size })).collect();
                super::print_json(&json!({ "root": cache.root(), "artifacts": items }))?;
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|a| vec![file_name(&a.path), a.sha256[..12].to_owned(), bytes(a.size)])
                    .collect();
                print!("{}", table(&["FILE", "SHA256", "SIZE"], &rows));
                println!("{} files, {} in {}", all.len(), bytes(all.iter().map(|a| a.size).sum()), cache.root().display());
            }
        }
        Command::Verify { delete } => {
            let mut corrupt = 0;
            for v in cache.verify()? {
                match v {
                    Verified::Ok(a) => println!("ok       {}", file_name(&a.path)),
                    Verified::Corrupt { artifact, actual } => {
                        corrupt += 1;
                        println!("CORRUPT  {} (expected sha256 {}, got {actual})", artifact.path.display(), artifact.sha256);
                        if delete {
                            cache.remove(&artifact)?;
                            println!("         removed");
                        }
                    }
                }
            }
            if corrupt > 0 {
                let hint = if delete { "removed; the next use downloads them again" } else { "run `hub cache verify --delete` to remove them" };
                return Err(Exit(5, format!("{corrupt} corrupt file(s) in the cache: {hint}")).into());
            }
        }
        Command::Rm { targets } => {
            let all = cache.artifacts()?;
            for t in &targets {
                let by_url = cache.url_record(t).map(|r| r.sha256);
                let matches: Vec<_> = all
                    .iter()
                    .filter(|a| {
                        file_name(&a.path) == *t
                            || (t.len() >= 8 && a.sha256.starts_with(t.as_str()))
                            || by_url.as_deref() == Some(a.sha256.as_str())
                    })
                    .collect();
                if matches.is_empty() {
                    return Err(Exit(3, format!("nothing in the cache matches {t:?} (see `hub cache ls`)")).into());
                }
                for a in matches {
                    cache.remove(a)?;
                    println!("removed {}", a.path.display());
                }
            }
        }
        Command::Gc => {
            let freed = cache.gc()?;
            println!("freed {}", bytes(freed));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
}
