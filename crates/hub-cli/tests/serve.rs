//! `hub serve`: the real binary on a free loopback port, talked to over HTTP — the inference
//! protocol's health, metadata and infer (JSON and binary tensors, equal to `Loaded::forward`),
//! bad requests, dynamic batching and a full queue in `/metrics`, the task endpoints against
//! `hub run --json`, the gallery, SIGTERM.

#[path = "../../hub-core/tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{Behaviour, Server};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A running `hub serve`, killed on drop.
struct Served {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

impl Served {
    /// Starts `hub serve ARGS --port 0` and waits for its `listening` log line.
    fn start(home: &Path, cwd: &Path, mirrors: &str, args: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hub"))
            .arg("serve")
            .args(args)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .current_dir(cwd)
            .env("HUB_HOME", home)
            .env("HUB_MIRRORS", mirrors)
            .env_remove("HUB_OFFLINE")
            .env("TORCH_HOME", home.join("no-torch"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if v["msg"] == "listening" {
                        let _ = tx.send(v["url"].as_str().unwrap().trim_end_matches('/').to_owned());
                    }
                }
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let base = rx.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|_| panic!("hub serve did not start:\n{}", log.lock().unwrap()));
        Served { child, base, log }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits for `/v2/health/ready` (the `--model`s loaded).
    fn wait_ready(&self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(300) {
            if get(&self.url("/v2/health/ready")).status == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("not ready after 300 s:\n{}", self.log());
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
struct Answer {
    status: u16,
    content_type: String,
    header_length: Option<usize>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: status {} body {:?}", self.status, String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Answer {
    let mut req = ureq::request(method, url).timeout(Duration::from_secs(300));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = resp.status();
    let content_type = resp.header("content-type").unwrap_or_default().to_owned();
    let header_length = resp.header("inference-header-content-length").map(|v| v.parse().unwrap());
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).unwrap();
    Answer { status, content_type, header_length, body }
}

fn get(url: &str) -> Answer {
    request("GET", url, &[], None)
}

fn post_json(url: &str, body: &Value) -> Answer {
    request("POST", url, &[("Content-Type", "application/json")], Some(&serde_json::to_vec(body).unwrap()))
}

/// Random SqueezeNet 1.1 weights in PyTorch's names, as a safetensors checkpoint.
fn squeezenet_weights(path: &Path) {
    use burn_store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};
    use hub_models::registry::{self, ClassifierConfig, ImageClassifier};
    let model = registry::find("squeezenet1_1").unwrap().build::<hub_models::Cpu>(&ClassifierConfig::default(), &Default::default()).unwrap();
    let ImageClassifier::SqueezeNet(m) = model else { panic!("not a squeezenet") };
    // burn's paths name the enum variants of layer vectors (`features.3.Fire.squeeze`): drop them.
    let mut store = SafetensorsStore::from_file(path).with_to_adapter(BurnToPyTorchAdapter).with_key_remapping(r"\.[A-Z][A-Za-z0-9]*\.", ".").overwrite(true);
    m.save_into(&mut store).unwrap();
}

/// A temp `HUB_HOME`, a working directory, and a local repo `r` publishing a SqueezeNet 1.1
/// (entrypoint `m`, weights `W`) from a checkpoint file beside its manifest.
struct Fixture {
    home: tempfile::TempDir,
    cwd: tempfile::TempDir,
    repo: String,
}

impl Fixture {
    fn new() -> Fixture {
        let home = tempfile::tempdir().unwrap();
        let cwd = tempfile::tempdir().unwrap();
        let dir = cwd.path().join("r");
        std::fs::create_dir_all(&dir).unwrap();
        squeezenet_weights(&dir.join("weights.safetensors"));
        let manifest = "format = 1\n[entrypoints.m]\narchitecture = \"squeezenet1_1\"\ntask = \"image-classification\"\nsummary = \"SqueezeNet 1.1, random weights\"\ncategories = \"imagenet-1k\"\n\n\
                        [entrypoints.m.weights.W]\nurl = \"file://weights.safetensors\"\nformat = \"safetensors\"\n";
        std::fs::write(dir.join("hubconf.toml"), manifest).unwrap();
        Fixture { home, cwd, repo: dir.to_str().unwrap().to_owned() }
    }

    fn serve(&self, args: &[&str]) -> Served {
        Served::start(self.home.path(), self.cwd.path(), "", args)
    }

    /// The same model, loaded in this process.
    fn loaded(&self) -> hub_models::Loaded<hub_models::Cpu> {
        let hub = hub_models::builtin::hub(hub_core::HubOptions::with_root(self.home.path())).unwrap();
        hub_models::load_with(&hub, &self.repo.parse().unwrap(), "m", &hub_models::LoadOptions::default(), &Default::default()).unwrap()
    }

    fn hub(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_hub")).args(args).current_dir(self.cwd.path()).env("HUB_HOME", self.home.path()).env_remove("HUB_OFFLINE").output().unwrap()
    }
}

/// Deterministic values in [-2, 2].
fn values(n: usize, seed: u32) -> Vec<f32> {
    (0..n).map(|i| (i as f32 * 0.618_034 + seed as f32 * 0.37).sin() * 2.0).collect()
}

/// `Loaded::forward` on `[rows, 3, 224, 224]` values: the logits, row-major.
fn forward(model: &hub_models::Loaded<hub_models::Cpu>, x: &[f32], rows: usize) -> Vec<f32> {
    use burn::tensor::{Tensor, TensorData};
    let t = Tensor::<hub_models::Cpu, 4>::from_data(TensorData::new(x.to_vec(), [rows, 3, 224, 224]), &Default::default());
    model.forward(t).unwrap().into_data().iter::<f32>().collect()
}

fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{what}[{i}]: {g} vs Loaded::forward {w}");
    }
}

/// A binary-data infer request: the JSON header, then the FP32 values.
fn binary_infer(x: &[f32], rows: usize, binary_output: bool) -> (Vec<u8>, usize) {
    let head = json!({
        "inputs": [{ "name": "input", "datatype": "FP32", "shape": [rows, 3, 224, 224], "parameters": { "binary_data_size": x.len() * 4 } }],
        "outputs": [{ "name": "logits", "parameters": { "binary_data": binary_output } }],
    });
    let mut body = serde_json::to_vec(&head).unwrap();
    let n = body.len();
    body.extend(x.iter().flat_map(|v| v.to_le_bytes()));
    (body, n)
}

fn post_binary(url: &str, body: &[u8], head: usize) -> Answer {
    request("POST", url, &[("Content-Type", "application/octet-stream"), ("Inference-Header-Content-Length", &head.to_string())], Some(body))
}

/// The FP32 logits of a binary response.
fn binary_logits(a: &Answer) -> (Value, Vec<f32>) {
    let n = a.header_length.unwrap_or_else(|| panic!("no Inference-Header-Content-Length: {} {}", a.status, a.text()));
    let head: Value = serde_json::from_slice(&a.body[..n]).unwrap();
    let floats = a.body[n..].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    (head, floats)
}

#[test]
fn health_metadata_and_infer_equal_forward() {
    let fx = Fixture::new();
    let served = fx.serve(&[&fx.repo, "--model", &fx.repo, "m"]);
    served.wait_ready();
    assert_eq!(get(&served.url("/v2/health/live")).json()["live"], true);
    let meta = get(&served.url("/v2")).json();
    assert_eq!(meta["name"], "hub");
    assert!(meta["extensions"].as_array().unwrap().contains(&json!("binary_tensor_data")), "{meta}");

    // The model of the default repo is named by its entrypoint; its version is its weights.
    let m = get(&served.url("/v2/models/m")).json();
    assert_eq!(m["name"], "m");
    assert_eq!(m["versions"], json!(["W"]));
    assert_eq!(m["inputs"], json!([{ "name": "input", "datatype": "FP32", "shape": [-1, 3, 224, 224] }]));
    assert_eq!(m["outputs"], json!([{ "name": "logits", "datatype": "FP32", "shape": [-1, 1000] }]));
    assert_eq!(get(&served.url("/v2/models/m/versions/W")).json()["name"], "m");
    let ready = get(&served.url("/v2/models/m/ready"));
    assert_eq!((ready.status, ready.json()["ready"].clone()), (200, json!(true)));
    // The same model by its REPO/ENTRY name, slashes as they are or %2F.
    let by_repo = get(&served.url(&format!("/v2/models/{}/m", fx.repo)));
    assert_eq!(by_repo.status, 200, "{}", by_repo.text());
    let encoded = get(&served.url(&format!("/v2/models/{}%2Fm", fx.repo.replace('/', "%2F"))));
    assert_eq!(encoded.status, 200, "{}", encoded.text());

    // JSON tensors: [2, 3, 224, 224] in, [2, 1000] logits out, equal to Loaded::forward.
    let x = values(2 * 3 * 224 * 224, 1);
    let want = forward(&fx.loaded(), &x, 2);
    let a = post_json(&served.url("/v2/models/m/infer"), &json!({ "id": "r1", "inputs": [{ "name": "input", "datatype": "FP32", "shape": [2, 3, 224, 224], "data": x }] }));
    assert_eq!(a.status, 200, "{}", a.text());
    let v = a.json();
    assert_eq!((&v["model_name"], &v["model_version"], &v["id"]), (&json!("m"), &json!("W"), &json!("r1")));
    let out = &v["outputs"][0];
    assert_eq!((&out["name"], &out["datatype"], &out["shape"]), (&json!("logits"), &json!("FP32"), &json!([2, 1000])));
    let got: Vec<f32> = out["data"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
    assert_close(&got, &want, "JSON logits");

    // Binary tensors in and out (Triton's extension): the same logits, bit for bit.
    let (body, head) = binary_infer(&x, 2, true);
    let a = post_binary(&served.url("/v2/models/m/versions/W/infer"), &body, head);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.content_type, "application/octet-stream");
    let (head, floats) = binary_logits(&a);
    assert_eq!(head["outputs"][0]["parameters"]["binary_data_size"], 8000);
    assert_eq!(floats, got, "binary and JSON logits differ");

    // The classification extension: "score:index:label", best first.
    let a = post_json(
        &served.url("/v2/models/m/infer"),
        &json!({ "inputs": [{ "name": "input", "datatype": "FP32", "shape": [1, 3, 224, 224], "data": &x[..3 * 224 * 224] }], "outputs": [{ "name": "logits", "parameters": { "classification": 3 } }] }),
    );
    let v = a.json();
    assert_eq!((&v["outputs"][0]["datatype"], &v["outputs"][0]["shape"]), (&json!("BYTES"), &json!([1, 3])), "{v}");
    let best = want[..1000].iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
    let first = v["outputs"][0]["data"][0].as_str().unwrap();
    assert_eq!(first.split(':').nth(1), Some(best.to_string().as_str()), "{first}");

    // The repository index lists it as ready.
    let index = post_json(&served.url("/v2/repository/index"), &json!({})).json();
    assert!(index.as_array().unwrap().iter().any(|m| m["name"] == "m" && m["state"] == "READY"), "{index}");
}

#[test]
fn bad_requests_get_json_errors_and_the_server_keeps_serving() {
    let fx = Fixture::new();
    let served = fx.serve(&[&fx.repo, "--model", &fx.repo, "m", "--max-body-bytes", "700000"]);
    served.wait_ready();
    let infer = served.url("/v2/models/m/infer");
    let small = |shape: Value, datatype: &str, data: Value| json!({ "inputs": [{ "name": "input", "datatype": datatype, "shape": shape, "data": data }] });
    let cases: Vec<(&str, Answer, u16, &str)> = vec![
        ("malformed JSON", request("POST", &infer, &[("Content-Type", "application/json")], Some(b"{\"inputs\": [")), 400, "not a valid inference request"),
        ("wrong dtype", post_json(&infer, &small(json!([1, 3, 2, 2]), "INT32", json!(vec![1; 12]))), 400, "must be FP32, not INT32"),
        ("wrong shape", post_json(&infer, &small(json!([1, 3, 2, 2]), "FP32", json!(vec![0.5; 12]))), 400, "this model takes [-1, 3, 224, 224]"),
        ("values for another shape", post_json(&infer, &small(json!([1, 3, 2, 2]), "FP32", json!(vec![0.5; 11]))), 400, "has 11 values but its shape holds 12"),
        ("unknown input", post_json(&infer, &json!({ "inputs": [{ "name": "x", "datatype": "FP32", "shape": [1], "data": [1] }] })), 400, "no input \"x\""),
        ("unknown model", post_json(&served.url("/v2/models/nope/infer"), &small(json!([1]), "FP32", json!([1]))), 404, "unknown model"),
        ("unknown version", get(&served.url("/v2/models/m/versions/V9")), 404, "unknown version"),
        ("huge body", request("POST", &infer, &[("Content-Type", "application/json")], Some(&vec![b' '; 800_000])), 413, "--max-body-bytes"),
        ("GET infer", get(&infer), 405, "POST"),
        ("no such endpoint", get(&served.url("/v3/nothing")), 404, "no such endpoint"),
        ("bad task request", post_json(&served.url("/api/models/m"), &json!({ "text": "x" })), 400, "not a PNG or JPEG"),
    ];
    for (what, a, status, needle) in &cases {
        assert_eq!(a.status, *status, "{what}: {}", a.text());
        assert!(a.content_type.starts_with("application/json"), "{what}: {}", a.content_type);
        let message = a.json()["error"].as_str().unwrap_or_else(|| panic!("{what}: no error field: {}", a.text())).to_owned();
        assert!(message.contains(needle), "{what}: {message:?} lacks {needle:?}");
    }
    // Still serving, and the errors were counted.
    assert_eq!(get(&served.url("/v2/health/live")).status, 200);
    let x = values(3 * 224 * 224, 2);
    let (body, head) = binary_infer(&x, 1, true);
    let a = post_binary(&infer, &body, head);
    assert_eq!(a.status, 200, "{}", a.text());
    let metrics = get(&served.url("/metrics")).text();
    assert!(metrics.contains("hub_requests_total{model=\"m\",endpoint=\"infer\",status=\"400\"} 5"), "{metrics}");
    assert!(metrics.contains("hub_requests_total{model=\"m\",endpoint=\"infer\",status=\"200\"} 1"), "{metrics}");
}

/// `(count, sum)` of the model's batch-size histogram in `/metrics`.
fn batch_counts(metrics: &str, model: &str) -> (f64, f64) {
    let find = |name: &str| {
        let prefix = format!("{name}{{model=\"{model}\"}} ");
        metrics.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.parse::<f64>().unwrap()).unwrap_or(0.0)
    };
    (find("hub_batch_size_count"), find("hub_batch_size_sum"))
}

