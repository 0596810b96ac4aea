//! `hub convert REPO ENTRY [--weights NAME]` or `hub convert --checkpoint FILE --arch ID --out FILE.bpk`:
//! converts a PyTorch checkpoint once into a burnpack file, checked tensor by tensor.

use std::path::PathBuf;
use std::process::ExitCode;

use hub_models::convert::{convert_checkpoint, convert_published};

use crate::output::bytes;
use crate::Global;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// owner/repo[:ref], a base URL, or a local directory (with ENTRY).
    #[arg(required_unless_present = "checkpoint", requires = "entry")]
    repo: Option<hub_core::RepoSpec>,
    /// The entrypoint whose published weights to convert (stored in the cache; used automatically).
    entry: Option<String>,
    /// Weight variant (default: the entrypoint's default).
    #[arg(long)]
    weights: Option<String>,
    /// A local PyTorch checkpoint to convert instead (with --arch and --out).
    #[arg(long, conflicts_with_all = ["repo", "weights"], requires_all = ["arch", "out"])]
    checkpoint: Option<PathBuf>,
    /// The dictionary inside --checkpoint holding the state dict.
    #[arg(long, requires = "checkpoint")]
    checkpoint_key: Option<String>,
    /// Architecture id of --checkpoint (see `hub list`).
    #[arg(long)]
    arch: Option<String>,
    /// Number of classes of --checkpoint.
    #[arg(long, default_value_t = 1000)]
    num_classes: usize,
    /// Where to write the burnpack file (--checkpoint only).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let done = match (&args.repo, &args.checkpoint) {
        (Some(repo), _) => convert_published(&global.hub()?, repo, args.entry.as_deref().unwrap_or_default(), args.weights.as_deref())?,
        (None, Some(checkpoint)) => convert_checkpoint(
            checkpoint,
            args.checkpoint_key.as_deref(),
            args.arch.as_deref().unwrap_or_default(),
            args.num_classes,
            &args.out.clone().unwrap_or_default(),
        )?,
        (None, None) => anyhow::bail!("give REPO ENTRY, or --checkpoint FILE --arch ID --out FILE"),
    };
    println!(
        "wrote {} ({} tensors checked identical, {}); PyTorch import {:.0} ms, burnpack load {:.0} ms",
        done.converted.path.display(),
        done.converted.tensors,
        bytes(done.converted.bytes),
        done.import_time.as_secs_f64() * 1e3,
        done.load_time.as_secs_f64() * 1e3
    );
    Ok(ExitCode::SUCCESS)
}
