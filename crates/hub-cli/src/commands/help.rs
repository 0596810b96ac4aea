//! `hub help REPO ENTRY [--json]`: what torch.hub.help and `help(model.forward)` would show.

use std::collections::BTreeMap;
use std::fmt;
use std::process::ExitCode;

use hub_core::{ModelIds, Preprocessing};
use hub_core::RepoSpec;
use hub_models::registry::{Architecture, Task};
use serde::Serialize;

use crate::output::{bytes, count, write_table};
use crate::report::{self, Format};
use crate::Global;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// owner/repo[:ref], a base URL, or a local directory.
    repo: RepoSpec,
    /// The entrypoint.
    entry: String,
    /// One JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// One entrypoint's documentation.
#[derive(Serialize, Debug)]
struct Help<'a> {
    repo: String,
    entry: &'a str,
    // The manifest's own fields, as it has them.
    architecture: &'a String,
    task: &'a String,
    summary: &'a String,
    docs: &'a Option<String>,
    paper: &'a Option<String>,
    code: &'a Option<String>,
    aliases: &'a [String],
    config: &'a toml::Table,
    categories: &'a Option<String>,
    default_weights: Option<&'a str>,
    weights: BTreeMap<&'a str, WeightsHelp<'a>>,
    /// What `forward` takes and returns, if this build implements the architecture.
    forward: Option<String>,
    runnable: bool,
    /// Text only: any model id the entrypoint takes.
    #[serde(skip)]
    model_ids: Option<&'a ModelIds>,
    /// Text only: the default weights' preprocessing and categories.
    #[serde(skip)]
    preprocessing: Option<Preprocessing>,
    #[serde(skip)]
    default_categories: Option<&'a str>,
}

#[derive(Serialize, Debug)]
struct WeightsHelp<'a> {
    url: &'a str,
    sha256: Option<&'a str>,
    size: Option<u64>,
    size_mb: Option<f64>,
    format: String,
    license: Option<&'a str>,
    params: Option<u64>,
    metrics: &'a BTreeMap<String, f64>,
    preprocessing: Option<Preprocessing>,
    /// Whether the file is in the cache.
    cached: bool,
    #[serde(skip)]
    expected_hash: String,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let hub = global.hub()?;
    let repo = hub.repo(&args.repo)?;
    let (name, e) = repo.manifest.entry(&args.entry)?;
    let arch = hub_models::registry::find(&e.architecture);
    let default = e.weights(name, None)?;
    let weights = e
        .weights
        .iter()
        .map(|(n, w)| {
            let help = WeightsHelp {
                url: &w.artifact.url,
                sha256: w.artifact.sha256.as_deref(),
                size: w.artifact.size,
                size_mb: w.size_mb,
                format: w.format.to_string(),
                license: w.license.as_deref(),
                params: w.params,
                metrics: &w.metrics,
                preprocessing: e.preprocessing_for(Some(w)),
                cached: hub.is_cached(&w.artifact),
                expected_hash: w.artifact.expected_hash().to_string(),
            };
            (n.as_str(), help)
        })
        .collect();
    let help = Help {
        repo: args.repo.to_string(),
        entry: name,
        architecture: &e.architecture,
        task: &e.task,
        summary: &e.summary,
        docs: &e.docs,
        paper: &e.paper,
        code: &e.code,
        aliases: &e.aliases,
        config: &e.config,
        categories: &e.categories,
        default_weights: default.map(|(n, _)| n),
        weights,
        forward: arch.map(|a| signature(&a)),
        runnable: arch.is_some(),
        model_ids: e.model_ids.as_ref(),
        preprocessing: e.preprocessing_for(default.map(|(_, w)| w)),
        default_categories: e.categories_for(default.map(|(_, w)| w)),
    };
    report::print(&help, Format::json_if(args.json))?;
    Ok(ExitCode::SUCCESS)
}

