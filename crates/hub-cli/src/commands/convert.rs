//! `hub convert REPO ENTRY [--weights NAME]` or `hub convert --checkpoint FILE --arch ID --out FILE.bpk`:
//! converts a PyTorch checkpoint once into a burnpack file, checked tensor by tensor.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use hub_models::convert::{cached_sha256, convert, converted_path};
use hub_models::import::ImportOptions;
use hub_models::registry::{self, ClassifierConfig};
use hub_models::{load_with, Cpu, LoadOptions};

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
    let device = Default::default();
    let started = Instant::now();
    let (model, arch, config, out) = match (&args.repo, &args.checkpoint) {
        (Some(repo), _) => {
            let hub = global.hub()?;
            let entry = args.entry.as_deref().unwrap_or_default();
            let mut options = LoadOptions::default();
            options.weights = args.weights.clone();
            let loaded = load_with::<Cpu>(&hub, repo, entry, &options, &device)?;
            let Some(wname) = loaded.weights.clone() else { anyhow::bail!("{entry} publishes no weights to convert") };
            let manifest = hub.repo(repo)?.manifest;
            let (_, ep) = manifest.entry(entry)?;
            let (_, w) = ep.weights(entry, Some(&wname))?.ok_or_else(|| anyhow::anyhow!("{entry} has no weights {wname}"))?;
            let source = hub.fetch(&w.artifact)?;
            let sha = cached_sha256(&source).ok_or_else(|| anyhow::anyhow!("{} is not a cached artifact", source.display()))?;
            let out = converted_path(hub.cache().root(), sha, loaded.architecture.id);
            let config = ClassifierConfig::from_table(entry, &ep.config_for(Some(w)))?;
            if out.is_file() {
                hub_models::convert::remove_converted(&out)?; // converting again replaces (and re-checks) it
            }
            let hub_models::registry::Model::Classifier(model) = loaded.model else {
                anyhow::bail!("{entry}: only image classifiers can be converted so far")
            };
            (model, loaded.architecture, config, out)
        }
        (None, Some(checkpoint)) => {
            let id = args.arch.as_deref().unwrap_or_default();
            let arch = registry::find(id).ok_or_else(|| hub_models::Error::UnknownArchitecture { architecture: id.to_owned() })?;
            let config = ClassifierConfig { num_classes: args.num_classes, ..Default::default() };
            let mut import = ImportOptions::new().with_remaps(arch.family.remaps());
            if let Some(k) = &args.checkpoint_key {
                import = import.with_top_level_key(k.clone());
            }
            let (model, _) = arch.build::<Cpu>(&config, &device)?.load_pytorch(checkpoint, &import)?;
            (model, arch, config, args.out.clone().unwrap_or_default())
        }
        (None, None) => anyhow::bail!("give REPO ENTRY, or --checkpoint FILE --arch ID --out FILE"),
    };
    let import_time = started.elapsed();
    let fresh = arch.build::<Cpu>(&config, &device)?;
    let done = convert(&model, fresh, &out)?;
    let started = Instant::now();
    arch.build::<Cpu>(&config, &device)?.load_burnpack(&done.path)?;
    println!(
        "wrote {} ({} tensors checked identical, {}); PyTorch import {:.0} ms, burnpack load {:.0} ms",
        done.path.display(),
        done.tensors,
        bytes(done.bytes),
        import_time.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(ExitCode::SUCCESS)
}
