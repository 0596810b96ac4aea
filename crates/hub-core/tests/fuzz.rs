//! Randomised tests (stable Rust, no extra crates): the manifest parser, repo specs, model ids,
//! zip extraction and the HTTP client against a hostile loopback server get random and mutated
//! inputs for a bounded time each. They must never panic, hang or write outside their
//! directory, and what they accept must round-trip.
//!
//! Each target runs for `HUB_FUZZ_MS` milliseconds (default 1500) or `HUB_FUZZ_CASES` cases,
//! whichever ends first; the seed is printed and can be replayed with `HUB_FUZZ_SEED`.

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use hub_core::model_ids::ModelRef;
use hub_core::{Artifact, Hub, HubOptions, Manifest, RepoSpec};
use support::{Behaviour, Server};

/// xorshift64*: small, deterministic, good enough to explore inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Runs `case` with fresh random generators until the time or case budget is spent; a panic
/// fails the test with the seed and case number that reproduce it.
fn run(target: &str, mut case: impl FnMut(&mut Rng)) -> u64 {
    let ms = std::env::var("HUB_FUZZ_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(1500);
    let max_cases: u64 = std::env::var("HUB_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
    let seed: u64 = std::env::var("HUB_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
    });
    eprintln!("{target}: HUB_FUZZ_SEED={seed}");
    let deadline = Instant::now() + Duration::from_millis(ms);
    let mut n = 0;
    while n < max_cases && Instant::now() < deadline {
        let mut rng = Rng((seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1);
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| case(&mut rng))) {
            let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            panic!("{target}: case {n} of HUB_FUZZ_SEED={seed} panicked: {msg}");
        }
        n += 1;
    }
    assert!(n > 0, "{target}: no case ran");
    n
}

const MANIFEST: &str = r#"format = 1
name = "fuzz/models"
dependencies = ["resnet"]
[entrypoints.resnet50]
architecture = "resnet50"
task = "image-classification"
aliases = ["r50"]
config = { num_classes = 1000 }
default_weights = "V1"
preprocessing = { kind = "image-classification", resize = 256, crop = 224, interpolation = "bilinear", mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225] }
[entrypoints.resnet50.weights.V1]
url = "https://download.pytorch.org/models/resnet50-0676ba61.pth"
mirrors = ["http://127.0.0.1:1/resnet50-0676ba61.pth"]
size = 102530333
metrics = { "acc@1" = 76.13 }
[entrypoints.resnet50.weights.V1.files."config.json"]
url = "https://x/config.json"
[entrypoints.bert.model_ids]
url = "https://huggingface.co/{id}/resolve/{revision}/{file}"
weights = ["model.safetensors"]
files = ["config.json"]
[entrypoints.bert]
architecture = "bert"
task = "fill-mask"
"#;

const TOKENS: &[&str] = &[
    "=", "\"", "'", "[", "]", "{", "}", ",", "\n", ".", "#", "\\", "\"\"\"", "1e308", "-1", "18446744073709551616", "nan", "inf", "true",
    "format", "url", "file:///etc/passwd", "file://../x", "data:,x", "[entrypoints.x]", "[[a]]", "\u{0}", "é", "\u{202e}", "size",
    "sha256", "weights", "model_ids", "{id}", "default_weights", "DEFAULT", "..", "/",
];

fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut s = src.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(s.len() + 1);
        match rng.below(5) {
            0 if !s.is_empty() => {
                let end = (at + rng.below(40)).min(s.len());
                s.drain(at.min(end)..end);
            }
            1 => s.splice(at..at, rng.pick(TOKENS).bytes()).for_each(drop),
            2 if at < s.len() => s[at] = rng.next() as u8,
            3 => {
                let piece = s[at.min(s.len())..(at + rng.below(80)).min(s.len())].to_vec();
                let to = rng.below(s.len() + 1);
                s.splice(to..to, piece);
            }
            _ => s.truncate(at),
        }
    }
    s
}

#[test]
fn manifest_parser_never_panics_and_round_trips() {
    Manifest::parse(MANIFEST, "seed.toml").expect("the seed manifest is valid");
    let mut accepted = 0;
    let n = run("manifest", |rng| {
        let bytes = mutate(rng, MANIFEST.as_bytes());
        let src = String::from_utf8_lossy(&bytes);
        match Manifest::parse(&src, "fuzz.toml") {
            Ok(m) => {
                accepted += 1;
                let again = Manifest::parse(&m.to_toml(), "again.toml").expect("a parsed manifest serialises to a valid one");
                assert_eq!(again, m);
            }
            Err(e) => assert!(e.to_string().starts_with("fuzz.toml:"), "{e}"),
        }
    });
    eprintln!("manifest: {n} cases, {accepted} accepted");
}

const SPEC_PARTS: &[&str] = &[
    "a", "b", "owner", "repo", "-", "_", ".", "..", "/", ":", "@", "~", "^", "refs/heads/", "refs/tags/", "http://", "https://", "file://",
    "ftp://", " ", "\t", "0123456789abcdef0123456789abcdef01234567", ".git", ".lock", "{", "\\", "C:", "%2F", "é", "\u{0}", "//",
];

