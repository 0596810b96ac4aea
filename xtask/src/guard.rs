//! `cargo xtask bench-guard`: the instruction-count guards of hub's kernels.
//!
//! Builds `crates/hub-bench/benches/guards.rs` (dev profile: hub-kernels and every dependency
//! at opt-level 3, the artifacts `cargo test` already built), runs every case once under
//! `valgrind --tool=callgrind` counting only `guard_measured` (`--toggle-collect`), with a fixed
//! simulated cache, and compares the instruction counts with `crates/hub-bench/guards-baseline.toml`:
//! a case more than the baseline's tolerance above it fails. Then the same cases natively, timed
//! (the AVX-512 path valgrind cannot run): printed, not gated. `--update` rewrites the baseline.
//! docs/benchmarks.md, "Instruction-count guards", says what it covers and why.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Where the committed baseline lives, from the workspace root.
const BASELINE: &str = "crates/hub-bench/guards-baseline.toml";
/// The tolerance a new baseline gets (an existing one keeps its own).
const DEFAULT_TOLERANCE: f64 = 2.0;
/// The function of guards.rs that callgrind counts.
const MEASURED: &str = "*guard_measured*";
/// A fixed simulated cache (32 KiB 8-way L1s, 8 MiB 16-way last level, 64-byte lines), so that
/// the miss counts do not depend on the host's caches.
const CACHE: [&str; 3] = ["--I1=32768,8,64", "--D1=32768,8,64", "--LL=8388608,16,64"];

/// Options of `cargo xtask bench-guard`.
#[derive(clap::Args, Debug)]
pub struct GuardArgs {
    /// Rewrite the baseline with this run's counts (on purpose: after a change that moves them).
    #[arg(long)]
    update: bool,
    /// Only these cases (comma-separated; not with --update).
    #[arg(long)]
    cases: Option<String>,
    /// Skip the native wall-clock run after the guard.
    #[arg(long)]
    no_wall_clock: bool,
}

/// The committed baseline.
#[derive(Serialize, Deserialize, Debug)]
struct Baseline {
    /// `valgrind --version` of the run that wrote it.
    valgrind: String,
    /// The kernels' dispatch path under valgrind (`hub_kernels::simd_level`).
    dispatch: String,
    /// The commit the counts were taken at (`-dirty` with uncommitted kernel or guard changes).
    commit: String,
    /// A case more than this many percent above its baseline fails.
    tolerance_percent: f64,
    cases: BTreeMap<String, Counts>,
}

/// One case's callgrind counts.
#[derive(Serialize, Deserialize, Debug, Clone, Copy)]
struct Counts {
    /// Instructions executed (callgrind's `Ir`): what the guard gates.
    instructions: u64,
    /// L1 data misses, reads and writes (`D1mr + D1mw`): printed.
    d1_misses: u64,
    /// Last-level misses, instructions and data (`ILmr + DLmr + DLmw`): printed.
    ll_misses: u64,
}

