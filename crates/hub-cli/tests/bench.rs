//! `hub bench` as a user's CI runs it: the real binary, offline, on randomly initialised models.
//! No assertion depends on how fast this machine is: comparisons use allowed regressions far
//! beyond any noise, against baselines edited by factors of 1000.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct Env {
    home: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env { home: tempfile::tempdir().unwrap() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    fn hub(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_hub"))
            .args(args)
            .current_dir(self.home.path())
            .env("HUB_HOME", self.home.path().join("cache"))
            .env("HUB_OFFLINE", "1")
            .env("TORCH_HOME", self.home.path().join("no-torch"))
            .env_remove("HUB_MIRRORS")
            .env_remove("HUB_NUM_THREADS")
            .output()
            .unwrap()
    }

    /// `hub bench` of SqueezeNet 1.1 with random weights, one thread, two timed calls.
    fn bench(&self, extra: &[&str]) -> Output {
        let mut args = vec!["bench", "pytorch/vision", "squeezenet1_1", "--random-init", "--threads", "1", "--warmup", "0", "--iters", "2"];
        args.extend_from_slice(extra);
        self.hub(&args)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status.code(), text(&o.stdout), text(&o.stderr));
    o
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o.stdout)))
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

/// The report at `from` with `edit` applied, written to `to`.
fn edited(from: &Path, to: &Path, edit: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(from).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(to, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

#[test]
fn json_report_has_every_scenario_the_environment_and_memory() {
    let env = Env::new();
    let out = env.path("report.json");
    let o = ok(env.bench(&["--batch", "1,2", "--scenario", "single-stream,offline,server", "--qps", "1000", "--latency-bound", "1s", "--json", "--out", out.to_str().unwrap()]));
    let v = json(&o);
    assert_eq!(v["schema"], "hub-bench/1");
    assert_eq!(v["model"]["entry"], "squeezenet1_1");
    assert_eq!(v["model"]["repo"], "pytorch/vision");
    assert_eq!(v["model"]["weights"], Value::Null);
    assert_eq!(v["model"]["task"], "image-classification");
    assert!(v["model"]["input"].as_str().unwrap().contains("[batch, 3, 224, 224]"), "{}", v["model"]);
    let e = &v["environment"];
    assert_eq!((e["threads"].as_u64(), e["device"].as_str(), e["backend"].as_str()), (Some(1), Some("cpu"), Some("flex")));
    assert!(e["kernel_path"].as_str().unwrap().starts_with("hub-kernels "), "{e}");
    assert_eq!(e["burn_version"], "0.21.0");
    assert_eq!(e["hub_version"], env!("CARGO_PKG_VERSION"));
    if cfg!(target_os = "linux") {
        assert!(e["cpu_model"].is_string(), "{e}");
        assert!(v["peak_rss_bytes"].as_u64().unwrap() > 1 << 20);
    }
    let s = &v["single_stream"];
    assert_eq!(s["count"], 2);
    let (p50, p99, max) = (s["p50_ms"].as_f64().unwrap(), s["p99_ms"].as_f64().unwrap(), s["max_ms"].as_f64().unwrap());
    assert!(p50 > 0.0 && p50 <= p99 && p99 <= max, "{s}");
    let batches: Vec<u64> = v["offline"].as_array().unwrap().iter().map(|o| o["batch"].as_u64().unwrap()).collect();
    assert_eq!(batches, [1, 2]);
    assert!(v["offline"].as_array().unwrap().iter().all(|o| o["throughput_per_s"].as_f64().unwrap() > 0.0 && o["calls"] == 2));
    let server = &v["server"];
    assert_eq!((server["qps"].as_f64(), server["latency"]["count"].as_u64(), server["latency_bound_ms"].as_f64()), (Some(1000.0), Some(2), Some(1000.0)));
    let share = server["over_bound_fraction"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&share));
    assert_eq!(v["load"]["source"], "random-init");
    assert_eq!(v["load"]["warm_ms"], Value::Null);
    assert!(v["load"]["cold_ms"].as_f64().unwrap() > 0.0 && v["first_call_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(v["settings"]["iters"], 2);
    assert_eq!(v["settings"]["scenarios"], serde_json::json!(["single-stream", "offline", "server"]));
    assert!(v.get("comparison").is_none());
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written, v, "--out writes the document --json prints");
    assert!(text(&o.stderr).is_empty(), "no progress bar off a terminal: {}", text(&o.stderr));
}

#[test]
fn text_report_is_a_table() {
    let env = Env::new();
    let o = ok(env.bench(&["--batch", "2"]));
    let t = text(&o.stdout);
    for needle in ["squeezenet1_1 (pytorch/vision, random init)", "SCENARIO", "single-stream", "offline", "P99 MS", "peak RSS", "1 threads on cpu"] {
        assert!(t.contains(needle), "missing {needle:?} in:\n{t}");
    }
    assert!(!t.contains("server"), "no server scenario without --qps:\n{t}");
}

#[test]
fn baselines_pass_against_themselves_and_fail_against_a_1000x_faster_or_another_setup() {
    let env = Env::new();
    let base = env.path("base.json");
    let base_arg = base.to_str().unwrap();
    ok(env.bench(&["--batch", "2", "--out", base_arg]));
    // Against its own report: only a run 50 times slower than the first would fail.
    let o = ok(env.bench(&["--batch", "2", "--baseline", base_arg, "--max-regression", "5000%", "--json"]));
    let figures = json(&o)["comparison"]["figures"].as_array().unwrap().clone();
    let names: Vec<&str> = figures.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"single_stream.p99_ms") && names.contains(&"offline[batch=2].throughput_per_s"), "{names:?}");
    assert!(figures.iter().all(|f| f["regressed"] == false));

    // A baseline 1000 times faster: every latency a thousandth, every throughput 1000 times.
    let fast = env.path("fast.json");
    edited(&base, &fast, |v| {
        for key in ["p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms"] {
            v["single_stream"][key] = (v["single_stream"][key].as_f64().unwrap() / 1000.0).into();
        }
        for o in v["offline"].as_array_mut().unwrap() {
            o["throughput_per_s"] = (o["throughput_per_s"].as_f64().unwrap() * 1000.0).into();
        }
    });
    let o = env.bench(&["--batch", "2", "--baseline", fast.to_str().unwrap(), "--max-regression", "5000%"]);
    assert_eq!(code(&o), Some(8), "stdout:\n{}\nstderr:\n{}", text(&o.stdout), text(&o.stderr));
    let (stdout, stderr) = (text(&o.stdout), text(&o.stderr));
    assert!(stdout.contains("REGRESSED") && stdout.contains("BASELINE") && stdout.contains("single_stream.p50_ms"), "{stdout}");
    assert!(stderr.contains("regression against") && stderr.contains("fast.json"), "{stderr}");

    // Another thread count: not comparable, nothing compared.
    let other = env.path("threads.json");
    edited(&base, &other, |v| v["environment"]["threads"] = 7.into());
    let o = env.bench(&["--batch", "2", "--baseline", other.to_str().unwrap()]);
    assert_eq!(code(&o), Some(9), "stderr:\n{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert!(stderr.contains("warning: not comparable with") && stderr.contains("threads: 7 in the baseline, 1 now"), "{stderr}");
    assert!(!text(&o.stdout).contains("REGRESSED"));
}

#[test]
fn a_truncated_or_missing_baseline_is_an_error_naming_the_file() {
    let env = Env::new();
    let bad = env.path("truncated.json");
    std::fs::write(&bad, "{\"schema\": \"hub-bench/1\", \"model\": {\"repo\": ").unwrap();
    let o = env.bench(&["--baseline", bad.to_str().unwrap()]);
    assert_eq!(code(&o), Some(2));
    let stderr = text(&o.stderr);
    assert!(stderr.contains("the baseline") && stderr.contains("truncated.json") && stderr.contains("is not a hub-bench/1 report"), "{stderr}");
    assert!(o.stdout.is_empty(), "it fails before measuring");
    let o = env.bench(&["--baseline", env.path("nowhere.json").to_str().unwrap()]);
    assert_eq!(code(&o), Some(3));
    assert!(text(&o.stderr).contains("nowhere.json"), "{}", text(&o.stderr));
}

#[test]
fn bad_flags_are_usage_errors() {
    let env = Env::new();
    let o = env.bench(&["--scenario", "server"]);
    assert_eq!(code(&o), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("--scenario server needs --qps"), "{}", text(&o.stderr));
    for args in [&["--time", "10 parsecs"][..], &["--max-regression", "-3%"], &["--batch", "0"]] {
        let o = env.hub(&[&["bench", "pytorch/vision", "squeezenet1_1", "--random-init"][..], args].concat());
        assert_eq!(code(&o), Some(2), "{args:?}: {}", text(&o.stderr));
    }
}

#[test]
fn other_tasks_bench_or_say_why_not() {
    let env = Env::new();
    // A GAN: batches of images from a seed.
    let o = ok(env.hub(&["bench", "facebookresearch/pytorch_GAN_zoo:hub", "DCGAN", "--random-init", "--threads", "1", "--iters", "1", "--warmup", "0", "--batch", "2", "--json"]));
    let v = json(&o);
    assert_eq!(v["model"]["task"], "image-generation");
    assert_eq!(v["offline"][0]["batch"], 2);
    // Segmentation: a batch of the resize size.
    let o = ok(env.hub(&["bench", "pytorch/vision", "lraspp_mobilenet_v3_large", "--random-init", "--threads", "1", "--iters", "1", "--warmup", "0", "--scenario", "single-stream", "--json"]));
    let v = json(&o);
    assert_eq!(v["model"]["task"], "semantic-segmentation");
    assert!(v["model"]["input"].as_str().unwrap().contains("520, 520"), "{}", v["model"]);
    // Speech synthesis is not benchmarked, and says so.
    let o = env.hub(&["bench", "NVIDIA/DeepLearningExamples:torchhub", "nvidia_tacotron2", "--random-init", "--iters", "1"]);
    assert_eq!(code(&o), Some(1));
    assert!(text(&o.stderr).contains("hub bench does not measure speech"), "{}", text(&o.stderr));
}
