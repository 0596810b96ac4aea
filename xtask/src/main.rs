//! `cargo xtask`: developer jobs for the hub workspace (matklad's cargo-xtask pattern).
//!
//! Never a dependency of the libraries. Subcommands:
//! - `cargo xtask golden`: PyTorch golden references for the parity tests (see `golden.rs`).
//! - `cargo xtask ci`: what CI runs (golden references, tests, docs, GPU feature check).
//! - `cargo xtask bench`: hub, PyTorch eager and ONNX Runtime side by side (and, with
//!   `--criterion`, the criterion benches).
//! - `cargo xtask import ENTRY`: convert a checkpoint once into a checked burnpack file.
//! - `cargo xtask bench-guard`: the kernels' instruction counts under callgrind against the
//!   committed baseline (`--update` rewrites it; see `guard.rs`).

mod bench;
mod ci;
mod golden;
mod guard;
mod import;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Developer jobs for the hub workspace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the PyTorch golden references under target/golden (creates a pinned venv once).
    Golden(golden::GoldenArgs),
    /// What CI runs: golden references, the test suite, docs, GPU feature check.
    Ci(ci::CiArgs),
    /// hub, PyTorch eager and ONNX Runtime on the same weights and inputs, interleaved, with ratios.
    Bench(bench::BenchArgs),
    /// Convert a PyTorch checkpoint once into a checked burnpack file.
    Import(import::ImportArgs),
    /// The kernels' instruction counts under callgrind against the committed baseline.
    BenchGuard(guard::GuardArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Golden(args) => golden::run(&args),
        Command::Ci(args) => ci::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Import(args) => import::run(&args),
        Command::BenchGuard(args) => guard::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
