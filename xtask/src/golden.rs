//! `cargo xtask golden`: the PyTorch golden references that the Rust parity tests compare against.
//!
//! 1. Creates (once) a virtual environment, by default `target/golden-venv`, with the exact
//!    pins of `xtask/golden/requirements.txt` (torch 2.15.0, torchvision 0.29.2, ...), installed
//!    from PyPI with `--no-deps` (that file explains the trimmed CUDA library set). A venv whose
//!    installed versions already match the pins is reused as it is.
//! 2. Runs `xtask/golden/vision.py` (torchvision models with seeded random weights →
//!    `target/golden/vision/E/{model.pth, model_legacy.pth, io.safetensors, meta.json}`,
//!    `index.json`) and `xtask/golden/real.py` (real EfficientNet-Lite0 weights, chelsea.png,
//!    preprocessing references → `target/golden/real/`, wheels in `target/golden/wheels/`).
//!
//! Both scripts skip what is already there and complete, unless `--force`; every file is
//! written under a temporary name and renamed, so an interrupted run is simply resumed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

/// Torch 2.15 wheels need this Python or newer.
const MIN_PYTHON: (u32, u32) = (3, 11);

/// Options of `cargo xtask golden`.
#[derive(Args, Debug)]
pub struct GoldenArgs {
    /// Generate only one part: `vision` (torchvision models, random weights) or `real`
    /// (pretrained EfficientNet-Lite0 on chelsea.png, preprocessing references).
    #[arg(long, value_enum)]
    only: Option<Part>,
    /// Python virtual environment to create or reuse [default: target/golden-venv].
    #[arg(long, value_name = "PATH")]
    venv: Option<PathBuf>,
    /// Output folder [default: target/golden]; the parity tests read target/golden.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Regenerate references that already exist.
    #[arg(long)]
    force: bool,
    /// Generate only this vision entry (repeatable), e.g. `--entry resnet18`.
    #[arg(long = "entry", value_name = "NAME")]
    entries: Vec<String>,
    /// Python interpreter (3.11 or newer) used to create the venv.
    #[arg(
        long,
        env = "HUB_GOLDEN_PYTHON",
        default_value = "python3",
        value_name = "PYTHON"
    )]
    python: String,
}

/// The two halves of the golden data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Part {
    /// torchvision architectures with seeded random weights.
    Vision,
    /// Real pretrained weights and preprocessing.
    Real,
    /// GAN generators (GAN zoo reference implementation, gan-face-generate weights).
    Gan,
    /// BERT and GPT-2 (transformers; MiniLM and BERT-tiny real weights).
    Text,
    /// Semantic segmentation (torchvision FCN, DeepLabV3, LR-ASPP).
    Seg,
    /// Tacotron2 and WaveGlow (a faithful reference of NVIDIA's code).
    Tts,
}

/// Paths the job works with, resolved once.
struct Layout {
    scripts: PathBuf,
    requirements: PathBuf,
    venv: PathBuf,
    out: PathBuf,
}

impl Layout {
    fn new(args: &GoldenArgs) -> Result<Self> {
        let root = workspace_root();
        let cwd = std::env::current_dir().context("reading the current directory")?;
        let scripts = root.join("xtask").join("golden");
        Ok(Self {
            requirements: scripts.join("requirements.txt"),
            scripts,
            venv: args
                .venv
                .as_ref()
                .map_or_else(|| root.join("target").join("golden-venv"), |p| cwd.join(p)),
            out: args
                .out
                .as_ref()
                .map_or_else(|| root.join("target").join("golden"), |p| cwd.join(p)),
        })
    }
}

/// Runs `cargo xtask golden`.
pub fn run(args: &GoldenArgs) -> Result<()> {
    if args.only.is_some_and(|p| p != Part::Vision) && !args.entries.is_empty() {
        bail!("--entry selects vision entries; it cannot be combined with another --only part");
    }
    let start = Instant::now();
    let layout = Layout::new(args)?;
    let python = ensure_venv(&layout, &args.python)?;

    let wants = |part: Part| args.only.is_none() || args.only == Some(part);
    if wants(Part::Vision) {
        let mut script_args: Vec<OsString> = vec!["--out".into(), layout.out.join("vision").into()];
        if args.force {
            script_args.push("--force".into());
        }
        if !args.entries.is_empty() {
            script_args.push("--entries".into());
            script_args.push(args.entries.join(",").into());
        }
        run_script(&python, &layout.scripts.join("vision.py"), &script_args)?;
    }
    if wants(Part::Gan) {
        let mut script_args: Vec<OsString> = vec!["--out".into(), layout.out.join("gan").into()];
        if args.force {
            script_args.push("--force".into());
        }
        run_script(&python, &layout.scripts.join("gan.py"), &script_args)?;
    }
    if wants(Part::Text) {
        // text.py always regenerates (about 30 s once its wheels are downloaded).
        let script_args: Vec<OsString> = vec!["--out".into(), layout.out.join("text").into()];
        run_script(&python, &layout.scripts.join("text.py"), &script_args)?;
    }
    for (part, script, dir) in [(Part::Seg, "seg.py", "seg"), (Part::Tts, "tts.py", "tts")] {
        if wants(part) {
            let script_args: Vec<OsString> = vec!["--out".into(), layout.out.join(dir).into()];
            run_script(&python, &layout.scripts.join(script), &script_args)?;
        }
    }
    if wants(Part::Real) {
        let mut script_args: Vec<OsString> = vec![
            "--out".into(),
            layout.out.join("real").into(),
            "--wheels".into(),
            layout.out.join("wheels").into(),
        ];
        if args.force {
            script_args.push("--force".into());
        }
        run_script(&python, &layout.scripts.join("real.py"), &script_args)?;
    }
    println!(
        "golden: done in {:.0} s; {} holds {}",
        start.elapsed().as_secs_f64(),
        layout.out.display(),
        human_size(dir_size(&layout.out))
    );
    Ok(())
}