impl fmt::Display for Help<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} — {}", self.entry, self.summary)?;
        writeln!(f)?;
        writeln!(f, "  repo          {}", self.repo)?;
        writeln!(f, "  task          {}", self.task)?;
        writeln!(f, "  architecture  {}{}", self.architecture, if self.runnable { "" } else { " (not implemented in this build)" })?;
        if let Some(p) = self.paper.as_deref() {
            writeln!(f, "  paper         {p}")?;
        }
        if let Some(c) = self.code.as_deref() {
            writeln!(f, "  code          {c}")?;
        }
        if !self.aliases.is_empty() {
            writeln!(f, "  aliases       {}", self.aliases.join(", "))?;
        }
        if !self.config.is_empty() {
            let inline: Vec<String> = self.config.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            writeln!(f, "  config        {}", inline.join(", "))?;
        }
        if let Some(docs) = self.docs.as_deref() {
            writeln!(f)?;
            docs.trim().lines().try_for_each(|line| writeln!(f, "  {line}"))?;
        }
        if let Some(forward) = &self.forward {
            writeln!(f)?;
            writeln!(f, "Usage:")?;
            forward.lines().try_for_each(|line| writeln!(f, "  {line}"))?;
        }
        self.fmt_weights(f)?;
        if let Some(ids) = self.model_ids {
            fmt_model_ids(f, ids)?;
        }
        if let Some(p) = &self.preprocessing {
            writeln!(f)?;
            writeln!(f, "Preprocessing ({}):", self.default_weights.unwrap_or("default"))?;
            writeln!(f, "  {}", preprocessing_steps(p))?;
        }
        if let Some(c) = self.default_categories {
            writeln!(f, "  categories: {c}")?;
        }
        Ok(())
    }
}

impl Help<'_> {
    fn fmt_weights(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.weights.is_empty() {
            return Ok(());
        }
        writeln!(f)?;
        writeln!(f, "Weights (default: {}):", self.default_weights.unwrap_or("-"))?;
        let rows: Vec<Vec<String>> = self
            .weights
            .iter()
            .map(|(n, w)| {
                let metrics = w.metrics.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
                let size = w.size.map(bytes).or(w.size_mb.map(|m| format!("{m:.1} MB"))).unwrap_or("-".into());
                vec![(*n).to_owned(), w.params.map_or("-".into(), count), size, metrics, if w.cached { "cached".into() } else { String::new() }]
            })
            .collect();
        write_table(f, "  ", &["NAME", "PARAMS", "FILE", "METRICS", ""], &rows)?;
        for (n, w) in &self.weights {
            writeln!(f, "  {n}: {} ({}, {}, hash {})", w.url, w.format, w.license.unwrap_or("license unknown"), w.expected_hash)?;
        }
        Ok(())
    }
}

fn fmt_model_ids(f: &mut fmt::Formatter<'_>, ids: &ModelIds) -> fmt::Result {
    writeln!(f)?;
    writeln!(f, "Any model id (owner/name[@revision], or --revision; default revision {}):", ids.revision)?;
    writeln!(f, "  {}", ids.url)?;
    if !ids.weights.is_empty() {
        writeln!(f, "  checkpoint: the first of {}", ids.weights.join(", "))?;
    }
    if !ids.files.is_empty() {
        writeln!(f, "  with: {}", ids.files.join(", "))?;
    }
    if !ids.one_of.is_empty() {
        let groups: Vec<String> = ids.one_of.iter().map(|g| g.join(" + ")).collect();
        writeln!(f, "  and the first of: {}", groups.join("; "))?;
    }
    writeln!(f, "  hashes are trusted on first download and pinned by `hub lock`")
}

/// `resize shorter side to 232, bilinear (antialiased), centre crop 224, mean [...], std [...]`.
fn preprocessing_steps(p: &Preprocessing) -> String {
    let list = |v: &Option<Vec<f32>>| v.as_ref().map(|v| v.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", "));
    let mut parts = Vec::new();
    if let Some(r) = p.resize {
        parts.push(format!("resize shorter side to {r}"));
    }
    if let Some(i) = p.interpolation {
        parts.push(format!("{i:?} (antialiased)").to_lowercase());
    }
    if let Some(c) = p.crop {
        parts.push(format!("centre crop {c}"));
    }
    if let Some(m) = list(&p.mean) {
        parts.push(format!("mean [{m}]"));
    }
    if let Some(s) = list(&p.std) {
        parts.push(format!("std [{s}]"));
    }
    parts.join(", ")
}

