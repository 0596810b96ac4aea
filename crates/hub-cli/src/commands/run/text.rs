//! `hub run` for the text tasks that take text and give labels, spans or tokens: text and
//! token classification, question answering, next-sentence prediction, multiple choice, BERT's
//! pre-training heads and tokenizers.

use std::process::ExitCode;

use burn::tensor::backend::Backend;
use hub_models::registry::Task;
use hub_models::Loaded;
use serde_json::json;

use super::Args;
use crate::output::table;

pub fn run<B: Backend>(args: &Args, model: &Loaded<B>) -> anyhow::Result<ExitCode> {
    let results = match model.architecture.task {
        Task::TextClassification => classify(args, model)?,
        Task::TokenClassification => tag(args, model)?,
        Task::QuestionAnswering => answer(args, model)?,
        Task::NextSentencePrediction => next_sentence(args, model)?,
        Task::MultipleChoice => choose(args, model)?,
        Task::PreTraining => pretraining(args, model)?,
        Task::Tokenization => tokenize(args, model)?,
        other => anyhow::bail!("{} is a {} model", model.entry, other.as_str()),
    };
    if args.json {
        crate::commands::print_json(&json!({
            "repo": args.repo.to_string(), "entry": model.entry, "weights": model.weights,
            "device": args.device.name(), "task": model.architecture.task.as_str(), "results": results,
        }))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The --text values with their --text-pair partners (none, or one per text).
fn texts<'a, B: Backend>(args: &'a Args, model: &Loaded<B>, what: &str) -> anyhow::Result<Vec<(&'a str, Option<&'a str>)>> {
    anyhow::ensure!(!args.texts.is_empty(), "{} {what}: give --text TEXT", model.entry);
    anyhow::ensure!(
        args.text_pairs.is_empty() || args.text_pairs.len() == args.texts.len(),
        "give one --text-pair per --text ({} texts, {} pairs)",
        args.texts.len(),
        args.text_pairs.len()
    );
    Ok(args.texts.iter().enumerate().map(|(i, t)| (t.as_str(), args.text_pairs.get(i).map(String::as_str))).collect())
}

fn heading(text: &str, pair: Option<&str>) {
    match pair {
        Some(p) => println!("{text}  ||  {p}"),
        None => println!("{text}"),
    }
}

fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    for line in table(headers, rows).lines() {
        println!("  {line}");
    }
}

fn classify<B: Backend>(args: &Args, model: &Loaded<B>) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for (text, pair) in texts(args, model, "classifies text")? {
        let preds = model.classify_text(text, pair, args.top_k)?;
        if !args.json {
            heading(text, pair);
            let rows: Vec<Vec<String>> = preds.iter().map(|p| vec![format!("{:.2}%", p.probability * 100.0), p.index.to_string(), p.label.clone()]).collect();
            print_table(&["PROB", "CLASS", "LABEL"], &rows);
        }
        out.push(json!({ "text": text, "text_pair": pair, "labels": preds }));
    }
    Ok(out)
}

fn tag<B: Backend>(args: &Args, model: &Loaded<B>) -> anyhow::Result<Vec<serde_json::Value>> {
    anyhow::ensure!(args.text_pairs.is_empty(), "{} tags single texts: --text-pair does not apply", model.entry);
    let mut out = Vec::new();
    for (text, _) in texts(args, model, "labels tokens")? {
        let tags = model.tag_tokens(text)?;
        if !args.json {
            heading(text, None);
            let rows: Vec<Vec<String>> = tags.iter().map(|t| vec![t.token.clone(), t.label.clone(), format!("{:.2}%", t.probability * 100.0), format!("{}..{}", t.start, t.end)]).collect();
            print_table(&["TOKEN", "LABEL", "PROB", "BYTES"], &rows);
        }
        out.push(json!({ "text": text, "tokens": tags }));
    }
    Ok(out)
}