#[test]
fn repo_specs_and_model_ids_never_panic_and_round_trip() {
    run("specs", |rng| {
        let s: String = (0..rng.below(8)).map(|_| *rng.pick(SPEC_PARTS)).collect();
        if let Ok(spec) = s.parse::<RepoSpec>() {
            let shown = spec.to_string();
            assert_eq!(shown.parse::<RepoSpec>().unwrap_or_else(|e| panic!("{s:?} → {shown:?}: {e}")), spec, "{s:?}");
            let dir = spec.cache_dir_name();
            assert!(!dir.is_empty() && !dir.contains('/') && dir != "." && dir != "..", "{s:?} → {dir:?}");
        }
        if let Ok(m) = s.parse::<ModelRef>() {
            assert_eq!(m.to_string().parse::<ModelRef>().unwrap(), m, "{s:?}");
            assert!(!m.id.split('/').any(|p| p == ".." || p.is_empty()), "{s:?}");
        }
    });
}

fn random_zip(rng: &mut Rng) -> Vec<u8> {
    use std::io::Write;
    let names = ["x/hubconf.toml", "x/a/b.txt", "x/", "x/../evil", "/abs", "x/a\\..\\b", "C:/x", "x/\u{0}", "x/ok", "y/z", "x/a/"];
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for _ in 0..rng.below(6) {
        let name = *rng.pick(&names);
        let method = if rng.below(2) == 0 { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        if name.ends_with('/') {
            let _ = w.add_directory(name, opts);
        } else if w.start_file(name, opts).is_ok() {
            let data = if rng.below(3) == 0 { vec![0u8; rng.below(1 << 20)] } else { let n = rng.below(300); rng.bytes(n) };
            let _ = w.write_all(&data);
        }
    }
    let mut bytes = w.finish().map(|c| c.into_inner()).unwrap_or_default();
    if rng.below(2) == 0 && !bytes.is_empty() {
        bytes = mutate(rng, &bytes);
    }
    bytes
}

#[test]
fn zip_extraction_never_panics_or_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let mut limits = hub_core::Limits::default();
    limits.max_repo_bytes = 512 << 10;
    limits.max_repo_entries = 4;
    let mut i = 0u64;
    run("zip", |rng| {
        i += 1;
        let archive = dir.path().join(format!("{i}.zip"));
        std::fs::write(&archive, random_zip(rng)).unwrap();
        let dest = dir.path().join(format!("out{i}"));
        match hub_core::archive::extract_zip_within(&archive, &dest, &limits) {
            Ok(_) => {
                fn size(p: &std::path::Path) -> u64 {
                    std::fs::read_dir(p).unwrap().flatten().map(|e| if e.path().is_dir() { size(&e.path()) } else { e.metadata().unwrap().len() }).sum()
                }
                assert!(size(&dest) <= limits.max_repo_bytes);
                let _ = std::fs::remove_dir_all(&dest);
            }
            Err(_) => assert!(!dest.exists(), "a rejected archive leaves nothing"),
        }
        let _ = std::fs::remove_file(&archive);
        // Nothing was written next to the extraction directories.
        for e in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(name.starts_with("out") || name.ends_with(".zip"), "{name} written outside");
        }
    });
}

#[test]
fn http_client_survives_a_hostile_server() {
    let server = Server::start();
    let root = tempfile::tempdir().unwrap();
    let mut o = HubOptions::with_root(root.path());
    o.retries = 0;
    o.connect_timeout = Duration::from_secs(2);
    o.read_timeout = Duration::from_millis(300);
    o.torch_checkpoints = None;
    o.limits.max_download_bytes = 256 << 10;
    o.limits.max_manifest_bytes = 64 << 10;
    o.limits.download_deadline = Duration::from_secs(2);
    let hub = Hub::new(o).unwrap();
    let statuses = ["200 OK", "206 Partial", "301 Moved", "302 Found", "307 T", "308 P", "404 N", "416 R", "500 E", "999 X", "abc", "", "200"];
    let headers = [
        "Content-Length: 5", "Content-Length: -1", "Content-Length: 99999999999999999999", "Content-Length: 0", "Location: file:///etc/passwd",
        "Location: data:,x", "Location: /r0", "Location: http://", "Location: //127.0.0.1:1/x", "Location: \u{1}", "Content-Range: bytes 9-3/2",
        "Transfer-Encoding: chunked", "Content-Encoding: gzip", "Connection: close", "X: \u{7f}",
    ];
    let mut i = 0u64;
    let n = run("http", |rng| {
        i += 1;
        let mut raw = format!("HTTP/1.1 {}\r\n", rng.pick(&statuses)).into_bytes();
        for _ in 0..rng.below(4) {
            raw.extend_from_slice(rng.pick(&headers).as_bytes());
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"\r\n");
        let body_len = rng.below(2000);
        raw.extend(rng.bytes(body_len));
        if rng.below(4) == 0 {
            raw = mutate(rng, &raw);
        }
        let path = format!("/r{i}");
        server.route(&format!("{path}/hubconf.toml"), Vec::new(), Behaviour::Raw(raw.clone()));
        server.route(&path, Vec::new(), Behaviour::Raw(raw));
        let started = Instant::now();
        let a = Artifact::new(server.url(&path));
        let a = if rng.below(2) == 0 { a.with_size(rng.below(3000) as u64) } else { a };
        let _ = hub.fetch(&a);
        let _ = hub.repo(&server.url(&format!("{path}/")).parse().unwrap());
        assert!(started.elapsed() < Duration::from_secs(10), "one case took {:?}", started.elapsed());
    });
    eprintln!("http: {n} cases");
    // Whatever was cached is what its name says.
    for v in hub_core::Cache::new(root.path()).verify().unwrap() {
        assert!(matches!(v, hub_core::cache::Verified::Ok(_)), "{v:?}");
    }
}
