//! `hub run REPO ENTRY --image a.jpg ... [--weights NAME] [--device cpu|wgpu|cuda] [--top-k 5] [--json]`.

use std::path::PathBuf;
use std::process::ExitCode;

use burn::tensor::backend::Backend;
use hub_models::{load_with, LoadOptions, Loaded};
use serde_json::json;

use crate::output::table;
use crate::Global;

mod text;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// owner/repo[:ref], a base URL, or a local directory.
    repo: hub_core::RepoSpec,
    /// The entrypoint.
    entry: String,
    /// Weight variant as a positional argument (e.g. a Hugging Face model id: bert-base-uncased).
    #[arg(value_name = "WEIGHTS", conflicts_with = "weights")]
    weights_pos: Option<String>,
    /// Text input (fill-mask: with [MASK] tokens; feature extraction: one or more sentences;
    /// classification, tagging, tokenization: one or more texts; multiple choice: the prompt).
    #[arg(long = "text", num_args = 1..)]
    texts: Vec<String>,
    /// The second text of a pair, one per --text (sentence-pair classification, next-sentence
    /// prediction, tokenization).
    #[arg(long = "text-pair", num_args = 1..)]
    text_pairs: Vec<String>,
    /// Question answering: the question.
    #[arg(long, requires = "context")]
    question: Option<String>,
    /// Question answering: the text holding the answer.
    #[arg(long, requires = "question")]
    context: Option<String>,
    /// Multiple choice: a possible continuation of --text (two or more).
    #[arg(long = "choice", num_args = 1..)]
    choices: Vec<String>,
    /// Text generation: the prompt (several: generated together in one batch).
    #[arg(long = "prompt", num_args = 1..)]
    prompts: Vec<String>,
    /// Revision (branch, tag or commit) of a model id's files, e.g. a commit hash to pin them.
    #[arg(long)]
    revision: Option<String>,
    /// Text generation: how many tokens to generate at most.
    #[arg(long, default_value_t = 40)]
    max_new_tokens: usize,
    /// Text generation: sample (instead of greedy) with this temperature.
    #[arg(long)]
    temperature: Option<f32>,
    /// Text generation: sample from the k likeliest tokens.
    #[arg(long)]
    sample_top_k: Option<usize>,
    /// Text generation: sample from the smallest set of tokens whose probability reaches p.
    #[arg(long)]
    top_p: Option<f32>,
    /// Speech: the vocoder entrypoint of the same repo.
    #[arg(long, default_value = "nvidia_waveglow")]
    vocoder: String,
    /// Speech: WaveGlow's noise scale.
    #[arg(long, default_value_t = hub_models::tts::DEFAULT_SIGMA)]
    sigma: f32,
    /// Speech: stop Tacotron2 after this many decoder steps if its gate never fires.
    #[arg(long)]
    max_decoder_steps: Option<usize>,
    /// Images to classify (PNG or JPEG).
    #[arg(long = "image", num_args = 1..)]
    images: Vec<PathBuf>,
    /// Image generation: how many images.
    #[arg(long, default_value_t = 16)]
    num_images: usize,
    /// Image generation: the noise seed; text generation: the sampling seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Image generation: the PNG grid to write.
    #[arg(long, value_name = "FILE.png")]
    out: Option<PathBuf>,
    /// Image generation: images per grid row (default: about the square root).
    #[arg(long)]
    nrow: Option<usize>,
    /// Weight variant (default: the entrypoint's default); `--model-name` is torch.hub's PGAN name for it.
    #[arg(long, alias = "model-name")]
    weights: Option<String>,
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
    random_init: bool,
    /// Where to run.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    device: Device,
    /// How many classes (or tokens, for fill-mask) to show.
    #[arg(long, default_value_t = 5)]
    top_k: usize,
    /// Write the raw model output (logits [images, classes], or images [n, 3, h, w]) to a NumPy .npy file.
    #[arg(long, value_name = "FILE.npy")]
    save_output: Option<PathBuf>,
    /// One JSON document on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Device {
    /// The CPU (burn's flex backend).
    Cpu,
    /// Any GPU through wgpu (Vulkan, Metal, DX12).
    Wgpu,
    /// NVIDIA GPUs through CUDA.
    Cuda,
}

impl Device {
    fn name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Wgpu => "wgpu",
            Device::Cuda => "cuda",
        }
    }
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    match args.device {
        Device::Cpu => run_on::<hub_models::Cpu>(&args, global, &Default::default()),
        #[cfg(feature = "wgpu")]
        Device::Wgpu => run_on::<burn::backend::Wgpu>(&args, global, &Default::default()),
        #[cfg(feature = "cuda")]
        Device::Cuda => run_on::<burn::backend::Cuda>(&args, global, &Default::default()),
        #[allow(unreachable_patterns)]
        other => Err(super::Exit(
            2,
            format!("this hub was built without the {0} backend; rebuild with `--features {0}`", other.name()),
        )
        .into()),
    }
}