#[test]
fn concurrent_requests_are_batched_and_a_full_queue_answers_503() {
    let fx = Fixture::new();
    let model = fx.loaded();
    // Batching: 8 clients at once, a batch waits up to 300 ms for rows.
    let served = fx.serve(&[&fx.repo, "--model", &fx.repo, "m", "--max-batch-size", "8", "--max-delay-ms", "300"]);
    served.wait_ready();
    let url = served.url("/v2/models/m/infer");
    let inputs: Vec<Vec<f32>> = (0..8).map(|i| values(3 * 224 * 224, 10 + i)).collect();
    let answers: Vec<Vec<f32>> = std::thread::scope(|s| {
        let handles: Vec<_> = inputs
            .iter()
            .map(|x| {
                let url = &url;
                s.spawn(move || {
                    let (body, head) = binary_infer(x, 1, true);
                    let a = post_binary(url, &body, head);
                    assert_eq!(a.status, 200, "{}", a.text());
                    binary_logits(&a).1
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Each client got its own row's logits.
    for (x, got) in inputs.iter().zip(&answers) {
        assert_close(got, &forward(&model, x, 1), "batched logits");
    }
    let metrics = get(&served.url("/metrics")).text();
    let (batches, rows) = batch_counts(&metrics, "m");
    // The warm-up forward at load is not a batch; the 8 rows ran in fewer than 8 batches.
    assert_eq!(rows, 8.0, "{metrics}");
    assert!(batches < rows, "no batching: {batches} batches for {rows} rows\n{metrics}");
    for needle in ["hub_queue_depth{model=\"m\",version=\"W\"} 0", "hub_model_load_seconds{model=\"m\"}", "hub_request_duration_seconds_bucket{endpoint=\"infer\",le=\"+Inf\"} 8", "hub_models_loaded 1"] {
        assert!(metrics.contains(needle), "missing {needle:?} in\n{metrics}");
    }
    drop(served);

    // A queue of one, batches of one: of 16 clients at once, some are turned away with a 503.
    let served = fx.serve(&[&fx.repo, "--model", &fx.repo, "m", "--max-batch-size", "1", "--queue-size", "1", "--max-delay-ms", "0"]);
    served.wait_ready();
    let url = served.url("/v2/models/m/infer");
    let x = values(3 * 224 * 224, 3);
    let (body, head) = binary_infer(&x, 1, false);
    let statuses: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16).map(|_| s.spawn(|| post_binary(&url, &body, head))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).map(|a| (a.status, a.text())).collect()
    });
    let full: Vec<&(u16, String)> = statuses.iter().filter(|(s, _)| *s == 503).collect();
    let served_ok = statuses.iter().filter(|(s, _)| *s == 200).count();
    assert!(!full.is_empty() && served_ok > 0 && full.len() + served_ok == 16, "{statuses:?}");
    let e: Value = serde_json::from_str(&full[0].1).unwrap();
    assert!(e["error"].as_str().unwrap().contains("queue of this model is full"), "{e}");
    let metrics = get(&served.url("/metrics")).text();
    assert!(metrics.contains(&format!("hub_requests_total{{model=\"m\",endpoint=\"infer\",status=\"503\"}} {}", full.len())), "{metrics}");
    // And it keeps serving.
    assert_eq!(post_binary(&url, &body, head).status, 200);
}

fn write_png(path: &Path) {
    image::RgbImage::from_fn(80, 60, |x, y| image::Rgb([(x * 3) as u8, (y * 4) as u8, ((x + y) * 2) as u8])).save(path).unwrap();
}

fn multipart(file: &str, bytes: &[u8]) -> (Vec<u8>, String) {
    let boundary = "hubtestboundary7d1";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{file}\"\r\nContent-Type: image/png\r\n\r\n").into_bytes();
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

#[test]
fn the_classification_endpoint_answers_what_hub_run_json_prints() {
    let fx = Fixture::new();
    let png = fx.cwd.path().join("x.png");
    write_png(&png);
    let out = fx.hub(&["run", &fx.repo, "m", "--image", png.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut want: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The model loads on first use (no --model).
    let served = fx.serve(&[&fx.repo]);
    let bytes = std::fs::read(&png).unwrap();
    let raw = request("POST", &served.url("/api/models/m?name=x.png"), &[("Content-Type", "image/png")], Some(&bytes));
    assert_eq!(raw.status, 200, "{}", raw.text());
    let (body, content_type) = multipart("x.png", &bytes);
    let form = request("POST", &served.url("/api/models/m"), &[("Content-Type", &content_type)], Some(&body));
    assert_eq!(form.status, 200, "{}", form.text());
    // `hub run` names the image by its path, the server by the uploaded file's name.
    want["results"][0]["input"] = json!("x.png");
    for got in [raw.json(), form.json()] {
        assert_eq!(got, want, "the server's report differs from hub run --json");
    }
    assert_eq!(get(&served.url("/api/models/m?top_k=0")).status, 405);
    let zero = request("POST", &served.url("/api/models/m?top_k=0"), &[("Content-Type", "image/png")], Some(&bytes));
    assert_eq!(zero.status, 400, "{}", zero.text());
    let listing = get(&served.url("/api/models")).json();
    let m = listing["models"].as_array().unwrap().iter().find(|e| e["model"] == "m").unwrap().clone();
    assert_eq!((&m["task"], &m["loaded"], &m["cached"]), (&json!("image-classification"), &json!(true), &json!(true)), "{m}");
}

#[test]
fn the_gallery_lists_filters_shows_a_model_and_runs_its_demo() {
    let fx = Fixture::new();
    let served = fx.serve(&[&fx.repo, "pytorch/vision"]);
    let index = get(&served.url("/"));
    assert_eq!(index.status, 200);
    assert!(index.content_type.starts_with("text/html"), "{}", index.content_type);
    let html = index.text();
    for needle in ["href=\"/models/m\"", "href=\"/models/pytorch/vision/resnet50\"", "<form class=\"filter\"", "<option>image-classification</option>"] {
        assert!(html.contains(needle), "index lacks {needle:?}");
    }
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://cdn"), "the gallery loads nothing from elsewhere");
    // Search and filters narrow it down on the server.
    let html = get(&served.url("/?q=resnet5&task=image-classification")).text();
    assert!(html.contains("/models/pytorch/vision/resnet50\"") && !html.contains("href=\"/models/m\"") && !html.contains("resnet18\""), "{html}");
    let html = get(&served.url("/?task=semantic-segmentation")).text();
    assert!(html.contains("deeplabv3") && !html.contains("/models/pytorch/vision/resnet50\""));
    let html = get(&served.url("/?cached=on")).text();
    assert!(html.contains("0 of "), "nothing is cached yet");

    // A model page: facts, docs, weights, preprocessing, snippets, a demo form.
    let page = get(&served.url("/models/pytorch/vision/resnet50"));
    assert_eq!(page.status, 200);
    let html = page.text();
    for needle in [
        "IMAGENET1K_V2",
        "acc@1 80.858",
        "resize shorter side to 232",
        "hub run pytorch/vision resnet50 --image photo.jpg",
        "load(\"pytorch/vision\", \"resnet50\", LoadOptions::default())?;",
        "enctype=\"multipart/form-data\"",
        "arxiv.org/abs/1512.03385",
    ] {
        assert!(html.contains(needle), "resnet50's page lacks {needle:?}");
    }
    assert_eq!(get(&served.url("/models/nothing-here")).status, 404);

    // The classification demo: upload, top-5 with bars, the same labels as the task endpoint.
    let png = fx.cwd.path().join("x.png");
    write_png(&png);
    let bytes = std::fs::read(&png).unwrap();
    let (body, content_type) = multipart("x.png", &bytes);
    let demo = request("POST", &served.url("/demo/m"), &[("Content-Type", &content_type)], Some(&body));
    assert_eq!(demo.status, 200, "{}", demo.text());
    let html = demo.text();
    let report = request("POST", &served.url("/api/models/m"), &[("Content-Type", "image/png")], Some(&bytes)).json();
    let labels: Vec<&str> = report["results"][0]["top_k"].as_array().unwrap().iter().map(|p| p["label"].as_str().unwrap()).collect();
    assert_eq!(html.matches("class=\"label\"").count(), 5);
    for label in labels {
        assert!(html.contains(&format!("<td class=\"label\">{label}</td>")), "demo lacks {label:?}");
    }
    assert!(html.contains("class=\"bar\""));
}

#[cfg(unix)]
#[test]
fn sigterm_finishes_and_exits_cleanly() {
    let fx = Fixture::new();
    let mut served = fx.serve(&[&fx.repo]);
    assert_eq!(get(&served.url("/v2/health/live")).status, 200);
    let pid = served.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = served.child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "still running 30 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    std::thread::sleep(Duration::from_millis(200));
    let log = served.log();
    assert!(log.contains("\"signal\":\"SIGTERM\"") && log.contains("\"msg\":\"shutdown\""), "{log}");
    // Every log line is one JSON object.
    for line in log.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["ts"].is_number() && v["level"].is_string() && v["msg"].is_string(), "{line}");
    }
}

/// `target/golden/text`, or `None` (with a message) when `cargo xtask golden` has not run.
fn golden_text() -> Option<PathBuf> {
    let dir = workspace().join("target/golden/text");
    if dir.join("bert_tiny_mlm/fill_mask.json").is_file() && dir.join("minilm/sentences.json").is_file() && dir.join("gpt2/config.json").is_file() {
        return Some(dir);
    }
    assert!(std::env::var("HUB_REQUIRE_GOLDEN").is_err(), "HUB_REQUIRE_GOLDEN is set but {} is missing: run `cargo xtask golden`", dir.display());
    eprintln!("SKIPPED: {} is missing; run `cargo xtask golden` first", dir.display());
    None
}

#[test]
fn text_models_over_the_protocol_and_task_endpoints_match_hub_run() {
    let Some(golden) = golden_text() else { return };
    let server = Server::start();
    // BERT-tiny (fill-mask) and all-MiniLM-L6-v2 (embeddings) under their test names, and a
    // random GPT-2 with a byte-level BPE, all at Hugging Face-style URLs on the mirror.
    for (dir, files) in [("bert_tiny_mlm", &["model.safetensors", "config.json", "tokenizer.json"][..]), ("minilm", &["model.safetensors", "config.json", "tokenizer.json"][..])] {
        for f in files {
            server.route(&format!("/hub-tests/{dir}/resolve/main/{f}"), std::fs::read(golden.join(dir).join(f)).unwrap(), Behaviour::Ok);
        }
    }
    for f in std::fs::read_dir(golden.join("gpt2")).unwrap() {
        let f = f.unwrap();
        server.route(&format!("/hub-tests/gpt2/resolve/main/{}", f.file_name().to_str().unwrap()), std::fs::read(f.path()).unwrap(), Behaviour::Ok);
    }
    for f in ["vocab.json", "merges.txt"] {
        server.route(&format!("/hub-tests/gpt2/resolve/main/{f}"), std::fs::read(golden.join("tokenizers/bpe").join(f)).unwrap(), Behaviour::Ok);
    }
    let mirrors = format!("https://huggingface.co/={}", server.url("/"));
    let home = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let repo = "huggingface/pytorch-transformers";
    let hub_run = |args: &[&str]| -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_hub")).args(args).current_dir(cwd.path()).env("HUB_HOME", home.path()).env("HUB_MIRRORS", &mirrors).env_remove("HUB_OFFLINE").output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let served = Served::start(
        home.path(),
        cwd.path(),
        &mirrors,
        &["--model", repo, "modelForMaskedLM:hub-tests/bert_tiny_mlm", "--model", repo, "model:hub-tests/minilm", "--model", repo, "modelForCausalLM:hub-tests/gpt2"],
    );
    served.wait_ready();

    // Fill-mask: the task endpoint's document is hub run --json's.
    let text = "paris is the [MASK] of france.";
    let want = hub_run(&["run", repo, "modelForMaskedLM", "hub-tests/bert_tiny_mlm", "--text", text, "--json"]);
    let got = post_json(&served.url("/api/models/modelForMaskedLM"), &json!({ "text": text }));
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.json(), want);
    // ... and over the protocol: BYTES in, [texts, masks, k] tokens out.
    let a = post_json(
        &served.url("/v2/models/modelForMaskedLM/infer"),
        &json!({ "inputs": [{ "name": "text", "datatype": "BYTES", "shape": [1], "data": [text] }], "parameters": { "top_k": 5 } }),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let v = a.json();
    let tokens = v["outputs"].as_array().unwrap().iter().find(|o| o["name"] == "token").unwrap();
    assert_eq!(tokens["shape"], json!([1, 1, 5]));
    let want_tokens: Vec<Value> = want["results"][0]["masks"][0].as_array().unwrap().iter().map(|p| p["token"].clone()).collect();
    assert_eq!(tokens["data"], json!(want_tokens));
    // A version with a slash: the model id given to --model.
    let meta = get(&served.url("/v2/models/modelForMaskedLM/versions/hub-tests/bert_tiny_mlm"));
    assert_eq!(meta.status, 200, "{}", meta.text());
    assert_eq!(meta.json()["versions"], json!(["hub-tests/bert_tiny_mlm"]));

    // Embeddings.
    let (a, b) = ("A man is eating food.", "Someone is eating.");
    let want = hub_run(&["run", repo, "model", "hub-tests/minilm", "--text", a, b, "--json"]);
    let got = post_json(&served.url("/api/models/model"), &json!({ "text": [a, b] })).json();
    assert_eq!(got, want);
    let v = post_json(&served.url("/v2/models/model/infer"), &json!({ "inputs": [{ "name": "text", "datatype": "BYTES", "shape": [2], "data": [a, b] }] })).json();
    assert_eq!(v["outputs"][0]["shape"], json!([2, want["dim"]]), "{v}");

    // Text generation, one prompt and a batch.
    let want = hub_run(&["run", repo, "modelForCausalLM", "hub-tests/gpt2", "--prompt", "hello world", "--max-new-tokens", "5", "--json"]);
    let got = post_json(&served.url("/api/models/modelForCausalLM"), &json!({ "prompt": "hello world", "max_new_tokens": 5 })).json();
    assert_eq!(got, want);
    let want = hub_run(&["run", repo, "modelForCausalLM", "hub-tests/gpt2", "--prompt", "hello world", "the", "--max-new-tokens", "4", "--json"]);
    let got = post_json(&served.url("/api/models/modelForCausalLM"), &json!({ "prompt": ["hello world", "the"], "max_new_tokens": 4 })).json();
    assert_eq!(got, want);
    let v = post_json(
        &served.url("/v2/models/modelForCausalLM/infer"),
        &json!({ "inputs": [{ "name": "text", "datatype": "BYTES", "shape": [2], "data": ["hello world", "the"] }], "parameters": { "max_new_tokens": 4 } }),
    )
    .json();
    let generated: Vec<Value> = want["results"].as_array().unwrap().iter().map(|r| r["generated"].clone()).collect();
    assert_eq!(v["outputs"][0]["data"], json!(generated), "{v}");

    // A text demo in the gallery.
    let html = get(&served.url("/demo/modelForMaskedLM?text=paris+is+the+%5BMASK%5D+of+france.")).text();
    assert!(html.contains("[MASK] #1") && html.contains(want_tokens[0].as_str().unwrap()), "{html}");

    // The real Triton client sends BYTES (binary) and reads the tokens back.
    if let Some(python) = triton_python() {
        let script = "import json, sys\nimport numpy as np\nimport tritonclient.http as http\n\
                      c = http.InferenceServerClient(url=sys.argv[1])\n\
                      i = http.InferInput('text', [1], 'BYTES')\ni.set_data_from_numpy(np.array([sys.argv[2].encode()], dtype=object))\n\
                      r = c.infer('modelForMaskedLM', [i], outputs=[http.InferRequestedOutput('token')])\n\
                      print(json.dumps([t.decode() for t in r.as_numpy('token').reshape(-1)]))\n";
        let out = Command::new(&python).args(["-c", script, served.base.trim_start_matches("http://"), text]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got, json!(want_tokens), "tritonclient's tokens");
    }
}

/// A Python with `tritonclient[http]`: `HUB_TRITON_PYTHON`, else `target/triton-venv`, else the
/// golden venv, if its `import tritonclient.http` works.
fn triton_python() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = std::env::var_os("HUB_TRITON_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain(["target/triton-venv/bin/python", "target/golden-venv/bin/python"].map(|p| workspace().join(p)))
        .collect();
    let found = candidates.into_iter().find(|p| p.is_file() && Command::new(p).args(["-c", "import tritonclient.http, numpy"]).output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        eprintln!("SKIPPED: no Python with tritonclient[http] (set HUB_TRITON_PYTHON, or: python3 -m venv target/triton-venv && target/triton-venv/bin/pip install 'tritonclient[http]')");
    }
    found
}

const TRITON_CLIENT: &str = r#"
import json, sys
import numpy as np
import tritonclient.http as http

url, name, xfile, outdir = sys.argv[1:5]
c = http.InferenceServerClient(url=url)
assert c.is_server_live() and c.is_server_ready()
assert c.is_model_ready(name)
meta = c.get_model_metadata(name)
x = np.fromfile(xfile, dtype=np.float32).reshape(2, 3, 224, 224)
for binary in (True, False):
    inp = http.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x, binary_data=binary)
    r = c.infer(name, [inp], outputs=[http.InferRequestedOutput("logits", binary_data=binary)])
    r.as_numpy("logits").astype(np.float32).tofile(f"{outdir}/logits_{int(binary)}.f32")
r = c.infer(name, [inp], outputs=[http.InferRequestedOutput("logits", binary_data=True, class_count=3)])
classes = [[v.decode() for v in row] for row in r.as_numpy("logits")]
print(json.dumps({"metadata": meta, "classes": classes}))
"#;

#[test]
fn the_real_triton_client_reads_metadata_and_infers() {
    let Some(python) = triton_python() else { return };
    let fx = Fixture::new();
    let served = fx.serve(&[&fx.repo, "--model", &fx.repo, "m"]);
    served.wait_ready();
    let x = values(2 * 3 * 224 * 224, 7);
    let want = forward(&fx.loaded(), &x, 2);
    let dir = fx.cwd.path();
    let xfile = dir.join("x.f32");
    std::fs::write(&xfile, x.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
    let script = dir.join("client.py");
    std::fs::write(&script, TRITON_CLIENT).unwrap();
    let host = served.base.trim_start_matches("http://").to_owned();
    // The default repo's name, and the REPO/ENTRY name with its slashes as tritonclient sends them.
    for name in ["m".to_owned(), format!("{}/m", fx.repo)] {
        let out = Command::new(&python).arg(&script).args([&host, &name, xfile.to_str().unwrap(), dir.to_str().unwrap()]).output().unwrap();
        assert!(out.status.success(), "{name}: {}\nserver log:\n{}", String::from_utf8_lossy(&out.stderr), served.log());
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["metadata"]["inputs"][0]["shape"], json!([-1, 3, 224, 224]), "{v}");
        for binary in [1, 0] {
            let bytes = std::fs::read(dir.join(format!("logits_{binary}.f32"))).unwrap();
            let got: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            assert_close(&got, &want, &format!("tritonclient logits (binary {binary})"));
        }
        let best = want[..1000].iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        let top = v["classes"][0][0].as_str().unwrap();
        assert_eq!(top.split(':').nth(1), Some(best.to_string().as_str()), "{v}");
    }
}
