//! The gallery: server-rendered HTML with no script and nothing from elsewhere (it works
//! offline). `/` lists every entrypoint of the served repos with a search and filter form;
//! `/models/{name}` shows one (summary, docs, weights, preprocessing, the `hub` and Rust
//! snippets) with a demo form for its task; `/demo/{name}` runs the demo and shows the page
//! with its result.

use std::fmt::Write;

use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use hub_core::Entrypoint;
use hub_models::registry::Task;
use serde::Deserialize;

use super::error::{within, ApiError, ModelLabel};
use super::slot::Key;
use super::state::Shared;
use super::tasks::{self, EntryRow, Params, TextInputs, TextResult};

/// `&`, `<`, `>`, `"` and `'` escaped for HTML text and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A model name as a URL path: every byte but unreserved ones and `/` percent-encoded.
fn path_enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 2rem;color:#222}\
a{color:#0b5cad}table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}\
th{background:#f4f4f4}code,pre{background:#f6f6f6;font-family:ui-monospace,monospace}pre{padding:.7rem;overflow-x:auto;white-space:pre-wrap}\
.badge{display:inline-block;padding:0 .4rem;border-radius:.3rem;font-size:.8rem;background:#e6eef8}.cached{background:#dcf5dc}.loaded{background:#fde8c8}\
.bar{display:inline-block;width:12rem;height:.8rem;background:#eee;margin-right:.5rem;vertical-align:middle}.bar span{display:block;height:100%;background:#3b82f6}\
form.filter input,form.filter select,form.demo input,form.demo textarea{padding:.3rem;margin:.2rem}form.demo textarea{width:100%}\
.error{background:#fde2e2;padding:.7rem;border-radius:.3rem}.result{background:#f0f7ff;padding:.7rem 1rem;border-radius:.3rem}nav{margin-bottom:1rem}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · hub</title><style>{STYLE}</style></head><body><nav><a href=\"/\">hub gallery</a> · <a href=\"/v2\">/v2</a> · <a href=\"/metrics\">/metrics</a></nav>\n{body}\n</body></html>\n",
        esc(title)
    )
}

fn html(status: StatusCode, model: &str, body: String) -> Response {
    let mut r = (status, Html(body)).into_response();
    if !model.is_empty() {
        r.extensions_mut().insert(ModelLabel(model.to_owned()));
    }
    r
}

fn error_page(e: &ApiError) -> Response {
    html(e.status, e.model.as_deref().unwrap_or_default(), page("error", &format!("<h1>{}</h1><p class=\"error\">{}</p>", e.status, esc(&e.message))))
}

#[derive(Debug, Deserialize, Default)]
struct IndexQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    task: String,
    #[serde(default)]
    cached: Option<String>,
}

/// `GET /`: every entrypoint, filtered by `q` (name, summary, architecture), `task` and `cached`.
pub async fn index(State(app): State<Shared>, uri: Uri) -> Response {
    let q: IndexQuery = match tasks::query(&uri) {
        Ok(q) => q,
        Err(e) => return error_page(&e),
    };
    let all = {
        let app = app.clone();
        tokio::task::spawn_blocking(move || tasks::entries(&app)).await.unwrap_or_default()
    };
    let mut task_names: Vec<&str> = all.iter().map(|r| r.task.as_str()).collect();
    task_names.sort_unstable();
    task_names.dedup();
    let needle = q.q.to_lowercase();
    let shown: Vec<&EntryRow> = all
        .iter()
        .filter(|r| needle.is_empty() || [&r.name, &r.summary, &r.architecture, &r.repo].iter().any(|f| f.to_lowercase().contains(&needle)))
        .filter(|r| q.task.is_empty() || r.task == q.task)
        .filter(|r| q.cached.is_none() || r.cached)
        .collect();
    let mut body = String::from("<h1>Models</h1>");
    let _ = write!(
        body,
        "<form class=\"filter\" method=\"get\" action=\"/\"><input type=\"search\" name=\"q\" placeholder=\"search\" value=\"{}\"> <select name=\"task\"><option value=\"\">any task</option>",
        esc(&q.q)
    );
    for t in &task_names {
        let _ = write!(body, "<option{}>{}</option>", if *t == q.task { " selected" } else { "" }, esc(t));
    }
    let _ = write!(
        body,
        "</select> <label><input type=\"checkbox\" name=\"cached\"{}> cached only</label> <button type=\"submit\">Filter</button></form><p>{} of {} entrypoints</p>",
        if q.cached.is_some() { " checked" } else { "" },
        shown.len(),
        all.len()
    );
    body.push_str("<table><thead><tr><th>model</th><th>task</th><th>summary</th><th>params</th><th>acc@1</th><th>default weights</th><th></th></tr></thead><tbody>");
    for r in &shown {
        let _ = write!(
            body,
            "<tr class=\"entry\"><td><a href=\"/models/{}\">{}</a><br><small>{}</small></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}{}</td></tr>",
            path_enc(&r.model),
            esc(&r.name),
            esc(&r.repo),
            esc(&r.task),
            esc(&r.summary),
            r.params.map_or("-".into(), crate::output::count),
            r.acc1.map_or("-".into(), |a| format!("{a:.2}")),
            esc(r.default_weights.as_deref().unwrap_or("-")),
            if r.cached { "<span class=\"badge cached\">cached</span> " } else { "" },
            if r.loaded { "<span class=\"badge loaded\">loaded</span> " } else { "" },
            if r.runnable { "" } else { "<span class=\"badge\">not in this build</span>" },
        );
    }
    body.push_str("</tbody></table>");
    html(StatusCode::OK, "", page("models", &body))
}

/// A model's page, with a demo's result.
async fn page_handler(app: &Shared, name: &str, result: Option<String>, form: &DemoQuery) -> Response {
    let key = match app.models.resolve(name, form.weights.as_deref()) {
        Ok(k) => k,
        Err(e) => return error_page(&e.for_model(name)),
    };
    let app2 = app.clone();
    let key2 = key.clone();
    let cached = tokio::task::spawn_blocking(move || weights_cached(&app2, &key2)).await.unwrap_or_default();
    let body = model_page(app, &key, &cached, result.as_deref(), form);
    let slot_name = app.models.name_of(key.repo, &key.entry);
    html(StatusCode::OK, &slot_name, page(&slot_name, &body))
}

/// `GET /models/{name}`.
pub async fn model(State(app): State<Shared>, Path(name): Path<String>, uri: Uri) -> Response {
    match tasks::query::<DemoQuery>(&uri) {
        Ok(form) => page_handler(&app, &name, None, &form).await,
        Err(e) => error_page(&e),
    }
}

/// Which weights of the entrypoint are in the cache.
fn weights_cached(app: &Shared, key: &Key) -> Vec<String> {
    let manifest = &app.models.repos[key.repo].manifest;
    let Ok((_, e)) = manifest.entry(&key.entry) else { return Vec::new() };
    e.weights.iter().filter(|(_, w)| app.models.hub.is_cached(&w.artifact)).map(|(n, _)| n.clone()).collect()
}

fn model_page(app: &Shared, key: &Key, cached: &[String], result: Option<&str>, form: &DemoQuery) -> String {
    let repo = &app.models.repos[key.repo];
    let (entry, e) = repo.manifest.entry(&key.entry).expect("resolve() found this entrypoint");
    let name = app.models.name_of(key.repo, entry);
    let default = e.weights(entry, None).ok().flatten().map(|(n, _)| n.to_owned());
    let task = hub_models::registry::find(&e.architecture).map(|a| a.task);
    let mut b = String::new();
    let _ = write!(b, "<h1>{}</h1><p class=\"summary\">{}</p>", esc(entry), esc(&e.summary));
    b.push_str("<table class=\"facts\">");
    let mut fact = |k: &str, v: String| {
        let _ = write!(b, "<tr><th>{k}</th><td>{v}</td></tr>");
    };
    fact("repo", esc(&repo.name));
    fact("model name", format!("<code>{}</code>", esc(&name)));
    fact("task", esc(&e.task));
    fact("architecture", format!("{}{}", esc(&e.architecture), if task.is_some() { "" } else { " (not in this build)" }));
    if let Some(p) = &e.paper {
        fact("paper", format!("<a href=\"{0}\">{0}</a>", esc(p)));
    }
    if let Some(c) = &e.code {
        fact("code", format!("<a href=\"{0}\">{0}</a>", esc(c)));
    }
    if !e.aliases.is_empty() {
        fact("aliases", esc(&e.aliases.join(", ")));
    }
    b.push_str("</table>");
    if let Some(docs) = &e.docs {
        let _ = write!(b, "<h2>Docs</h2><pre class=\"docs\">{}</pre>", esc(docs.trim()));
    }
    weights_table(&mut b, e, default.as_deref(), cached);
    if let Some(p) = e.preprocessing_for(default.as_deref().and_then(|d| e.weights.get(d))) {
        let _ = write!(b, "<h2>Preprocessing</h2><p>{}</p>", esc(&preprocessing_steps(&p)));
    }
    snippets(&mut b, &repo.name, entry, &name, task);
    b.push_str("<h2 id=\"demo\">Demo</h2>");
    if let Some(r) = result {
        b.push_str(r);
    }
    demo_form(&mut b, &name, task, form);
    b
}

fn weights_table(b: &mut String, e: &Entrypoint, default: Option<&str>, cached: &[String]) {
    if e.weights.is_empty() {
        return;
    }
    b.push_str("<h2>Weights</h2><table class=\"weights\"><thead><tr><th>name</th><th>params</th><th>file</th><th>metrics</th><th>license</th><th></th></tr></thead><tbody>");
    for (n, w) in &e.weights {
        let metrics: Vec<String> = w.metrics.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let size = w.artifact.size.map(crate::output::bytes).or(w.size_mb.map(|m| format!("{m:.1} MB"))).unwrap_or_else(|| "-".into());
        let _ = write!(
            b,
            "<tr><td>{}{}</td><td>{}</td><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(n),
            if Some(n.as_str()) == default { " <span class=\"badge\">default</span>" } else { "" },
            w.params.map_or("-".into(), crate::output::count),
            esc(&w.artifact.url),
            esc(&size),
            esc(&metrics.join(", ")),
            esc(w.license.as_deref().unwrap_or("-")),
            if cached.contains(n) { "<span class=\"badge cached\">cached</span>" } else { "" },
        );
    }
    b.push_str("</tbody></table>");
}

/// `resize shorter side to 232, bilinear (antialiased), centre crop 224, mean [...], std [...]`.
fn preprocessing_steps(p: &hub_core::Preprocessing) -> String {
    let list = |v: &Option<Vec<f32>>| v.as_ref().map(|v| v.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", "));
    let steps = [
        p.resize.map(|r| format!("resize shorter side to {r}")),
        p.interpolation.map(|i| format!("{i:?} (antialiased)").to_lowercase()),
        p.crop.map(|c| format!("centre crop {c}")),
        list(&p.mean).map(|m| format!("mean [{m}]")),
        list(&p.std).map(|s| format!("std [{s}]")),
    ];
    steps.into_iter().flatten().collect::<Vec<_>>().join(", ")
}

fn snippets(b: &mut String, repo: &str, entry: &str, name: &str, task: Option<Task>) {
    let q = |s: &str| if s.chars().all(|c| c.is_ascii_alphanumeric() || "/:._-".contains(c)) { s.to_owned() } else { format!("'{}'", s.replace('\'', "'\\''")) };
    let (flags, rust) = match task {
        Some(Task::ImageClassification) => ("--image photo.jpg --top-k 5", "for p in &model.classify_files(&[\"photo.jpg\"], 5)?[0] {\n    println!(\"{:6.2}%  {}\", p.probability * 100.0, p.label);\n}"),
        Some(Task::FillMask) => ("--text \"The capital of France is [MASK].\"", "let masks = model.fill_mask(\"The capital of France is [MASK].\", 5)?;"),
        Some(Task::TextGeneration) => ("--prompt \"Rust is\" --max-new-tokens 40", "use hub_models::text::generation::GenerationConfig;\nlet text = model.generate_text(\"Rust is\", &GenerationConfig::greedy(40), |piece| print!(\"{piece}\"))?;"),
        Some(Task::FeatureExtraction) => ("--text \"A man eats.\" --text \"Someone is eating.\"", "let embeddings = model.embed(&[\"A man eats.\", \"Someone is eating.\"])?; // [2, hidden]"),
        Some(Task::TextClassification) => ("--text \"A fine film.\"", "let labels = model.classify_text(\"A fine film.\", None, 5)?;"),
        Some(Task::QuestionAnswering) => ("--question \"Where is Paris?\" --context \"Paris is in France.\"", "let answer = model.answer(\"Where is Paris?\", \"Paris is in France.\")?;"),
        Some(Task::SemanticSegmentation) => ("--image photo.jpg --out mask.png", "let (mask, resized, scores) = model.segment_file(\"photo.jpg\".as_ref())?;"),
        Some(Task::ImageGeneration) => ("--num-images 16 --seed 0 --out grid.png", "let images = model.generate(16, 0)?; // [16, 3, h, w] in [-1, 1]"),
        _ => ("--help", "// see `hub help` for this entrypoint's task API"),
    };
    let _ = write!(
        b,
        "<h2>Use it</h2><pre class=\"snippet-cli\">hub run {} {} {}</pre><pre class=\"snippet-rust\">use hub_models::{{load, LoadOptions}};\n\nlet model = load(\"{}\", \"{}\", LoadOptions::default())?;\n{}\n# Ok::&lt;(), hub_models::Error&gt;(())</pre>",
        esc(&q(repo)),
        esc(entry),
        esc(flags),
        esc(repo),
        esc(entry),
        esc(rust)
    );
    let path = path_enc(name);
    let call = match task {
        Some(Task::ImageClassification) => format!(
            "curl --data-binary @photo.jpg 'http://HOST/api/models/{path}?top_k=5'\ncurl -d '{{\"inputs\":[{{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,224,224],\"data\":[...]}}]}}' http://HOST/v2/models/{path}/infer"
        ),
        Some(Task::FillMask) => format!("curl -d '{{\"text\":\"The capital of France is [MASK].\"}}' http://HOST/api/models/{path}"),
        Some(Task::TextGeneration) => format!("curl -d '{{\"prompt\":\"Rust is\",\"max_new_tokens\":40}}' http://HOST/api/models/{path}"),
        _ => format!("curl -d '{{\"text\":\"...\"}}' http://HOST/api/models/{path}"),
    };
    let _ = write!(b, "<pre class=\"snippet-http\">{}</pre>", esc(&call));
}

/// The fields of the demo forms (and `weights`, the version).
#[derive(Debug, Deserialize, Default)]
pub struct DemoQuery {
    #[serde(default)]
    weights: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    text_pair: Option<String>,
    #[serde(default)]
    question: Option<String>,
    #[serde(default)]
    context: Option<String>,
    #[serde(default)]
    prompt: Option<String>,
    #[serde(default)]
    max_new_tokens: Option<usize>,
    #[serde(default)]
    top_k: Option<usize>,
}

fn demo_form(b: &mut String, name: &str, task: Option<Task>, form: &DemoQuery) {
    let action = format!("/demo/{}", path_enc(name));
    let val = |v: &Option<String>, default: &str| esc(v.as_deref().unwrap_or(default));
    let input = |label: &str, field: &str, v: String| format!("<label>{label}<br><textarea name=\"{field}\" rows=\"2\">{v}</textarea></label><br>");
    let fields = match task {
        Some(Task::ImageClassification) => {
            let _ = write!(
                b,
                "<form class=\"demo\" method=\"post\" action=\"{action}\" enctype=\"multipart/form-data\"><input type=\"file\" name=\"image\" accept=\"image/png,image/jpeg\" required> <button type=\"submit\">Classify</button></form>"
            );
            return;
        }
        Some(Task::FillMask) => input("Text with [MASK]", "text", val(&form.text, "The capital of France is [MASK].")),
        Some(Task::TextGeneration) => format!(
            "{}<label>max new tokens <input type=\"number\" name=\"max_new_tokens\" min=\"1\" max=\"{}\" value=\"{}\"></label><br>",
            input("Prompt", "prompt", val(&form.prompt, "Rust is")),
            tasks::MAX_NEW_TOKENS,
            form.max_new_tokens.unwrap_or(20)
        ),
        Some(Task::FeatureExtraction) => format!("{}{}", input("Sentence", "text", val(&form.text, "A man eats.")), input("Compared with", "text_pair", val(&form.text_pair, "Someone is eating."))),
        Some(Task::TextClassification | Task::TokenClassification) => input("Text", "text", val(&form.text, "A fine film.")),
        Some(Task::NextSentencePrediction) => format!("{}{}", input("First sentence", "text", val(&form.text, "The sky is blue.")), input("Second sentence", "text_pair", val(&form.text_pair, "It is a clear day."))),
        Some(Task::QuestionAnswering) => format!("{}{}", input("Question", "question", val(&form.question, "Where is Paris?")), input("Context", "context", val(&form.context, "Paris is the capital of France."))),
        _ => {
            b.push_str("<p>No live demo for this task yet: <code>hub run</code> runs it.</p>");
            return;
        }
    };
    let _ = write!(b, "<form class=\"demo\" method=\"get\" action=\"{action}\">{fields}<button type=\"submit\">Run</button></form>");
}

fn bar(p: f32) -> String {
    format!("<span class=\"bar\"><span style=\"width:{:.1}%\"></span></span>", (p * 100.0).clamp(0.0, 100.0))
}

fn pct(p: f32) -> String {
    crate::output::percent(p)
}

/// `GET /demo/{name}?text=...`: a text demo.
pub async fn demo_get(State(app): State<Shared>, Path(name): Path<String>, uri: Uri) -> Response {
    let form: DemoQuery = match tasks::query(&uri) {
        Ok(f) => f,
        Err(e) => return error_page(&e),
    };
    let deadline = tokio::time::Instant::now() + app.limits.timeout;
    let result = async {
        let key = app.models.resolve(&name, form.weights.as_deref())?;
        let worker = within(deadline, app.models.slot(&key).loaded()).await?;
        let one = |v: &Option<String>| v.iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>();
        let inputs = TextInputs { texts: one(&form.text), text_pairs: one(&form.text_pair), question: form.question.clone(), context: form.context.clone(), choices: Vec::new(), prompts: one(&form.prompt) };
        let params = Params::from_json(&serde_json::json!({ "top_k": form.top_k.unwrap_or(5), "max_new_tokens": form.max_new_tokens }))?;
        let task = worker.info.task;
        let html = within(
            deadline,
            worker.run(move |m| -> Result<String, ApiError> {
                Ok(match task {
                    Task::FillMask => {
                        let filled = tasks::fill_mask(m, &inputs.texts, params.top_k)?;
                        let mut h = String::new();
                        for r in &filled.results {
                            for (i, mask) in r.masks.iter().enumerate() {
                                let _ = write!(h, "<p>[MASK] #{}</p><table class=\"top\">", i + 1);
                                for p in mask {
                                    let _ = write!(h, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", bar(p.probability), pct(p.probability), esc(&p.token));
                                }
                                h.push_str("</table>");
                            }
                        }
                        h
                    }
                    Task::TextGeneration => {
                        let g = tasks::generate(m, &inputs.prompts, &params)?;
                        let tasks::Generated::One { continuation: c, .. } = g else { return Err(ApiError::bad_request("give one prompt")) };
                        format!("<p class=\"generated\">{}<b>{}</b></p>", esc(&c.prompt), esc(&c.generated))
                    }
                    Task::FeatureExtraction => {
                        let texts: Vec<String> = inputs.texts.iter().chain(&inputs.text_pairs).cloned().collect();
                        let e = tasks::embed(m, &texts)?;
                        let sim = e.cosine_similarity.first().and_then(|r| r.get(1)).copied().unwrap_or(1.0);
                        format!("<p>cosine similarity <b class=\"similarity\">{sim:.4}</b> ({} values per embedding)</p>", e.dim)
                    }
                    _ => {
                        let t = tasks::text_task(m, &inputs, params.top_k)?;
                        let mut h = String::new();
                        for r in &t.results {
                            match r {
                                TextResult::Labels { labels, .. } => {
                                    h.push_str("<table class=\"top\">");
                                    for p in labels {
                                        let _ = write!(h, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", bar(p.probability), pct(p.probability), esc(&p.label));
                                    }
                                    h.push_str("</table>");
                                }
                                TextResult::Tags { tokens, .. } => {
                                    h.push_str("<table class=\"tags\"><tr><th>token</th><th>label</th><th>prob</th></tr>");
                                    for t in tokens {
                                        let _ = write!(h, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", esc(&t.token), esc(&t.label), pct(t.probability));
                                    }
                                    h.push_str("</table>");
                                }
                                TextResult::Answer { answer, context, .. } => {
                                    let _ = write!(
                                        h,
                                        "<p class=\"answer\"><b>{}</b> (score {:.4})</p><p>{}<mark>{}</mark>{}</p>",
                                        esc(&answer.answer),
                                        answer.score,
                                        esc(&context[..answer.start]),
                                        esc(&context[answer.start..answer.end]),
                                        esc(&context[answer.end..])
                                    );
                                }
                                TextResult::NextSentence { is_next_probability: p, .. } => {
                                    let _ = write!(h, "<p>{} {} that the second sentence follows the first</p>", bar(*p), pct(*p));
                                }
                                TextResult::Choices { choices, .. } => {
                                    for c in choices {
                                        let _ = write!(h, "<p>{} {} {}</p>", bar(c.probability), pct(c.probability), esc(&c.choice));
                                    }
                                }
                            }
                        }
                        h
                    }
                })
            }),
        )
        .await?;
        Ok::<_, ApiError>(html)
    }
    .await;
    let block = match result {
        Ok(h) => format!("<div class=\"result\">{h}</div>"),
        Err(e) => return demo_error(&app, &name, e, &form).await,
    };
    page_handler(&app, &name, Some(block), &form).await
}

async fn demo_error(app: &Shared, name: &str, e: ApiError, form: &DemoQuery) -> Response {
    // An unknown model has no page to show the error on.
    if e.status == StatusCode::NOT_FOUND {
        return error_page(&e.for_model(name));
    }
    let mut r = page_handler(app, name, Some(format!("<p class=\"error\">{}</p>", esc(&e.message))), form).await;
    *r.status_mut() = e.status;
    r
}

/// `POST /demo/{name}` with an uploaded image: the top-5 classes with bars.
pub async fn demo_post(State(app): State<Shared>, Path(name): Path<String>, request: Request) -> Response {
    let form = DemoQuery::default();
    let deadline = tokio::time::Instant::now() + app.limits.timeout;
    let result = async {
        let key = app.models.resolve(&name, None)?;
        let worker = within(deadline, app.models.slot(&key).loaded()).await?;
        if worker.info.task != Task::ImageClassification {
            return Err(ApiError::bad_request("this model's demo is a form of text fields, not an upload"));
        }
        let images = tasks::images_of(request, &app, deadline, "upload").await?;
        let report = within(deadline, tasks::classify(&worker, images, 5)).await?;
        let mut h = String::new();
        for r in &report.results {
            let _ = write!(h, "<p>{}</p><table class=\"top\">", esc(&r.input));
            for p in &r.top_k {
                let _ = write!(h, "<tr><td>{}</td><td>{}</td><td class=\"label\">{}</td></tr>", bar(p.probability), pct(p.probability), esc(&p.label));
            }
            h.push_str("</table>");
        }
        Ok::<_, ApiError>(h)
    }
    .await;
    match result {
        Ok(h) => page_handler(&app, &name, Some(format!("<div class=\"result\">{h}</div>")), &form).await,
        Err(e) => demo_error(&app, &name, e, &form).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_paths_are_escaped() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(path_enc("facebookresearch/pytorch_GAN_zoo:hub/PGAN"), "facebookresearch/pytorch_GAN_zoo%3Ahub/PGAN");
        assert_eq!(path_enc("a b?"), "a%20b%3F");
    }
}
