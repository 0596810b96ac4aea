//! `cargo xtask import ENTRY [--repo REPO]` or `cargo xtask import FILE.pth --arch ID`:
//! converts a PyTorch checkpoint once into a checked burnpack file (`hub convert`).

use std::process::Command;

use anyhow::{bail, Result};

/// Options of `cargo xtask import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// An entrypoint of --repo (e.g. resnet50), or a path to a .pth file (with --arch).
    target: String,
    /// The repo of the entrypoint.
    #[arg(long, default_value = "pytorch/vision")]
    repo: String,
    /// Architecture id, for a .pth path.
    #[arg(long)]
    arch: Option<String>,
    /// Output file, for a .pth path [default: the .pth path with a .bpk extension].
    #[arg(long)]
    out: Option<String>,
}

/// Runs `hub convert` through cargo.
pub fn run(args: &ImportArgs) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.args(["run", "--quiet", "-p", "hub-cli", "--", "convert"]);
    if std::path::Path::new(&args.target).is_file() {
        let Some(arch) = &args.arch else { bail!("{} is a file: give its architecture with --arch", args.target) };
        let out = args.out.clone().unwrap_or_else(|| format!("{}.bpk", args.target.trim_end_matches(".pth")));
        cmd.args(["--checkpoint", &args.target, "--arch", arch, "--out", &out]);
    } else {
        cmd.args([&args.repo, &args.target]);
    }
    if !cmd.status()?.success() {
        bail!("hub convert failed");
    }
    Ok(())
}