fn answer<B: Backend>(args: &Args, model: &Loaded<B>) -> anyhow::Result<Vec<serde_json::Value>> {
    let (Some(question), Some(context)) = (&args.question, &args.context) else {
        anyhow::bail!("{} answers questions: give --question Q --context TEXT", model.entry)
    };
    let a = model.answer(question, context)?;
    if !args.json {
        println!("{}", a.answer);
        println!("  score {:.4}, bytes {}..{} of the context", a.score, a.start, a.end);
    }
    Ok(vec![json!({ "question": question, "context": context, "answer": a })])
}

fn next_sentence<B: Backend>(args: &Args, model: &Loaded<B>) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for (text, pair) in texts(args, model, "scores sentence pairs")? {
        let Some(pair) = pair else { anyhow::bail!("{} scores sentence pairs: give --text A --text-pair B", model.entry) };
        let p = model.next_sentence(text, pair)?;
        if !args.json {
            heading(text, Some(pair));
            println!("  {:.2}% that the second sentence follows the first", p * 100.0);
        }
        out.push(json!({ "text": text, "text_pair": pair, "is_next_probability": p }));
    }
    Ok(out)
}

fn choose<B: Backend>(args: &Args, model: &Loaded<B>) -> anyhow::Result<Vec<serde_json::Value>> {
    let [prompt] = args.texts.as_slice() else { anyhow::bail!("{} picks a continuation: give one --text PROMPT and --choice A --choice B ...", model.entry) };
    let choices: Vec<&str> = args.choices.iter().map(String::as_str).collect();
    let probs = model.multiple_choice(prompt, &choices)?;
    if !args.json {
        heading(prompt, None);
        let rows: Vec<Vec<String>> = choices.iter().zip(&probs).map(|(c, p)| vec![format!("{:.2}%", p * 100.0), (*c).to_owned()]).collect();
        print_table(&["PROB", "CHOICE"], &rows);
    }
    let items: Vec<_> = choices.iter().zip(&probs).map(|(c, p)| json!({ "choice": c, "probability": p })).collect();
    Ok(vec![json!({ "text": prompt, "choices": items })])
}

fn pretraining<B: Backend>(args: &Args, model: &Loaded<B>) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for (text, pair) in texts(args, model, "fills [MASK] tokens and scores sentence pairs")? {
        let masks = if text.contains("[MASK]") { model.fill_mask(text, args.top_k)? } else { Vec::new() };
        let next = match pair {
            Some(p) => Some(model.next_sentence(text, p)?),
            None => None,
        };
        anyhow::ensure!(!masks.is_empty() || next.is_some(), "{}: give a --text with [MASK] tokens, a --text-pair, or both", model.entry);
        if !args.json {
            heading(text, pair);
            for (i, preds) in masks.iter().enumerate() {
                println!("  [MASK] #{}", i + 1);
                let rows: Vec<Vec<String>> = preds.iter().map(|p| vec![format!("{:.2}%", p.probability * 100.0), p.id.to_string(), p.token.clone()]).collect();
                for line in table(&["PROB", "ID", "TOKEN"], &rows).lines() {
                    println!("    {line}");
                }
            }
            if let Some(p) = next {
                println!("  {:.2}% that the second sentence follows the first", p * 100.0);
            }
        }
        out.push(json!({ "text": text, "text_pair": pair, "masks": masks, "is_next_probability": next }));
    }
    Ok(out)
}

fn tokenize<B: Backend>(args: &Args, model: &Loaded<B>) -> anyhow::Result<Vec<serde_json::Value>> {
    let tok = model.tokenizer()?;
    let mut out = Vec::new();
    for (text, pair) in texts(args, model, "tokenizes text")? {
        let e = tok.encode_detailed(text, pair)?;
        if !args.json {
            heading(text, pair);
            let rows: Vec<Vec<String>> =
                e.tokens.iter().zip(&e.ids).zip(&e.type_ids).map(|((t, id), ty)| vec![t.clone(), id.to_string(), ty.to_string()]).collect();
            print_table(&["TOKEN", "ID", "SEGMENT"], &rows);
        }
        out.push(json!({ "text": text, "text_pair": pair, "encoding": e }));
    }
    Ok(out)
}