/// What `forward` takes and returns, for `hub help`.
fn signature(a: &Architecture) -> String {
    let s = a.input_size().unwrap_or(224);
    match a.task {
        Task::ImageClassification => format!(
            "forward(x: Tensor<B, 4>) -> Tensor<B, 2>\n  x: [batch, 3, {s}, {s}] f32, an RGB image batch after the preprocessing below\n  returns: [batch, num_classes] logits (softmax gives probabilities)"
        ),
        Task::ImageGeneration => "build_noise_data(n, rng) -> Tensor<B, 2>   [n, latent_dim], N(0, 1) (plus one-hot class codes)\ntest(noise: Tensor<B, 2>) -> Tensor<B, 4>\n  returns: [n, 3, size, size] images in [-1, 1]".to_owned(),
        Task::FillMask => "forward(input: BertInput { input_ids [batch, seq], attention_mask, token_type_ids }) -> Tensor<B, 3>\n  returns: [batch, seq, vocab_size] logits; hub run --text \"... [MASK] ...\" prints the top-k tokens per mask".to_owned(),
        Task::TextGeneration => "forward(input: Gpt2Input { input_ids [batch, seq] }, cache) -> Tensor<B, 3>\n  returns: [batch, seq, vocab_size] next-token logits; hub run --prompt \"...\" --max-new-tokens N generates (greedy, or --temperature/--top-k/--top-p/--seed)".to_owned(),
        Task::SemanticSegmentation => format!("forward(x: Tensor<B, 4>) -> SegOutput {{ out, aux }}\n  x: [batch, 3, h, w] f32 after the preprocessing below (shorter side {s}, no crop)\n  out: [batch, 21, h, w] class scores upsampled to the input size; aux: the auxiliary head's, if built"),
        Task::TextToSpectrogram => "infer(sequence: Tensor<B, 2, Int> [1, symbols], dropout masks) -> Tacotron2Output { mel, mel_postnet [1, 80, frames], gate, alignments }\n  hub run --text \"...\" --vocoder nvidia_waveglow --out speech.wav synthesizes 22.05 kHz audio".to_owned(),
        Task::SpectrogramToAudio => "infer(mel: Tensor<B, 3> [1, 80, frames], sigma, noise) -> Tensor<B, 2> [1, frames * 256] audio at 22.05 kHz".to_owned(),
        Task::FeatureExtraction => "forward(input [batch, seq] token ids + attention mask) -> hidden states [batch, seq, hidden]\n  hub run --text A --text B prints mean-pooled, L2-normalised sentence embeddings and their cosine similarities".to_owned(),
        Task::TextClassification => "forward(input [batch, seq] token ids + attention mask (+ token types)) -> Tensor<B, 2> [batch, num_labels] logits\n  hub run --text TEXT [--text-pair TEXT] prints the labels (config.json id2label) with probabilities".to_owned(),
        Task::TokenClassification => "forward(input [batch, seq]) -> Tensor<B, 3> [batch, seq, num_labels] logits\n  hub run --text TEXT prints a label per token".to_owned(),
        Task::QuestionAnswering => "forward(input [batch, seq] question + context pair) -> SpanLogits { start_logits, end_logits [batch, seq] }\n  hub run --question Q --context C prints the likeliest answer span of the context".to_owned(),
        Task::NextSentencePrediction => "forward(input [batch, seq] sentence pair) -> Tensor<B, 2> [batch, 2] logits (index 0: B follows A)\n  hub run --text A --text-pair B prints the probability that B follows A".to_owned(),
        Task::MultipleChoice => "forward(input_ids [batch, choices, seq], ...) -> Tensor<B, 2> [batch, choices] logits\n  hub run --text PROMPT --choice A --choice B ... prints a probability per choice".to_owned(),
        Task::PreTraining => "forward(input [batch, seq]) -> { prediction_logits [batch, seq, vocab], seq_relationship_logits [batch, 2] }\n  hub run --text \"... [MASK] ...\" [--text-pair B] fills the masks (and scores B following A)".to_owned(),
        Task::Tokenization => "tokenizer: encode(text[, pair]) -> token ids, tokens, attention mask, token types; decode(ids) -> text\n  hub run --text TEXT [--text-pair TEXT] prints the tokens and ids".to_owned(),
    }
}
