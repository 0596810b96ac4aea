//! `hub run REPO ENTRY [WEIGHTS] [task flags] [--device cpu|wgpu|cuda] [--json]`: loads the
//! entrypoint, runs its task's handler and prints the handler's report.
//!
//! One file per task family, each with its flags (a help section of `hub run --help`), its
//! handler and its report: [`vision`] (classification, segmentation, image generation),
//! [`text`] (the text tasks that give labels, spans, tokens or embeddings), [`generate`] (text
//! generation) and [`speech`]. The flags every task shares are here.

use std::path::PathBuf;
use std::process::ExitCode;

use burn::tensor::backend::Backend;
use hub_models::registry::Task;
use hub_models::{load_with, LoadOptions, Loaded};

use crate::report::{self, Format, Ran};
use crate::Global;

mod generate;
mod speech;
mod text;
mod vision;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// owner/repo[:ref], a base URL, or a local directory.
    repo: hub_core::RepoSpec,
    /// The entrypoint.
    entry: String,
    /// Weight variant as a positional argument (e.g. a Hugging Face model id: bert-base-uncased).
    #[arg(value_name = "WEIGHTS", conflicts_with = "weights")]
    weights_pos: Option<String>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    images: vision::ImageArgs,
    #[command(flatten)]
    image_generation: vision::GenerationArgs,
    #[command(flatten)]
    text: text::TextArgs,
    #[command(flatten)]
    text_generation: generate::GenerationArgs,
    #[command(flatten)]
    speech: speech::SpeechArgs,
}

/// Which weights, on which device (`hub bench` shares them).
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Model")]
pub(crate) struct ModelArgs {
    /// Weight variant (default: the entrypoint's default); `--model-name` is torch.hub's PGAN name for it.
    #[arg(long, alias = "model-name")]
    pub(crate) weights: Option<String>,
    /// Revision (branch, tag or commit) of a model id's files, e.g. a commit hash to pin them.
    #[arg(long)]
    revision: Option<String>,
    /// Load this local checkpoint (.pth/.pt/.bin or .safetensors) instead of the published weights.
    #[arg(long, conflicts_with = "weights")]
    checkpoint: Option<PathBuf>,
    /// The dictionary inside --checkpoint holding the state dict (state_dict, model, ...).
    #[arg(long, requires = "checkpoint")]
    checkpoint_key: Option<String>,
    /// Config overrides, KEY=VALUE in TOML syntax (e.g. num_classes=10).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// Keep the random initialisation (no download; --weights still picks the architecture's config).
    #[arg(long, conflicts_with = "checkpoint")]
    pub(crate) random_init: bool,
    /// The seed of everything random: --random-init weights, image generation's noise, text
    /// sampling, speech.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Where to run.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    pub(crate) device: Device,
}

/// What to show and where to write it.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Output")]
struct OutputArgs {
    /// How many classes (or tokens, for fill-mask) to show.
    #[arg(long, default_value_t = 5)]
    top_k: usize,
    /// The file to write: the PNG grid (image generation), the mask PNG (segmentation; an
    /// overlay is written beside it) or the WAV (speech).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write the raw model output (logits [images, classes], scores [1, classes, h, w],
    /// embeddings [texts, hidden], or images [n, 3, h, w]) to a NumPy .npy file.
    #[arg(long, value_name = "FILE.npy")]
    save_output: Option<PathBuf>,
    /// One JSON document on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Device {
    /// The CPU (burn's flex backend).
    Cpu,
    /// Any GPU through wgpu (Vulkan, Metal, DX12).
    Wgpu,
    /// NVIDIA GPUs through CUDA.
    Cuda,
}

impl Device {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Wgpu => "wgpu",
            Device::Cuda => "cuda",
        }
    }

    /// Runs `job` on this device's backend (an error when hub was built without it).
    pub(crate) fn dispatch(self, job: impl OnBackend) -> anyhow::Result<ExitCode> {
        match self {
            Device::Cpu => job.on::<hub_models::Cpu>(&Default::default()),
            #[cfg(feature = "wgpu")]
            Device::Wgpu => job.on::<burn::backend::Wgpu>(&Default::default()),
            #[cfg(feature = "cuda")]
            Device::Cuda => job.on::<burn::backend::Cuda>(&Default::default()),
            #[allow(unreachable_patterns)]
            other => Err(crate::exit::Exit(
                2,
                format!("this hub was built without the {0} backend; rebuild with `--features {0}`", other.name()),
            )
            .into()),
        }
    }
}

/// A command's work, generic over the backend that [`Device::dispatch`] picks.
pub(crate) trait OnBackend {
    fn on<B: Backend>(self, device: &B::Device) -> anyhow::Result<ExitCode>;
}

struct RunJob<'a>(&'a Args, &'a Global);

impl OnBackend for RunJob<'_> {
    fn on<B: Backend>(self, device: &B::Device) -> anyhow::Result<ExitCode> {
        run_on::<B>(self.0, self.1, device)
    }
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    args.model.device.dispatch(RunJob(&args, global))
}