fn run_on<B: Backend>(args: &Args, global: &Global, device: &B::Device) -> anyhow::Result<ExitCode> {
    // --random-init weights (and burn's random ops) are reproducible from --seed.
    B::seed(device, args.seed);
    let hub = global.hub()?;
    let mut options = LoadOptions::default();
    options.weights = args.weights.clone().or_else(|| args.weights_pos.clone());
    options.pretrained = !args.random_init;
    options.checkpoint = args.checkpoint.clone();
    options.checkpoint_key = args.checkpoint_key.clone();
    options.revision = args.revision.clone();
    if let Some(steps) = args.max_decoder_steps {
        options.config.insert("max_decoder_steps".into(), toml::Value::Integer(steps as i64));
    }
    for kv in &args.config {
        let table: toml::Table = toml::from_str(kv).map_err(|e| anyhow::anyhow!("--config {kv:?} is not KEY=VALUE in TOML syntax: {}", e.message()))?;
        options.config.extend(table);
    }
    let model: Loaded<B> = load_with(&hub, &args.repo, &args.entry, &options, device)?;
    if let Some(report) = model.report.as_ref().filter(|r| !r.initialized.is_empty()) {
        let from = model.weights.clone().or_else(|| model.checkpoint.as_ref().map(|p| p.display().to_string())).unwrap_or_default();
        eprintln!(
            "warning: {from} has no weights for {} ({}): they are randomly initialised (--seed {}), so the outputs are not meaningful until the model is fine-tuned",
            report.initialized.len(),
            report.initialized.join(", "),
            args.seed
        );
    }
    if model.architecture.task == hub_models::registry::Task::TextToSpectrogram {
        let mut vocoder_options = LoadOptions::default();
        vocoder_options.pretrained = !args.random_init;
        let vocoder: Loaded<B> = load_with(&hub, &args.repo, &args.vocoder, &vocoder_options, device)?;
        return speak(args, &model, &vocoder);
    }
    use hub_models::registry::Task;
    match model.architecture.task {
        Task::ImageGeneration => generate(args, &model),
        Task::FillMask => fill_mask(args, &model),
        Task::TextGeneration => generate_text(args, &model),
        Task::FeatureExtraction => embed(args, &model),
        Task::SemanticSegmentation => segment(args, &model),
        Task::TextClassification | Task::TokenClassification | Task::QuestionAnswering | Task::NextSentencePrediction | Task::MultipleChoice | Task::PreTraining | Task::Tokenization => {
            text::run(args, &model)
        }
        _ => classify(args, &model, device),
    }
}

fn speak<B: Backend>(args: &Args, model: &Loaded<B>, vocoder: &Loaded<B>) -> anyhow::Result<ExitCode> {
    let [text] = args.texts.as_slice() else { anyhow::bail!("{} speaks one text: give --text \"...\" and --out FILE.wav", model.entry) };
    let Some(out) = &args.out else { anyhow::bail!("{} writes speech: give --out FILE.wav", model.entry) };
    let started = std::time::Instant::now();
    let (samples, rate) = model.speak(vocoder, text, args.seed, args.sigma)?;
    let compute = started.elapsed().as_secs_f64();
    hub_models::tts::write_wav(&samples, rate, out)?;
    let seconds = samples.len() as f64 / rate as f64;
    if args.json {
        super::print_json(&json!({
            "repo": args.repo.to_string(), "entry": model.entry, "vocoder": vocoder.entry, "weights": model.weights,
            "device": args.device.name(), "out": out, "sample_rate": rate, "samples": samples.len(), "seconds": seconds,
            "real_time_factor": seconds / compute, "seed": args.seed,
        }))?;
    } else {
        println!("wrote {} ({seconds:.2} s of audio at {rate} Hz, computed in {compute:.2} s: {:.2}x real time)", out.display(), seconds / compute);
    }
    Ok(ExitCode::SUCCESS)
}