/// The python of the default venv (`target/golden-venv`).
pub fn venv_python_default() -> PathBuf {
    venv_python(&workspace_root().join("target").join("golden-venv"))
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// A `python` command with an environment that doesn't leak into, or out of, the venv.
fn python_command(python: &Path) -> Command {
    let mut cmd = Command::new(python);
    cmd.env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .env("PYTHONDONTWRITEBYTECODE", "1") // no __pycache__ in xtask/golden
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONHASHSEED", "0")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_INPUT", "1");
    cmd
}

/// Creates the venv if needed and makes its packages match the pins; returns its python.
fn ensure_venv(layout: &Layout, base_python: &str) -> Result<PathBuf> {
    let python = venv_python(&layout.venv);
    if !python.exists() {
        check_base_python(base_python)?;
        println!("golden: creating venv {}", layout.venv.display());
        let out = Command::new(base_python)
            .args(["-m", "venv"])
            .arg(&layout.venv)
            .output()
            .with_context(|| format!("running `{base_python} -m venv`"))?;
        if !out.status.success() {
            print_output_tail(&out);
            bail!(
                "`{base_python} -m venv {}` failed ({}); on Debian/Ubuntu install the venv module \
                 with `apt-get install python3-venv`, or pass --python",
                layout.venv.display(),
                out.status
            );
        }
    }

    let check = |smoke: bool| -> Result<Output> {
        let mut cmd = python_command(&python);
        cmd.arg(layout.scripts.join("check_env.py"))
            .arg(&layout.requirements);
        if smoke {
            cmd.arg("--smoke");
        }
        cmd.output()
            .with_context(|| format!("running {}", python.display()))
    };
    if check(false)?.status.success() {
        return Ok(python);
    }

    println!(
        "golden: installing the pinned PyTorch environment into {} (about 2.3 GB from PyPI)...",
        layout.venv.display()
    );
    let started = Instant::now();
    let out = python_command(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--only-binary=:all:",
            "--progress-bar",
            "off",
            "-q",
            "-r",
        ])
        .arg(&layout.requirements)
        .output()
        .context("running pip")?;
    if !out.status.success() {
        print_output_tail(&out);
        bail!(
            "`pip install --no-deps -r {}` failed ({}); see pip's output above (PyPI must be reachable)",
            layout.requirements.display(),
            out.status
        );
    }
    let smoke = check(true)?;
    if !smoke.status.success() {
        print_output_tail(&smoke);
        bail!(
            "the venv {} does not match {} or cannot run torch on the CPU after installing",
            layout.venv.display(),
            layout.requirements.display()
        );
    }
    print!("{}", String::from_utf8_lossy(&smoke.stdout));
    println!(
        "golden: venv installed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(python)
}

/// Fails early, with a clear message, when the base interpreter is missing or too old.
fn check_base_python(base_python: &str) -> Result<()> {
    let out = Command::new(base_python)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .with_context(|| {
            format!("`{base_python}` not found: install Python 3.11+ or pass --python")
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.trim();
    let parsed = version
        .split_once('.')
        .and_then(|(major, minor)| Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?)));
    match parsed {
        Some(v) if out.status.success() && v >= MIN_PYTHON => Ok(()),
        Some(_) => bail!(
            "`{base_python}` is Python {version}; torch 2.15 needs {}.{} or newer (pass --python)",
            MIN_PYTHON.0,
            MIN_PYTHON.1
        ),
        None => bail!(
            "`{base_python}` did not report its version ({}): {}; install Python {}.{}+ or pass --python",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            MIN_PYTHON.0,
            MIN_PYTHON.1
        ),
    }
}

/// Runs one golden script with the venv's python, its output going straight to ours.
fn run_script(python: &Path, script: &Path, args: &[OsString]) -> Result<()> {
    let status = python_command(python)
        .arg(script)
        .args(args)
        .status()
        .with_context(|| format!("running {}", script.display()))?;
    if !status.success() {
        bail!("{} failed ({status})", script.display());
    }
    Ok(())
}

fn print_output_tail(out: &Output) {
    const LINES: usize = 40;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines[lines.len().saturating_sub(LINES)..] {
        eprintln!("  | {line}");
    }
}

/// Total size of the files under `path` (0 when it doesn't exist).
fn dir_size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| dir_size(&e.path())).sum())
        .unwrap_or(0)
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(0), "0.0 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn dir_size_counts_nested_files() {
        let dir = std::env::temp_dir().join(format!("xtask-golden-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a")).unwrap();
        std::fs::write(dir.join("x"), [0u8; 10]).unwrap();
        std::fs::write(dir.join("a").join("y"), [0u8; 5]).unwrap();
        assert_eq!(dir_size(&dir), 15);
        assert_eq!(dir_size(&dir.join("missing")), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn requirements_are_exact_pins() {
        let text = std::fs::read_to_string(workspace_root().join("xtask/golden/requirements.txt"))
            .unwrap();
        let pins: Vec<&str> = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter(|l| !l.is_empty())
            .collect();
        assert!(pins.contains(&"torch==2.15.0"), "{pins:?}");
        assert!(pins.contains(&"torchvision==0.29.2"), "{pins:?}");
        for pin in pins {
            let (name, version) = pin
                .split_once("==")
                .unwrap_or_else(|| panic!("not an exact pin: {pin}"));
            assert!(
                !name.is_empty() && !version.is_empty() && !version.contains(['<', '>', '*', ',']),
                "{pin}"
            );
        }
    }
}