/// One case's result.
struct Run {
    counts: Counts,
    dispatch: String,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn valgrind_version() -> Result<String> {
    let out = Command::new("valgrind").arg("--version").output().map_err(|e| {
        anyhow::anyhow!(
            "valgrind is not installed ({e}): the instruction-count guards need it. Install it with \
             `apt-get install -y valgrind` (.ci/run does)"
        )
    })?;
    if !out.status.success() {
        bail!("`valgrind --version` failed ({}): the instruction-count guards need a working valgrind", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Builds the guards bench and returns its executable.
fn build() -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let args = ["bench", "--no-run", "--profile", "dev", "-p", "hub-bench", "--bench", "guards", "--message-format=json-render-diagnostics"];
    let out = Command::new(cargo).args(args).current_dir(root()).output().context("running cargo bench --no-run")?;
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!("cargo {} failed ({})", args.join(" "), out.status);
    }
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if msg["reason"] == "compiler-artifact" && msg["target"]["name"] == "guards" {
            if let Some(exe) = msg["executable"].as_str() {
                return Ok(PathBuf::from(exe));
            }
        }
    }
    bail!("cargo bench --no-run named no executable for the guards bench")
}

fn list(exe: &Path) -> Result<Vec<String>> {
    let out = Command::new(exe).arg("--list").output().with_context(|| format!("running {} --list", exe.display()))?;
    if !out.status.success() {
        bail!("{} --list failed ({}): {}", exe.display(), out.status, String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect())
}

/// Runs one case under callgrind and reads its totals.
fn measure(exe: &Path, case: &str, dir: &Path) -> Result<Run> {
    let file = dir.join(format!("{case}.callgrind"));
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--cache-sim=yes", "--dump-instr=no", "--compress-strings=no"])
        .args(CACHE)
        .arg(format!("--toggle-collect={MEASURED}"))
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(exe)
        .args(["--run", case])
        .env("HUB_NUM_THREADS", "1")
        .output()
        .with_context(|| format!("running valgrind on guard {case}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("guard {case} failed under valgrind ({}):\n{stderr}", out.status);
    }
    let dispatch = stderr.lines().find_map(|l| l.strip_prefix("dispatch: ")).unwrap_or("unknown").to_owned();
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let counts = parse_callgrind(&text).with_context(|| format!("parsing {}", file.display()))?;
    if counts.instructions == 0 {
        bail!("guard {case}: callgrind counted no instructions in {MEASURED} (was guard_measured inlined or renamed?)");
    }
    Ok(Run { counts, dispatch })
}

/// The totals of a callgrind output file, by its `events:` header.
fn parse_callgrind(text: &str) -> Result<Counts> {
    let events: Vec<&str> = text.lines().find_map(|l| l.strip_prefix("events:")).context("no `events:` line")?.split_whitespace().collect();
    let totals = text.lines().find_map(|l| l.strip_prefix("totals:").or_else(|| l.strip_prefix("summary:"))).context("no `totals:` line")?;
    let values: Vec<u64> = totals.split_whitespace().map(str::parse).collect::<Result<_, _>>().context("totals are not counts")?;
    let get = |name: &str| events.iter().position(|e| *e == name).and_then(|i| values.get(i).copied()).unwrap_or(0);
    if !events.contains(&"Ir") {
        bail!("no Ir event in {events:?}");
    }
    Ok(Counts { instructions: get("Ir"), d1_misses: get("D1mr") + get("D1mw"), ll_misses: get("ILmr") + get("DLmr") + get("DLmw") })
}

/// Runs `cases` under valgrind, as many at a time as there are CPUs (the counts do not depend
/// on it), in the order given.
fn measure_all(exe: &Path, cases: &[String], dir: &Path) -> Result<Vec<Run>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(cases.len()).max(1);
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Result<Run>>>> = Mutex::new((0..cases.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().expect("no worker panics holding it");
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(case) = cases.get(i) else { break };
                let r = measure(exe, case, dir);
                results.lock().expect("no worker panics holding it")[i] = Some(r);
            });
        }
    });
    results.into_inner().expect("workers done").into_iter().map(|r| r.expect("every case ran")).collect()
}

fn commit() -> String {
    let git = |args: &[&str]| Command::new("git").args(args).current_dir(root()).output().ok().filter(|o| o.status.success()).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let head = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    let dirty = git(&["status", "--porcelain", "--", "crates/hub-kernels", "crates/hub-bench/benches/guards.rs"]).is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{head}-dirty")
    } else {
        head
    }
}

fn percent(now: u64, base: u64) -> f64 {
    if base == 0 {
        0.0
    } else {
        (now as f64 - base as f64) / base as f64 * 100.0
    }
}

/// Prints the comparison and returns the failing cases.
fn compare(cases: &[String], runs: &[Run], base: &Baseline) -> Vec<String> {
    let tol = base.tolerance_percent;
    let mut failed = Vec::new();
    println!("{:<22} {:>14} {:>14} {:>8}  {:>7} {:>7}  verdict", "case", "baseline Ir", "now Ir", "change", "D1 miss", "LL miss");
    for (case, run) in cases.iter().zip(runs) {
        let now = run.counts;
        let Some(b) = base.cases.get(case) else {
            println!("{case:<22} {:>14} {:>14} {:>8}  {:>7} {:>7}  FAIL: not in the baseline (`cargo xtask bench-guard --update`)", "-", now.instructions, "-", "-", "-");
            failed.push(case.clone());
            continue;
        };
        let change = percent(now.instructions, b.instructions);
        let verdict = if change > tol {
            failed.push(case.clone());
            format!("FAIL: more than +{tol}%")
        } else if change < -tol {
            "ok, faster: `cargo xtask bench-guard --update` to keep it".to_owned()
        } else {
            "ok".to_owned()
        };
        println!(
            "{case:<22} {:>14} {:>14} {:>+7.2}%  {:>+6.1}% {:>+6.1}%  {verdict}",
            b.instructions,
            now.instructions,
            change,
            percent(now.d1_misses, b.d1_misses),
            percent(now.ll_misses, b.ll_misses)
        );
    }
    failed
}

