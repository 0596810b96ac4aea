//! `hub cache ls|verify|rm|gc|path`.

use std::process::ExitCode;

use hub_core::cache::{Leftover, LeftoverKind, Verified};
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
    /// List cached files, converted burnpacks and what `cache gc` would clean.
    Ls {
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Re-hash every cached file and converted burnpack; exit 5 if any is corrupt.
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
            let converted = hub_models::convert::converted_files(cache.root())?;
            let converted: Vec<(std::path::PathBuf, u64)> =
                converted.into_iter().map(|p| { let size = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0); (p, size) }).collect();
            let leftovers = cache.leftovers()?;
            if json {
                let items: Vec<_> = all.iter().map(|a| json!({ "path": a.path, "sha256": a.sha256, "size": a.size })).collect();
                let conv: Vec<_> = converted.iter().map(|(p, size)| json!({ "path": p, "size": size })).collect();
                let left: Vec<_> = leftovers
                    .iter()
                    .map(|l| json!({ "path": l.path, "size": l.size, "kind": leftover_kind(l), "in_use": l.in_use }))
                    .collect();
                super::print_json(&json!({ "root": cache.root(), "artifacts": items, "converted": conv, "leftovers": left }))?;
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|a| vec![file_name(&a.path), a.sha256[..12].to_owned(), bytes(a.size)])
                    .collect();
                print!("{}", table(&["FILE", "SHA256", "SIZE"], &rows));
                println!("{} files, {} in {}", all.len(), bytes(all.iter().map(|a| a.size).sum()), cache.root().display());
                if !converted.is_empty() {
                    let rows: Vec<Vec<String>> = converted.iter().map(|(p, size)| vec![relative(cache.root(), p), bytes(*size)]).collect();
                    println!();
                    print!("{}", table(&["CONVERTED", "SIZE"], &rows));
                }
                if !leftovers.is_empty() {
                    let rows: Vec<Vec<String>> = leftovers
                        .iter()
                        .map(|l| vec![relative(cache.root(), &l.path), leftover_kind(l).to_owned(), bytes(l.size), if l.in_use { "in use (kept)" } else { "gc removes it" }.to_owned()])
                        .collect();
                    println!();
                    print!("{}", table(&["LEFTOVER", "KIND", "SIZE", "STATE"], &rows));
                    let freeable: u64 = leftovers.iter().filter(|l| !l.in_use).map(|l| l.size).sum();
                    println!("{} leftovers; `hub cache gc` would free {}", leftovers.len(), bytes(freeable));
                }
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
            // Converted burnpacks carry their own size and sha256 (written by `hub convert`).
            for bpk in hub_models::convert::converted_files(cache.root())? {
                match hub_models::convert::verify_converted(&bpk) {
                    Ok(()) => println!("ok       {}", relative(cache.root(), &bpk)),
                    Err(e) => {
                        corrupt += 1;
                        println!("CORRUPT  {}: {e}", bpk.display());
                        if delete {
                            hub_models::convert::remove_converted(&bpk)?;
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

fn leftover_kind(l: &Leftover) -> &'static str {
    match l.kind {
        LeftoverKind::Partial => "partial download",
        LeftoverKind::Staging => "extraction staging",
        LeftoverKind::Temp => "temporary file",
        _ => "other",
    }
}

/// `p` relative to the cache root (whole when outside it).
fn relative(root: &std::path::Path, p: &std::path::Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
}