impl ModelArgs {
    /// The flags that choose and configure the weights (`weights_pos`: the weights named
    /// without `--weights`).
    pub(crate) fn load_options(&self, weights_pos: Option<&str>) -> anyhow::Result<LoadOptions> {
        let mut options = LoadOptions::default();
        options.weights = self.weights.clone().or_else(|| weights_pos.map(str::to_owned));
        options.pretrained = !self.random_init;
        options.checkpoint = self.checkpoint.clone();
        options.checkpoint_key = self.checkpoint_key.clone();
        options.revision = self.revision.clone();
        for kv in &self.config {
            let table: toml::Table =
                toml::from_str(kv).map_err(|e| anyhow::anyhow!("--config {kv:?} is not KEY=VALUE in TOML syntax: {}", e.message()))?;
            options.config.extend(table);
        }
        Ok(options)
    }
}

impl Args {
    /// The flags that choose and configure the weights.
    fn load_options(&self) -> anyhow::Result<LoadOptions> {
        let mut options = self.model.load_options(self.weights_pos.as_deref())?;
        // --config max_decoder_steps=N wins over --max-decoder-steps.
        if let Some(steps) = self.speech.max_decoder_steps {
            options.config.entry("max_decoder_steps").or_insert(toml::Value::Integer(steps as i64));
        }
        Ok(options)
    }
}

fn run_on<B: Backend>(args: &Args, global: &Global, device: &B::Device) -> anyhow::Result<ExitCode> {
    let seed = args.model.seed;
    // --random-init weights (and burn's random ops) are reproducible from --seed.
    B::seed(device, seed);
    let hub = global.hub()?;
    let model: Loaded<B> = load_with(&hub, &args.repo, &args.entry, &args.load_options()?, device)?;
    // The weights' name, or the checkpoint's path.
    let weights = model.weights.clone().or_else(|| model.checkpoint.as_ref().map(|p| p.display().to_string()));
    if let Some(report) = model.report.as_ref().filter(|r| !r.initialized.is_empty()) {
        eprintln!(
            "warning: {} has no weights for {} ({}): they are randomly initialised (--seed {seed}), so the outputs are not meaningful until the model is fine-tuned",
            weights.as_deref().unwrap_or_default(),
            report.initialized.len(),
            report.initialized.join(", "),
        );
    }
    let ran = Ran { repo: args.repo.to_string(), entry: model.entry.clone(), weights, device: args.model.device.name() };
    let format = Format::json_if(args.output.json);
    let (out, top_k) = (&args.output, args.output.top_k);
    match model.architecture.task {
        Task::ImageClassification => show(ran, format, vision::classify(&model, &hub, &args.images, out)?),
        Task::SemanticSegmentation => show(ran, format, vision::segment(&model, &hub, &args.images, out)?),
        Task::ImageGeneration => show(ran, format, vision::generate(&model, &args.image_generation, out, seed)?),
        Task::FillMask => show(ran, format, text::fill_mask(&model, &args.text, top_k)?),
        Task::FeatureExtraction => show(ran, format, text::embed(&model, &args.text, out)?),
        Task::TextClassification
        | Task::TokenClassification
        | Task::QuestionAnswering
        | Task::NextSentencePrediction
        | Task::MultipleChoice
        | Task::PreTraining
        | Task::Tokenization => show(ran, format, text::run(&model, &args.text, top_k)?),
        // A single prompt streams its tokens to the terminal as they come.
        Task::TextGeneration => show(ran, format, generate::run(&model, &args.text_generation, seed, format == Format::Text)?),
        Task::TextToSpectrogram => {
            let mut vocoder_options = LoadOptions::default();
            vocoder_options.pretrained = !args.model.random_init;
            let vocoder: Loaded<B> = load_with(&hub, &args.repo, &args.speech.vocoder, &vocoder_options, device)?;
            show(ran, format, speech::speak(&model, &vocoder, &args.text, &args.speech, out, seed)?)
        }
        Task::SpectrogramToAudio => {
            anyhow::bail!("{} is a vocoder: run a text-to-speech entrypoint of the repo with --vocoder {}", model.entry, model.entry)
        }
    }?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a task's report in the run's envelope.
fn show<R: serde::Serialize + std::fmt::Display>(ran: Ran, format: Format, report: R) -> anyhow::Result<()> {
    report::print(&ran.with(report), format)
}

/// Writes `t` to `path` (`--save-output`) as a NumPy `.npy` array.
fn save_npy<B: Backend, const D: usize>(path: &Option<PathBuf>, t: &burn::tensor::Tensor<B, D>) -> anyhow::Result<()> {
    if let Some(path) = path {
        let data: Vec<f32> = t.clone().into_data().iter::<f32>().collect();
        crate::npy::write_f32(path, &t.dims(), &data)?;
    }
    Ok(())
}