/// Runs the guard.
pub fn run(args: &GuardArgs) -> Result<()> {
    let started = Instant::now();
    let valgrind = valgrind_version()?;
    let exe = build()?;
    let all = list(&exe)?;
    let cases: Vec<String> = match &args.cases {
        Some(_) if args.update => bail!("--update rewrites the whole baseline: leave out --cases"),
        Some(list) => {
            let wanted: Vec<String> = list.split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect();
            if let Some(bad) = wanted.iter().find(|c| !all.contains(c)) {
                bail!("no guard case {bad:?}; the cases are: {}", all.join(", "));
            }
            wanted
        }
        None => all.clone(),
    };
    let dir = root().join("target/bench-guard");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let measure_started = Instant::now();
    let runs = measure_all(&exe, &cases, &dir)?;
    let dispatch = runs.first().map_or_else(|| "unknown".to_owned(), |r| r.dispatch.clone());
    println!(
        "bench-guard: {} cases under callgrind in {:.0} s ({valgrind}, dispatch under valgrind: {dispatch})",
        cases.len(),
        measure_started.elapsed().as_secs_f64()
    );
    let path = root().join(BASELINE);
    let old = std::fs::read_to_string(&path).ok().map(|t| toml::from_str::<Baseline>(&t).with_context(|| format!("parsing {}", path.display()))).transpose()?;
    let mut failed = Vec::new();
    if args.update {
        let counts = cases.iter().cloned().zip(runs.iter().map(|r| r.counts)).collect();
        let tolerance_percent = old.as_ref().map_or(DEFAULT_TOLERANCE, |b| b.tolerance_percent);
        let new = Baseline { valgrind, dispatch, commit: commit(), tolerance_percent, cases: counts };
        let header = "# Instruction-count guards of hub's kernels: callgrind counts of crates/hub-bench/benches/guards.rs\n\
                      # on one thread. Written by `cargo xtask bench-guard --update`; see docs/benchmarks.md.\n";
        let text = format!("{header}{}", toml::to_string(&new).context("writing the baseline")?);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        println!("bench-guard: wrote {BASELINE} ({} cases at {})", new.cases.len(), new.commit);
        if let Some(old) = &old {
            println!("bench-guard: against the previous baseline (taken at {}):", old.commit);
            compare(&cases, &runs, old);
        }
    } else {
        let Some(base) = old else {
            bail!("{} is missing: `cargo xtask bench-guard --update` writes it", path.display());
        };
        if base.valgrind != valgrind || base.dispatch != dispatch {
            println!(
                "bench-guard: WARNING: the baseline was taken with {} on dispatch {:?}, this run is {valgrind} on {dispatch:?}: \
                 counts may not be comparable (still gated; take a new baseline on purpose with --update)",
                base.valgrind, base.dispatch
            );
        }
        println!("bench-guard: baseline {BASELINE} taken at {}, tolerance +{}% instructions", base.commit, base.tolerance_percent);
        failed = compare(&cases, &runs, &base);
        if args.cases.is_none() {
            let missing: Vec<_> = base.cases.keys().filter(|c| !cases.contains(c)).collect();
            if !missing.is_empty() {
                println!("bench-guard: FAIL: baseline cases no longer in the guard: {missing:?} (`--update` drops them)");
                failed.extend(missing.into_iter().cloned());
            }
        }
    }
    if !args.no_wall_clock {
        let timed = Command::new(&exe).env("HUB_NUM_THREADS", "1").status().context("running the native wall-clock run")?;
        if !timed.success() {
            bail!("the native wall-clock run of the guards failed ({timed})");
        }
    }
    println!("bench-guard: done in {:.0} s", started.elapsed().as_secs_f64());
    if !failed.is_empty() {
        bail!("instruction-count regression in {}: fix it, or take a new baseline on purpose with `cargo xtask bench-guard --update`", failed.join(", "));
    }
    Ok(())
}
