//! `hub cache ls|verify|rm|gc|path`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use hub_core::cache::{Leftover, LeftoverKind, Verified};
use serde::Serialize;

use crate::exit::Exit;
use crate::output::{bytes, table};
use crate::report::{self, Format};
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
            let artifacts = cache.artifacts()?.into_iter().map(|a| Artifact { path: a.path, sha256: a.sha256, size: a.size }).collect();
            let converted = hub_models::convert::converted_files(cache.root())?
                .into_iter()
                .map(|path| Converted { size: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0), path })
                .collect();
            let leftovers = cache
                .leftovers()?
                .into_iter()
                .map(|l| LeftoverFile { kind: leftover_kind(&l), path: l.path, size: l.size, in_use: l.in_use })
                .collect();
            report::print(&Listing { root: cache.root(), artifacts, converted, leftovers }, Format::json_if(json))?;
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

/// What the cache holds.
#[derive(Serialize, Debug)]
struct Listing<'a> {
    root: &'a Path,
    artifacts: Vec<Artifact>,
    converted: Vec<Converted>,
    leftovers: Vec<LeftoverFile>,
}

/// A verified download.
#[derive(Serialize, Debug)]
struct Artifact {
    path: PathBuf,
    sha256: String,
    size: u64,
}

/// A converted burnpack.
#[derive(Serialize, Debug)]
struct Converted {
    path: PathBuf,
    size: u64,
}

/// What `cache gc` cleans (unless a process still uses it).
#[derive(Serialize, Debug)]
struct LeftoverFile {
    path: PathBuf,
    size: u64,
    kind: &'static str,
    in_use: bool,
}

impl fmt::Display for Listing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let root = self.root;
        let rows: Vec<Vec<String>> = self.artifacts.iter().map(|a| vec![file_name(&a.path), a.sha256[..12].to_owned(), bytes(a.size)]).collect();
        f.write_str(&table(&["FILE", "SHA256", "SIZE"], &rows))?;
        writeln!(f, "{} files, {} in {}", self.artifacts.len(), bytes(self.artifacts.iter().map(|a| a.size).sum()), root.display())?;
        if !self.converted.is_empty() {
            let rows: Vec<Vec<String>> = self.converted.iter().map(|c| vec![relative(root, &c.path), bytes(c.size)]).collect();
            writeln!(f)?;
            f.write_str(&table(&["CONVERTED", "SIZE"], &rows))?;
        }
        if !self.leftovers.is_empty() {
            let rows: Vec<Vec<String>> = self
                .leftovers
                .iter()
                .map(|l| vec![relative(root, &l.path), l.kind.to_owned(), bytes(l.size), if l.in_use { "in use (kept)" } else { "gc removes it" }.to_owned()])
                .collect();
            writeln!(f)?;
            f.write_str(&table(&["LEFTOVER", "KIND", "SIZE", "STATE"], &rows))?;
            let freeable: u64 = self.leftovers.iter().filter(|l| !l.in_use).map(|l| l.size).sum();
            writeln!(f, "{} leftovers; `hub cache gc` would free {}", self.leftovers.len(), bytes(freeable))?;
        }
        Ok(())
    }
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
fn relative(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
}
