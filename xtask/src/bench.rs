//! `cargo xtask bench`: criterion benches, then PyTorch on the same models in the same run.

use std::process::Command;

use anyhow::{bail, Result};

/// Options of `cargo xtask bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Write the comparison table to this Markdown file.
    #[arg(long)]
    out: Option<String>,
}

/// Runs `cargo bench -p hub-bench`, then `xtask/bench/compare.py` with the golden venv.
pub fn run(args: &BenchArgs) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    if !Command::new(cargo).args(["bench", "-p", "hub-bench"]).status()?.success() {
        bail!("cargo bench failed");
    }
    let python = crate::golden::venv_python_default();
    let mut cmd = Command::new(python);
    cmd.arg("xtask/bench/compare.py");
    if let Some(out) = &args.out {
        cmd.args(["--out", out]);
    }
    if !cmd.status()?.success() {
        bail!("xtask/bench/compare.py failed (run `cargo xtask golden` first to create the venv)");
    }
    Ok(())
}
