//! `hub run` for the text tasks that take text and give tokens, labels, spans or embeddings:
//! fill-mask, sentence embeddings, text and token classification, question answering,
//! next-sentence prediction, multiple choice, BERT's pre-training heads and tokenizers.

use std::fmt;

use burn::tensor::backend::Backend;
use hub_models::tasks::{Answer, TokenPrediction, TokenTag};
use hub_models::registry::Task;
use hub_models::text::tokenizer::Encoded;
use hub_models::{Loaded, Prediction};
use serde::Serialize;

use super::{save_npy, OutputArgs};
use crate::output::{percent, write_table};

/// Text inputs.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Text (the text tasks, and speech)")]
pub struct TextArgs {
    /// Text input (fill-mask: with [MASK] tokens; feature extraction: one or more sentences;
    /// classification, tagging, tokenization: one or more texts; multiple choice: the prompt;
    /// speech: the text to speak).
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
}

impl TextArgs {
    /// The --text values.
    pub(super) fn texts(&self) -> &[String] {
        &self.texts
    }

    /// The --text values with their --text-pair partners (none, or one per text).
    fn with_pairs<B: Backend>(&self, model: &Loaded<B>, what: &str) -> anyhow::Result<Vec<(&str, Option<&str>)>> {
        anyhow::ensure!(!self.texts.is_empty(), "{} {what}: give --text TEXT", model.entry);
        anyhow::ensure!(
            self.text_pairs.is_empty() || self.text_pairs.len() == self.texts.len(),
            "give one --text-pair per --text ({} texts, {} pairs)",
            self.texts.len(),
            self.text_pairs.len()
        );
        Ok(self.texts.iter().enumerate().map(|(i, t)| (t.as_str(), self.text_pairs.get(i).map(String::as_str))).collect())
    }
}

/// The likeliest tokens for each `[MASK]` of each text.
#[derive(Serialize, Debug)]
pub struct Filled {
    results: Vec<FilledText>,
}

#[derive(Serialize, Debug)]
struct FilledText {
    input: String,
    masks: Vec<Vec<TokenPrediction>>,
}

pub fn fill_mask<B: Backend>(model: &Loaded<B>, args: &TextArgs, top_k: usize) -> anyhow::Result<Filled> {
    anyhow::ensure!(!args.texts.is_empty(), "{} fills [MASK] tokens: give --text \"... [MASK] ...\"", model.entry);
    let results = args.texts.iter().map(|t| Ok(FilledText { input: t.clone(), masks: model.fill_mask(t, top_k)? })).collect::<anyhow::Result<_>>()?;
    Ok(Filled { results })
}

impl fmt::Display for Filled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.results {
            writeln!(f, "{}", r.input)?;
            write_masks(f, &r.masks)?;
        }
        Ok(())
    }
}

fn write_masks(f: &mut fmt::Formatter<'_>, masks: &[Vec<TokenPrediction>]) -> fmt::Result {
    for (i, preds) in masks.iter().enumerate() {
        writeln!(f, "  [MASK] #{}", i + 1)?;
        let rows: Vec<Vec<String>> = preds.iter().map(|p| vec![percent(p.probability), p.id.to_string(), p.token.clone()]).collect();
        write_table(f, "    ", &["PROB", "ID", "TOKEN"], &rows)?;
    }
    Ok(())
}

/// Sentence embeddings, as their cosine similarities.
#[derive(Serialize, Debug)]
pub struct Embedded {
    /// Values per embedding.
    dim: usize,
    inputs: Vec<String>,
    /// `[i][j]`: the similarity of input i and input j.
    cosine_similarity: Vec<Vec<f32>>,
}

pub fn embed<B: Backend>(model: &Loaded<B>, args: &TextArgs, out: &OutputArgs) -> anyhow::Result<Embedded> {
    anyhow::ensure!(!args.texts.is_empty(), "{} embeds text: give --text SENTENCE (one or more)", model.entry);
    let texts: Vec<&str> = args.texts.iter().map(String::as_str).collect();
    let emb = model.embed(&texts)?;
    save_npy(&out.save_output, &emb)?;
    let [n, dim] = emb.dims();
    let values: Vec<f32> = emb.into_data().iter::<f32>().collect();
    let row = |i: usize| &values[i * dim..(i + 1) * dim];
    // The embeddings are L2-normalised: their dot products are the cosines.
    let cosine_similarity = (0..n).map(|i| (0..n).map(|j| row(i).iter().zip(row(j)).map(|(a, b)| a * b).sum()).collect()).collect();
    Ok(Embedded { dim, inputs: args.texts.clone(), cosine_similarity })
}