fn segment<B: Backend>(args: &Args, model: &Loaded<B>) -> anyhow::Result<ExitCode> {
    let [image] = args.images.as_slice() else { anyhow::bail!("{} segments one image: give --image FILE and --out MASK.png", model.entry) };
    let Some(out) = &args.out else { anyhow::bail!("{} segments images: give --out MASK.png (an overlay is written beside it)", model.entry) };
    let (mask, resized, scores) = model.segment_file(image)?;
    save_npy(&args.save_output, &scores)?;
    mask.save_png(out)?;
    let overlay_path = out.with_extension("overlay.png");
    mask.overlay(&resized, 0.5)?.save(&overlay_path).map_err(|e| anyhow::anyhow!("writing {}: {e}", overlay_path.display()))?;
    let names: Vec<&'static str> = hub_models::segmentation::voc::CATEGORIES.to_vec();
    let shares = mask.class_shares(&names);
    if args.json {
        let items: Vec<_> = shares.iter().map(|s| json!({ "index": s.label, "label": s.name, "pixels": s.pixels, "share": s.share })).collect();
        super::print_json(&json!({
            "repo": args.repo.to_string(), "entry": model.entry, "weights": model.weights, "device": args.device.name(),
            "input": image, "mask": out, "overlay": overlay_path, "size": [mask.width, mask.height], "classes": items,
        }))?;
    } else {
        println!("wrote {} and {} ({}x{})", out.display(), overlay_path.display(), mask.width, mask.height);
        let rows: Vec<Vec<String>> = shares.iter().map(|s| vec![format!("{:.2}%", s.share * 100.0), s.label.to_string(), s.name.unwrap_or("?").to_owned()]).collect();
        for line in table(&["PIXELS", "CLASS", "LABEL"], &rows).lines() {
            println!("  {line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn fill_mask<B: Backend>(args: &Args, model: &Loaded<B>) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(!args.texts.is_empty(), "{} fills [MASK] tokens: give --text \"... [MASK] ...\"", model.entry);
    let mut items = Vec::new();
    for text in &args.texts {
        let masks = model.fill_mask(text, args.top_k)?;
        if !args.json {
            println!("{text}");
            for (i, preds) in masks.iter().enumerate() {
                let rows: Vec<Vec<String>> = preds.iter().map(|p| vec![format!("{:.2}%", p.probability * 100.0), p.id.to_string(), p.token.clone()]).collect();
                println!("  [MASK] #{}", i + 1);
                for line in table(&["PROB", "ID", "TOKEN"], &rows).lines() {
                    println!("    {line}");
                }
            }
        }
        items.push(json!({ "input": text, "masks": masks }));
    }
    if args.json {
        super::print_json(&json!({ "repo": args.repo.to_string(), "entry": model.entry, "weights": model.weights, "device": args.device.name(), "results": items }))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn embed<B: Backend>(args: &Args, model: &Loaded<B>) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(!args.texts.is_empty(), "{} embeds text: give --text SENTENCE (one or more)", model.entry);
    let texts: Vec<&str> = args.texts.iter().map(String::as_str).collect();
    let emb = model.embed(&texts)?;
    save_npy(&args.save_output, &emb)?;
    let [n, dim] = emb.dims();
    let values: Vec<f32> = emb.into_data().iter::<f32>().collect();
    let row = |i: usize| &values[i * dim..(i + 1) * dim];
    let sims: Vec<Vec<f32>> = (0..n).map(|i| (0..n).map(|j| row(i).iter().zip(row(j)).map(|(a, b)| a * b).sum()).collect()).collect();
    if args.json {
        super::print_json(&json!({ "repo": args.repo.to_string(), "entry": model.entry, "weights": model.weights, "device": args.device.name(), "dim": dim, "inputs": texts, "cosine_similarity": sims }))?;
    } else {
        println!("{n} sentence embeddings of {dim} values (mean pooling, L2-normalised); cosine similarities:");
        for (i, t) in texts.iter().enumerate() {
            let cells: Vec<String> = sims[i].iter().map(|s| format!("{s:6.3}")).collect();
            println!("  {}  {t}", cells.join(" "));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn generation_config(args: &Args) -> hub_models::text::generation::GenerationConfig {
    use hub_models::text::generation::GenerationConfig;
    let sampling = args.temperature.is_some() || args.sample_top_k.is_some() || args.top_p.is_some();
    let mut config = if sampling {
        let mut c = GenerationConfig::sampling(args.max_new_tokens, args.seed).with_temperature(args.temperature.unwrap_or(1.0)).with_top_p(args.top_p.unwrap_or(1.0));
        if args.sample_top_k.is_some() {
            c = c.with_top_k(args.sample_top_k);
        }
        c
    } else {
        GenerationConfig::greedy(args.max_new_tokens)
    };
    config.seed = args.seed;
    config
}

fn generate_batch<B: Backend>(args: &Args, model: &Loaded<B>, config: &hub_models::text::generation::GenerationConfig) -> anyhow::Result<ExitCode> {
    let prompts: Vec<&str> = args.prompts.iter().map(String::as_str).collect();
    let texts = model.generate_texts(&prompts, config)?;
    if args.json {
        let items: Vec<_> = prompts.iter().zip(&texts).map(|(p, t)| json!({ "prompt": p, "generated": t.text, "token_ids": t.ids })).collect();
        super::print_json(&json!({ "repo": args.repo.to_string(), "entry": model.entry, "weights": model.weights, "device": args.device.name(), "results": items, "sampling": config.do_sample, "seed": args.seed }))?;
    } else {
        for (p, t) in prompts.iter().zip(&texts) {
            println!("{p}{}\n", t.text);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn generate_text<B: Backend>(args: &Args, model: &Loaded<B>) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let config = generation_config(args);
    let sampling = config.do_sample;
    let [prompt] = args.prompts.as_slice() else {
        anyhow::ensure!(!args.prompts.is_empty(), "{} continues text: give --prompt \"...\"", model.entry);
        return generate_batch(args, model, &config);
    };
    let stream = !args.json;
    if stream {
        print!("{prompt}");
        std::io::stdout().flush()?;
    }
    let text = model.generate_text(prompt, &config, |piece| {
        if stream {
            print!("{piece}");
            let _ = std::io::stdout().flush();
        }
    })?;
    if args.json {
        super::print_json(&json!({ "repo": args.repo.to_string(), "entry": model.entry, "weights": model.weights, "device": args.device.name(), "prompt": prompt, "generated": text.text, "token_ids": text.ids, "sampling": sampling, "seed": args.seed }))?;
    } else {
        println!();
    }
    Ok(ExitCode::SUCCESS)
}

fn save_npy<B: Backend, const D: usize>(path: &Option<PathBuf>, t: &burn::tensor::Tensor<B, D>) -> anyhow::Result<()> {
    if let Some(path) = path {
        let data: Vec<f32> = t.clone().into_data().iter::<f32>().collect();
        crate::npy::write_f32(path, &t.dims(), &data)?;
    }
    Ok(())
}

fn generate<B: Backend>(args: &Args, model: &Loaded<B>) -> anyhow::Result<ExitCode> {
    let Some(out) = &args.out else { anyhow::bail!("{} generates images: give --out FILE.png (and --num-images, --seed)", model.entry) };
    anyhow::ensure!(args.num_images > 0, "--num-images must be at least 1");
    let images = model.generate(args.num_images, args.seed)?;
    save_npy(&args.save_output, &images)?;
    let nrow = args.nrow.unwrap_or_else(|| (args.num_images as f64).sqrt().ceil() as usize).max(1);
    hub_models::gan::save_grid(images.clone(), out, nrow)?;
    let [n, c, h, w] = images.dims();
    if args.json {
        super::print_json(&json!({
            "repo": args.repo.to_string(), "entry": model.entry, "weights": model.weights,
            "device": args.device.name(), "seed": args.seed, "images": n, "shape": [n, c, h, w], "out": out,
        }))?;
    } else {
        println!("wrote {} ({n} images of {w}x{h}, seed {}, {} per row)", out.display(), args.seed, nrow);
    }
    Ok(ExitCode::SUCCESS)
}

fn classify<B: Backend>(args: &Args, model: &Loaded<B>, device: &B::Device) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(!args.images.is_empty(), "{} classifies images: give --image FILE (one or more)", model.entry);
    let images = args.images.iter().map(|p| hub_models::preprocess::load_rgb8(p)).collect::<Result<Vec<_>, _>>()?;
    let batch = model.preprocess.batch_from_images::<B>(&images, device)?;
    let logits = model.forward(batch)?;
    save_npy(&args.save_output, &logits)?;
    let results = model.top_k(logits, args.top_k);
    let weights = model.weights.clone().or_else(|| model.checkpoint.as_ref().map(|p| p.display().to_string()));
    if args.json {
        let items: Vec<_> = args.images.iter().zip(&results).map(|(p, r)| json!({ "input": p, "top_k": r })).collect();
        super::print_json(&json!({
            "repo": args.repo.to_string(), "entry": model.entry, "weights": weights,
            "device": args.device.name(), "results": items,
        }))?;
    } else {
        for (path, preds) in args.images.iter().zip(&results) {
            println!("{}", path.display());
            let rows: Vec<Vec<String>> =
                preds.iter().map(|p| vec![format!("{:.2}%", p.probability * 100.0), p.index.to_string(), p.label.clone()]).collect();
            for line in table(&["PROB", "CLASS", "LABEL"], &rows).lines() {
                println!("  {line}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
