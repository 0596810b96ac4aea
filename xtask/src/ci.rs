//! `cargo xtask ci`: what CI runs (the README's test command).
//!
//! 1. `cargo xtask golden` — PyTorch references (creates the pinned venv once);
//! 2. `cargo test --workspace` with `HUB_REQUIRE_GOLDEN=1`, so a missing reference fails, then
//!    the vision parity subset again with hub's kernels off (`HUB_KERNELS=off`);
//! 3. `cargo check` of the `wgpu` and `cuda` features (compiled, not run: CI has no GPU);
//! 4. `cargo doc` of the libraries with warnings denied (missing docs are errors);
//! 5. the instruction-count guards of the kernels under valgrind (`cargo xtask bench-guard`,
//!    about a minute once the benches are built; a case more than the baseline's tolerance
//!    above `crates/hub-bench/guards-baseline.toml` fails);
//! 6. the vision parity subset on wgpu, when a Vulkan driver is present (Mesa's lavapipe on
//!    CPU-only machines: `.ci/run` installs `mesa-vulkan-drivers`).

use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// Options of `cargo xtask ci`.
#[derive(clap::Args, Debug)]
pub struct CiArgs {
    /// Skip generating the golden references (they must already exist).
    #[arg(long)]
    skip_golden: bool,
    /// Skip the `cargo check` of the GPU features and the wgpu parity run.
    #[arg(long)]
    skip_gpu_check: bool,
}

fn cargo(args: &[&str], envs: &[(&str, &str)]) -> Result<()> {
    let started = Instant::now();
    println!("==> cargo {}", args.join(" "));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo).args(args).envs(envs.iter().copied()).status().with_context(|| format!("running cargo {}", args.join(" ")))?;
    println!("<== cargo {} ({:.0} s)", args.join(" "), started.elapsed().as_secs_f64());
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Runs the CI job.
pub fn run(args: &CiArgs) -> Result<()> {
    let started = Instant::now();
    if !args.skip_golden {
        cargo(&["xtask", "golden"], &[])?;
    }
    cargo(&["test", "--workspace", "--no-fail-fast"], &[("HUB_REQUIRE_GOLDEN", "1")])?;
    // The same vision parity on burn's portable ops (hub's kernels off): both paths stay equal
    // to PyTorch.
    cargo(&["test", "-p", "hub-models", "--test", "parity_vision_a"], &[("HUB_REQUIRE_GOLDEN", "1"), ("HUB_KERNELS", "off")])?;
    cargo(&["doc", "--no-deps", "-p", "hub-core", "-p", "hub-kernels", "-p", "hub-models"], &[("RUSTDOCFLAGS", "-D warnings")])?;
    // Instruction counts, not wall-clock time: they repeat exactly on a shared machine.
    cargo(&["xtask", "bench-guard", "--no-wall-clock"], &[])?;
    if !args.skip_gpu_check {
        cargo(&["check", "-p", "hub-cli", "--features", "wgpu,cuda"], &[])?;
        if vulkan_available() {
            let runtime = std::env::temp_dir();
            let runtime = runtime.to_string_lossy();
            cargo(
                &["test", "-p", "hub-models", "--features", "wgpu", "--test", "parity_backends", "--", "--nocapture"],
                &[("HUB_REQUIRE_GOLDEN", "1"), ("XDG_RUNTIME_DIR", &runtime)],
            )?;
        } else {
            println!("ci: no Vulkan driver (install mesa-vulkan-drivers): the wgpu parity run is skipped");
        }
    }
    println!("ci: all green in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Whether a Vulkan ICD is installed (lavapipe or a GPU driver).
fn vulkan_available() -> bool {
    ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"]
        .iter()
        .any(|d| std::fs::read_dir(d).is_ok_and(|mut e| e.next().is_some()))
}