impl fmt::Display for Embedded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} sentence embeddings of {} values (mean pooling, L2-normalised); cosine similarities:", self.inputs.len(), self.dim)?;
        for (text, sims) in self.inputs.iter().zip(&self.cosine_similarity) {
            let cells: Vec<String> = sims.iter().map(|s| format!("{s:6.3}")).collect();
            writeln!(f, "  {}  {text}", cells.join(" "))?;
        }
        Ok(())
    }
}

/// The results of a text task, one per input (or one for question answering and multiple choice).
#[derive(Serialize, Debug)]
pub struct TextTask {
    task: &'static str,
    results: Vec<TextResult>,
}

#[derive(Serialize, Debug)]
#[serde(untagged)]
enum TextResult {
    Labels { text: String, text_pair: Option<String>, labels: Vec<Prediction> },
    Tags { text: String, tokens: Vec<TokenTag> },
    Answer { question: String, context: String, answer: Answer },
    NextSentence { text: String, text_pair: String, is_next_probability: f32 },
    Choices { text: String, choices: Vec<Choice> },
    PreTraining { text: String, text_pair: Option<String>, masks: Vec<Vec<TokenPrediction>>, is_next_probability: Option<f32> },
    Encoding { text: String, text_pair: Option<String>, encoding: Encoded },
}

#[derive(Serialize, Debug)]
struct Choice {
    choice: String,
    probability: f32,
}

pub fn run<B: Backend>(model: &Loaded<B>, args: &TextArgs, top_k: usize) -> anyhow::Result<TextTask> {
    let task = model.architecture.task;
    let owned = |pair: Option<&str>| pair.map(str::to_owned);
    let results = match task {
        Task::TextClassification => args
            .with_pairs(model, "classifies text")?
            .into_iter()
            .map(|(text, pair)| Ok(TextResult::Labels { labels: model.classify_text(text, pair, top_k)?, text: text.to_owned(), text_pair: owned(pair) }))
            .collect::<anyhow::Result<_>>()?,
        Task::TokenClassification => {
            anyhow::ensure!(args.text_pairs.is_empty(), "{} tags single texts: --text-pair does not apply", model.entry);
            let texts = args.with_pairs(model, "labels tokens")?;
            texts.into_iter().map(|(text, _)| Ok(TextResult::Tags { tokens: model.tag_tokens(text)?, text: text.to_owned() })).collect::<anyhow::Result<_>>()?
        }
        Task::QuestionAnswering => {
            let (Some(question), Some(context)) = (&args.question, &args.context) else {
                anyhow::bail!("{} answers questions: give --question Q --context TEXT", model.entry)
            };
            vec![TextResult::Answer { answer: model.answer(question, context)?, question: question.clone(), context: context.clone() }]
        }
        Task::NextSentencePrediction => {
            let mut out = Vec::new();
            for (text, pair) in args.with_pairs(model, "scores sentence pairs")? {
                let Some(pair) = pair else { anyhow::bail!("{} scores sentence pairs: give --text A --text-pair B", model.entry) };
                out.push(TextResult::NextSentence { is_next_probability: model.next_sentence(text, pair)?, text: text.to_owned(), text_pair: pair.to_owned() });
            }
            out
        }
        Task::MultipleChoice => {
            let [prompt] = args.texts.as_slice() else {
                anyhow::bail!("{} picks a continuation: give one --text PROMPT and --choice A --choice B ...", model.entry)
            };
            let choices: Vec<&str> = args.choices.iter().map(String::as_str).collect();
            let probs = model.multiple_choice(prompt, &choices)?;
            let choices = args.choices.iter().zip(probs).map(|(c, probability)| Choice { choice: c.clone(), probability }).collect();
            vec![TextResult::Choices { text: prompt.clone(), choices }]
        }
        Task::PreTraining => {
            let mut out = Vec::new();
            for (text, pair) in args.with_pairs(model, "fills [MASK] tokens and scores sentence pairs")? {
                let masks = if text.contains("[MASK]") { model.fill_mask(text, top_k)? } else { Vec::new() };
                let next = match pair {
                    Some(p) => Some(model.next_sentence(text, p)?),
                    None => None,
                };
                anyhow::ensure!(!masks.is_empty() || next.is_some(), "{}: give a --text with [MASK] tokens, a --text-pair, or both", model.entry);
                out.push(TextResult::PreTraining { text: text.to_owned(), text_pair: owned(pair), masks, is_next_probability: next });
            }
            out
        }
        Task::Tokenization => {
            let tok = model.tokenizer()?;
            args.with_pairs(model, "tokenizes text")?
                .into_iter()
                .map(|(text, pair)| Ok(TextResult::Encoding { encoding: tok.encode_detailed(text, pair)?, text: text.to_owned(), text_pair: owned(pair) }))
                .collect::<anyhow::Result<_>>()?
        }
        other @ (Task::ImageClassification
        | Task::ImageGeneration
        | Task::FillMask
        | Task::TextGeneration
        | Task::FeatureExtraction
        | Task::SemanticSegmentation
        | Task::TextToSpectrogram
        | Task::SpectrogramToAudio) => anyhow::bail!("{} is a {} model: `hub run` gives it its own flags, not these", model.entry, other.as_str()),
    };
    Ok(TextTask { task: task.as_str(), results })
}

