//! `hub help REPO ENTRY [--json]`: what torch.hub.help and `help(model.forward)` would show.

use std::process::ExitCode;

use hub_core::RepoSpec;
use serde_json::json;

use crate::output::{bytes, count, table};
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

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let hub = global.hub()?;
    let repo = hub.repo(&args.repo)?;
    let (name, e) = repo.manifest.entry(&args.entry)?;
    let arch = hub_models::registry::find(&e.architecture);
    let default = e.weights(name, None)?.map(|(n, _)| n.to_owned());
    if args.json {
        let weights: serde_json::Map<String, serde_json::Value> = e
            .weights
            .iter()
            .map(|(n, w)| {
                (n.clone(), json!({
                    "url": w.artifact.url, "sha256": w.artifact.sha256, "size": w.artifact.size, "size_mb": w.size_mb,
                    "format": w.format.to_string(), "license": w.license, "params": w.params, "metrics": w.metrics,
                    "preprocessing": e.preprocessing_for(Some(w)), "cached": hub.is_cached(&w.artifact),
                }))
            })
            .collect();
        return super::print_json(&json!({
            "repo": args.repo.to_string(), "entry": name, "architecture": e.architecture, "task": e.task,
            "summary": e.summary, "docs": e.docs, "paper": e.paper, "code": e.code, "aliases": e.aliases,
            "config": e.config, "categories": e.categories, "default_weights": default, "weights": weights,
            "forward": arch.map(|a| a.signature()), "runnable": arch.is_some(),
        }))
        .map(|_| ExitCode::SUCCESS);
    }
    println!("{name} — {}", e.summary);
    println!();
    println!("  repo          {}", args.repo);
    println!("  task          {}", e.task);
    println!("  architecture  {}{}", e.architecture, if arch.is_some() { "" } else { " (not implemented in this build)" });
    if let Some(p) = &e.paper {
        println!("  paper         {p}");
    }
    if let Some(c) = &e.code {
        println!("  code          {c}");
    }
    if !e.aliases.is_empty() {
        println!("  aliases       {}", e.aliases.join(", "));
    }
    if !e.config.is_empty() {
        println!("  config        {}", inline(&e.config));
    }
    if let Some(docs) = &e.docs {
        println!();
        for line in docs.trim().lines() {
            println!("  {line}");
        }
    }
    if let Some(a) = arch {
        println!();
        println!("Usage:");
        for line in a.signature().lines() {
            println!("  {line}");
        }
    }
    if !e.weights.is_empty() {
        println!();
        println!("Weights (default: {}):", default.as_deref().unwrap_or("-"));
        let rows: Vec<Vec<String>> = e
            .weights
            .iter()
            .map(|(n, w)| {
                let metrics = w.metrics.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
                let size = w.artifact.size.map(bytes).or(w.size_mb.map(|m| format!("{m:.1} MB"))).unwrap_or("-".into());
                vec![
                    n.clone(),
                    w.params.map_or("-".into(), count),
                    size,
                    metrics,
                    if hub.is_cached(&w.artifact) { "cached".into() } else { String::new() },
                ]
            })
            .collect();
        for line in table(&["NAME", "PARAMS", "FILE", "METRICS", ""], &rows).lines() {
            println!("  {line}");
        }
        for (n, w) in &e.weights {
            println!("  {n}: {} ({}, {}, hash {})", w.artifact.url, w.format, w.license.as_deref().unwrap_or("license unknown"), w.artifact.expected_hash());
        }
    }
    if let Some(ids) = &e.model_ids {
        println!();
        println!("Any model id (owner/name[@revision], or --revision; default revision {}):", ids.revision);
        println!("  {}", ids.url);
        if !ids.weights.is_empty() {
            println!("  checkpoint: the first of {}", ids.weights.join(", "));
        }
        if !ids.files.is_empty() {
            println!("  with: {}", ids.files.join(", "));
        }
        if !ids.one_of.is_empty() {
            let groups: Vec<String> = ids.one_of.iter().map(|g| g.join(" + ")).collect();
            println!("  and the first of: {}", groups.join("; "));
        }
        println!("  hashes are trusted on first download and pinned by `hub lock`");
    }
    let weights = e.weights(name, None)?.map(|(_, w)| w);
    if let Some(p) = e.preprocessing_for(weights) {
        println!();
        println!("Preprocessing ({}):", default.as_deref().unwrap_or("default"));
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
        println!("  {}", parts.join(", "));
    }
    if let Some(c) = e.categories_for(weights) {
        println!("  categories: {c}");
    }
    Ok(ExitCode::SUCCESS)
}

fn inline(t: &toml::Table) -> String {
    t.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")
}
