//! `cargo xtask bench`: hub, PyTorch eager and ONNX Runtime on the same models, weights and
//! inputs, rounds interleaved in one run (`xtask/bench/engines.py` driving
//! `crates/hub-bench/examples/worker.rs`); with `--criterion`, the criterion benches and their
//! PyTorch comparison too.

use std::process::Command;

use anyhow::{bail, Context, Result};

/// The models compared by default: every vision classifier of hub-bench, and BERT-base.
const DEFAULT_MODELS: &str = "resnet50,mobilenet_v2,mobilenet_v3_large,efficientnet_b0,vgg16,alexnet,densenet121,\
squeezenet1_1,googlenet,inception_v3,shufflenet_v2_x1_0,resnext50_32x4d,efficientnet_v2_s,regnet_y_1_6gf,vit_b_16,bert-base";

/// Options of `cargo xtask bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Models to compare (torchvision classifier or segmentation names, or `bert-base`), comma-separated.
    #[arg(long, default_value = DEFAULT_MODELS)]
    models: String,
    /// Batch sizes, comma-separated.
    #[arg(long, default_value = "1,8")]
    batch: String,
    /// Threads for every engine [default: one per logical CPU].
    #[arg(long)]
    threads: Option<usize>,
    /// Interleaved rounds per engine.
    #[arg(long, default_value_t = 10)]
    rounds: usize,
    /// Write the comparison table to this Markdown file.
    #[arg(long)]
    out: Option<String>,
    /// Also run the criterion benches (`cargo bench -p hub-bench`) and `xtask/bench/compare.py`.
    #[arg(long)]
    criterion: bool,
}

fn status(cmd: &mut Command, what: &str) -> Result<()> {
    if !cmd.status().with_context(|| format!("running {what}"))?.success() {
        bail!("{what} failed");
    }
    Ok(())
}

/// Builds the worker, installs the ONNX packages into the golden venv, runs the comparison.
pub fn run(args: &BenchArgs) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    status(Command::new(&cargo).args(["build", "--release", "-p", "hub-bench", "--example", "worker"]), "building the hub worker")?;
    let python = crate::golden::venv_python_default();
    if !python.exists() {
        bail!("{} is missing: run `cargo xtask golden` first to create the venv", python.display());
    }
    status(
        Command::new(&python).args(["-m", "pip", "install", "-q", "--no-deps", "--only-binary=:all:", "-r", "xtask/bench/requirements.txt"]),
        "pip install -r xtask/bench/requirements.txt",
    )?;
    let mut cmd = Command::new(&python);
    cmd.arg("xtask/bench/engines.py").args(args.models.split(',').filter(|m| !m.is_empty()));
    cmd.args(["--batch", &args.batch, "--rounds", &args.rounds.to_string()]);
    if let Some(t) = args.threads {
        cmd.args(["--threads", &t.to_string()]);
    }
    if let Some(out) = &args.out {
        cmd.args(["--out", out]);
    }
    status(&mut cmd, "xtask/bench/engines.py")?;
    if args.criterion {
        status(Command::new(&cargo).args(["bench", "-p", "hub-bench"]), "cargo bench")?;
        status(Command::new(&python).arg("xtask/bench/compare.py"), "xtask/bench/compare.py")?;
    }
    Ok(())
}