impl fmt::Display for TextTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.results.iter().try_for_each(|r| r.fmt(f))
    }
}

impl fmt::Display for TextResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let heading = |f: &mut fmt::Formatter<'_>, text: &str, pair: Option<&str>| match pair {
            Some(p) => writeln!(f, "{text}  ||  {p}"),
            None => writeln!(f, "{text}"),
        };
        let is_next = |f: &mut fmt::Formatter<'_>, p: f32| writeln!(f, "  {} that the second sentence follows the first", percent(p));
        match self {
            TextResult::Labels { text, text_pair, labels } => {
                heading(f, text, text_pair.as_deref())?;
                let rows: Vec<Vec<String>> = labels.iter().map(|p| vec![percent(p.probability), p.index.to_string(), p.label.clone()]).collect();
                write_table(f, "  ", &["PROB", "CLASS", "LABEL"], &rows)
            }
            TextResult::Tags { text, tokens } => {
                heading(f, text, None)?;
                let rows: Vec<Vec<String>> =
                    tokens.iter().map(|t| vec![t.token.clone(), t.label.clone(), percent(t.probability), format!("{}..{}", t.start, t.end)]).collect();
                write_table(f, "  ", &["TOKEN", "LABEL", "PROB", "BYTES"], &rows)
            }
            TextResult::Answer { answer: a, .. } => {
                writeln!(f, "{}", a.answer)?;
                writeln!(f, "  score {:.4}, bytes {}..{} of the context", a.score, a.start, a.end)
            }
            TextResult::NextSentence { text, text_pair, is_next_probability } => {
                heading(f, text, Some(text_pair))?;
                is_next(f, *is_next_probability)
            }
            TextResult::Choices { text, choices } => {
                heading(f, text, None)?;
                let rows: Vec<Vec<String>> = choices.iter().map(|c| vec![percent(c.probability), c.choice.clone()]).collect();
                write_table(f, "  ", &["PROB", "CHOICE"], &rows)
            }
            TextResult::PreTraining { text, text_pair, masks, is_next_probability } => {
                heading(f, text, text_pair.as_deref())?;
                write_masks(f, masks)?;
                is_next_probability.map_or(Ok(()), |p| is_next(f, p))
            }
            TextResult::Encoding { text, text_pair, encoding: e } => {
                heading(f, text, text_pair.as_deref())?;
                let rows: Vec<Vec<String>> =
                    e.tokens.iter().zip(&e.ids).zip(&e.type_ids).map(|((t, id), ty)| vec![t.clone(), id.to_string(), ty.to_string()]).collect();
                write_table(f, "  ", &["TOKEN", "ID", "SEGMENT"], &rows)
            }
        }
    }
}
