//! `hub`: list, document, download and run published models.

mod commands;
mod exit;
mod npy;
mod output;
mod progress;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

/// PyTorch Hub for Rust: list, document, download and run published models.
#[derive(Parser, Debug)]
#[command(name = "hub", version, disable_help_subcommand = true, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// No network at all; cached things work, a miss is an error (also HUB_OFFLINE=1).
    #[arg(long, global = true)]
    offline: bool,
    /// Re-resolve refs and re-download artifacts even when cached.
    #[arg(long, global = true)]
    force_reload: bool,
    /// Record resolutions in this lockfile (default: ./hub.lock when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    lockfile: Option<PathBuf>,
    /// Fail if anything would change the lockfile.
    #[arg(long, global = true)]
    locked: bool,
    /// Show the cause chain of errors.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// CPU threads for inference (default: one per physical core; also HUB_NUM_THREADS).
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=hub_models::kernels::MAX_THREADS as i64))]
    threads: Option<u16>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List a repo's entrypoints.
    List(commands::list::Args),
    /// Show an entrypoint's documentation, weights, preprocessing and shapes.
    Help(commands::help::Args),
    /// Run an entrypoint on inputs.
    Run(Box<commands::run::Args>),
    /// Download (and verify) an entrypoint's weights into the cache.
    Download(commands::download::Args),
    /// Inspect and maintain the cache.
    Cache(commands::cache::Args),
    /// Resolve repos and weights and write their hashes to the lockfile.
    Lock(commands::lock::Args),
    /// Convert a PyTorch checkpoint once into a checked burnpack file that later loads use.
    Convert(commands::convert::Args),
    /// Serve models over HTTP: the Open Inference Protocol v2, task endpoints, a gallery.
    Serve(Box<commands::serve::Args>),
    /// Benchmark an entrypoint: latency, throughput, load time and memory, compared with a baseline.
    Bench(Box<commands::bench::Args>),
}

/// Settings every command shares.
pub struct Global {
    pub offline: bool,
    pub force_reload: bool,
    pub lockfile: Option<PathBuf>,
    pub locked: bool,
}

impl Global {
    /// The hub, configured from the environment and these flags, with the built-in manifests.
    pub fn hub(&self) -> anyhow::Result<hub_core::Hub> {
        let mut options = hub_core::HubOptions::from_env()?;
        options.offline |= self.offline;
        options.force_reload = self.force_reload;
        options.locked = self.locked;
        options.lockfile = self.lockfile.clone().or_else(|| {
            let default = PathBuf::from("hub.lock");
            (self.locked || default.exists()).then_some(default)
        });
        options.progress = Arc::new(progress::Bars::new());
        Ok(hub_models::builtin::hub(options)?)
    }
}

fn main() -> ExitCode {
    // `hub list | head`: a closed stdout makes `println!` panic. Exit quietly instead, as shell
    // tools do (unsafe code is forbidden here, so SIGPIPE cannot be reset to its default).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload().downcast_ref::<String>().map(String::as_str).unwrap_or_default();
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        // Anything else is a bug in hub, never a bad input (those are typed errors): say so,
        // with its own exit code, instead of the generic 101.
        default_hook(info);
        eprintln!("error: internal error (a bug in hub, not in your input): please report it with the message above");
        std::process::exit(70);
    }));
    let cli = Cli::parse();
    // Before any work: the kernels and burn's flex share this pool.
    if let Err(e) = hub_models::kernels::init_threads(cli.threads.map(usize::from)) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let global = Global { offline: cli.offline, force_reload: cli.force_reload, lockfile: cli.lockfile, locked: cli.locked };
    let result = match cli.command {
        Command::List(a) => commands::list::run(a, &global),
        Command::Help(a) => commands::help::run(a, &global),
        Command::Run(a) => commands::run::run(*a, &global),
        Command::Download(a) => commands::download::run(a, &global),
        Command::Cache(a) => commands::cache::run(a, &global),
        Command::Lock(a) => commands::lock::run(a, &global),
        Command::Convert(a) => commands::convert::run(a, &global),
        Command::Serve(a) => commands::serve::run(*a, &global),
        Command::Bench(a) => commands::bench::run(*a, &global),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if cli.verbose > 0 {
                for cause in e.chain().skip(1) {
                    eprintln!("  caused by: {cause}");
                }
            } else if e.chain().nth(1).is_some() {
                eprintln!("  (run with -v for the cause)");
            }
            ExitCode::from(exit_code(&e))
        }
    }
}

/// Exit codes (documented in the README):
/// 1 other errors, 2 usage, 3 unknown repo/entry/weights/file, 4 network, 5 integrity
/// (hash or size mismatch, corrupt cache), 6 offline miss, 7 lockfile violation, 8 a benchmark
/// regressed against its baseline, 9 the baseline is not comparable (another CPU, thread count,
/// device or model).
fn exit_code(e: &anyhow::Error) -> u8 {
    use commands::bench::{BaselineError, NotComparable, Regressed};
    for cause in e.chain() {
        if cause.is::<Regressed>() {
            return 8;
        }
        if cause.is::<NotComparable>() {
            return 9;
        }
        match cause.downcast_ref::<BaselineError>() {
            Some(BaselineError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => return 3,
            Some(_) => return 2,
            None => {}
        }
        match cause.downcast_ref::<hub_models::Error>() {
            Some(hub_models::Error::BurnpackIntegrity { .. }) => return 5,
            Some(hub_models::Error::NoCheckpoint { .. } | hub_models::Error::CheckpointNotAFile { .. }) => return 2,
            _ => {}
        }
        // hub-models wraps hub-core's errors transparently: look through it.
        let hub = cause.downcast_ref::<hub_core::Error>().or(match cause.downcast_ref::<hub_models::Error>() {
            Some(hub_models::Error::Hub(h)) => Some(h),
            _ => None,
        });
        if let Some(h) = hub {
            return hub_exit_code(h);
        }
        if let Some(code) = cause.downcast_ref::<exit::Exit>() {
            return code.0;
        }
    }
    1
}

fn hub_exit_code(h: &hub_core::Error) -> u8 {
    use hub_core::Error as H;
    match h {
        H::InvalidSpec { .. } | H::InvalidModelId { .. } => 2,
        H::UnknownEntry { .. } | H::UnknownWeights { .. } | H::NoManifest { .. } | H::ModelFilesMissing { .. } => 3,
        H::HttpStatus { status: 404, .. } => 3,
        // A stalled or too slow transfer and a refused redirect are network failures.
        H::HttpStatus { .. } | H::Network { .. } | H::MalformedResponse { .. } | H::Truncated { .. } | H::TooSlow { .. } | H::Redirect { .. } => 4,
        // What a server sent or a repo names cannot be trusted: more bytes than declared or
        // allowed, a file changed while written, a remote manifest pointing at local files.
        H::HashMismatch { .. } | H::SizeMismatch { .. } | H::TooLarge { .. } | H::ChangedOnDisk { .. } | H::LocalUrlInRemoteManifest { .. } => 5,
        // Bad settings (config.toml, HUB_MIRRORS, HubOptions) are usage errors.
        H::Config { .. } => 2,
        H::Offline { .. } => 6,
        H::Locked { .. } => 7,
        // Another process holding a lock too long is neither the network's nor the data's fault.
        H::LockTimeout { .. } => 1,
        _ => 1,
    }
}
