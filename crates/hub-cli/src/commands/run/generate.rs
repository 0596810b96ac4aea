//! `hub run` for text generation: one prompt streamed token by token, or several as one batch.

use std::fmt;
use std::io::Write;

use burn::tensor::backend::Backend;
use hub_models::text::generation::GenerationConfig;
use hub_models::Loaded;
use serde::Serialize;

/// Prompts and decoding.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Text generation")]
pub struct GenerationArgs {
    /// The prompt (several: generated together in one batch).
    #[arg(long = "prompt", num_args = 1..)]
    prompts: Vec<String>,
    /// How many tokens to generate at most.
    #[arg(long, default_value_t = 40)]
    max_new_tokens: usize,
    /// Sample (instead of greedy) with this temperature.
    #[arg(long)]
    temperature: Option<f32>,
    /// Sample from the k likeliest tokens.
    #[arg(long)]
    sample_top_k: Option<usize>,
    /// Sample from the smallest set of tokens whose probability reaches p.
    #[arg(long)]
    top_p: Option<f32>,
}

impl GenerationArgs {
    /// Greedy decoding, or sampling when any sampling flag is given.
    fn config(&self, seed: u64) -> GenerationConfig {
        let sampling = self.temperature.is_some() || self.sample_top_k.is_some() || self.top_p.is_some();
        let config = if sampling {
            let c = GenerationConfig::sampling(self.max_new_tokens, seed).with_temperature(self.temperature.unwrap_or(1.0)).with_top_p(self.top_p.unwrap_or(1.0));
            if self.sample_top_k.is_some() {
                c.with_top_k(self.sample_top_k)
            } else {
                c
            }
        } else {
            GenerationConfig::greedy(self.max_new_tokens)
        };
        config.with_seed(seed)
    }
}

/// The continuations of the prompts.
#[derive(Serialize, Debug)]
#[serde(untagged)]
pub enum Generated {
    /// One prompt.
    One {
        #[serde(flatten)]
        continuation: Continuation,
        sampling: bool,
        seed: u64,
        /// Already shown on the terminal as it was generated.
        #[serde(skip)]
        streamed: bool,
    },
    /// Several prompts, generated as one batch.
    Batch { results: Vec<Continuation>, sampling: bool, seed: u64 },
}

#[derive(Serialize, Debug)]
pub struct Continuation {
    prompt: String,
    generated: String,
    token_ids: Vec<u32>,
}

/// Continues the prompts; with `stream`, a single prompt and its tokens are printed on stdout as
/// they come.
pub fn run<B: Backend>(model: &Loaded<B>, args: &GenerationArgs, seed: u64, stream: bool) -> anyhow::Result<Generated> {
    let config = args.config(seed);
    let sampling = config.do_sample;
    let [prompt] = args.prompts.as_slice() else {
        anyhow::ensure!(!args.prompts.is_empty(), "{} continues text: give --prompt \"...\"", model.entry);
        let prompts: Vec<&str> = args.prompts.iter().map(String::as_str).collect();
        let texts = model.generate_texts(&prompts, &config)?;
        let results = args.prompts.iter().zip(texts).map(|(p, t)| Continuation { prompt: p.clone(), generated: t.text, token_ids: t.ids }).collect();
        return Ok(Generated::Batch { results, sampling, seed });
    };
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
    Ok(Generated::One { continuation: Continuation { prompt: prompt.clone(), generated: text.text, token_ids: text.ids }, sampling, seed, streamed: stream })
}

impl fmt::Display for Generated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The prompt and the text are on the terminal already: end their line.
            Generated::One { streamed: true, .. } => writeln!(f),
            Generated::One { continuation: c, .. } => writeln!(f, "{}{}", c.prompt, c.generated),
            Generated::Batch { results, .. } => results.iter().try_for_each(|c| writeln!(f, "{}{}\n", c.prompt, c.generated)),
        }
    }
}
