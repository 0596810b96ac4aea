//! Downloads against a real HTTP server on 127.0.0.1: success, integrity failures, resume,
//! retries, timeouts, redirects, concurrent processes, killed processes, offline mode.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hub_core::hash::sha256_bytes;
use hub_core::{Artifact, Error, Hub, HubOptions};
use support::{bytes, Behaviour, Server};

/// The options of these tests' hubs (2 retries).
fn options(root: &Path) -> HubOptions {
    support::options(root, 2)
}

fn hub(root: &Path) -> Hub {
    Hub::new(options(root)).unwrap()
}

/// Files under `artifacts/` (what a reader could take for complete).
fn artifact_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(dirs) = std::fs::read_dir(root.join("artifacts")) {
        for d in dirs.flatten() {
            for f in std::fs::read_dir(d.path()).unwrap().flatten() {
                out.push(f.path());
            }
        }
    }
    out
}

#[test]
fn downloads_verifies_and_caches() {
    let server = Server::start();
    let body = bytes(300_000, 1);
    let sha = sha256_bytes(&body);
    server.route("/models/net-x.pth", body.clone(), Behaviour::Ok);
    let root = tempfile::tempdir().unwrap();
    let hub = hub(root.path());
    let a = Artifact::new(server.url("/models/net-x.pth")).with_sha256(&sha).with_size(body.len() as u64);
    let path = hub.fetch(&a).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), body);
    assert_eq!(path, root.path().join("artifacts").join(&sha).join("net-x.pth"));
    assert!(hub.is_cached(&a));
    // Cached: no second request.
    assert_eq!(hub.fetch(&a).unwrap(), path);
    assert_eq!(server.hits("/models/net-x.pth"), 1);
    // force_reload downloads again and replaces atomically.
    let mut o = options(root.path());
    o.force_reload = true;
    assert_eq!(Hub::new(o).unwrap().fetch(&a).unwrap(), path);
    assert_eq!(server.hits("/models/net-x.pth"), 2);
}

#[test]
fn filename_hash_prefix_is_checked() {
    let server = Server::start();
    let body = bytes(10_000, 2);
    let sha = sha256_bytes(&body);
    let good = format!("/m/good-{}.pth", &sha[..8]);
    let bad = "/m/bad-00000000.pth";
    server.route(&good, body.clone(), Behaviour::Ok);
    server.route(bad, body.clone(), Behaviour::Ok);
    let root = tempfile::tempdir().unwrap();
    let hub = hub(root.path());
    hub.fetch(&Artifact::new(server.url(&good))).unwrap();
    let err = hub.fetch(&Artifact::new(server.url(bad))).unwrap_err();
    assert!(matches!(err, Error::HashMismatch { .. }), "{err}");
    assert_eq!(artifact_files(root.path()).len(), 1);
}

#[test]
fn hash_mismatch_keeps_nothing_bad_and_deletes_nothing_good() {
    let server = Server::start();
    let body = bytes(50_000, 3);
    server.route("/w.pth", body.clone(), Behaviour::Ok);
    let root = tempfile::tempdir().unwrap();
    let hub = hub(root.path());
    // A good file already cached under the real hash.
    let good = Artifact::new(server.url("/w.pth")).with_sha256(sha256_bytes(&body));
    let good_path = hub.fetch(&good).unwrap();
    // The same URL with a wrong expected hash, forced to download.
    let wrong = "ab".repeat(32);
    let mut o = options(root.path());
    o.force_reload = true;
    let err = Hub::new(o).unwrap().fetch(&Artifact::new(server.url("/w.pth")).with_sha256(&wrong)).unwrap_err();
    match &err {
        Error::HashMismatch { url, expected, actual } => {
            assert!(url.ends_with("/w.pth"));
            assert_eq!(expected, &wrong);
            assert_eq!(actual, &sha256_bytes(&body));
        }
        other => panic!("expected a hash mismatch, got {other}"),
    }
    assert!(err.to_string().contains("nothing was cached"));
    assert_eq!(artifact_files(root.path()), vec![good_path.clone()]);
    assert_eq!(std::fs::read(&good_path).unwrap(), body);
    assert_eq!(std::fs::read_dir(root.path().join("tmp")).unwrap().count(), 0, "no partial left");
}

#[test]
fn size_mismatch_is_rejected() {
    let server = Server::start();
    server.route("/s.bin", bytes(1000, 4), Behaviour::Ok);
    let root = tempfile::tempdir().unwrap();
    let err = hub(root.path()).fetch(&Artifact::new(server.url("/s.bin")).with_size(999)).unwrap_err();
    assert!(matches!(err, Error::SizeMismatch { expected: 999, actual: 1000, .. }), "{err}");
    assert!(artifact_files(root.path()).is_empty());
}

#[test]
fn truncated_body_resumes_with_a_range_request() {
    let server = Server::start();
    let body = bytes(200_000, 5);
    server.route("/t.bin", body.clone(), Behaviour::TruncateFirst { at: 70_000, times: 1 });
    let root = tempfile::tempdir().unwrap();
    let path = hub(root.path()).fetch(&Artifact::new(server.url("/t.bin")).with_sha256(sha256_bytes(&body))).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), body);
    assert_eq!(server.ranges("/t.bin"), vec![None, Some("bytes=70000-".to_owned())]);
}

#[test]
fn server_without_ranges_restarts_from_zero() {
    let server = Server::start();
    let body = bytes(100_000, 6);
    server.route("/n.bin", body.clone(), Behaviour::TruncateFirst { at: 30_000, times: 1 });
    let root = tempfile::tempdir().unwrap();
    let hub = hub(root.path());
    let a = Artifact::new(server.url("/n.bin")).with_sha256(sha256_bytes(&body));
    // First: truncated every time → error after the retries, partial kept for resuming.
    server.set_behaviour("/n.bin", Behaviour::TruncateFirst { at: 30_000, times: 100 });
    let err = hub.fetch(&a).unwrap_err();
    assert!(matches!(err, Error::Truncated { received: 30_000, expected: 100_000, .. }), "{err}");
    assert_eq!(server.hits("/n.bin"), 3, "one try and two retries");
    assert!(artifact_files(root.path()).is_empty());
    // Then a server that ignores Range: the whole body comes again and is still verified.
    server.set_behaviour("/n.bin", Behaviour::NoRanges);
    assert_eq!(std::fs::read(hub.fetch(&a).unwrap()).unwrap(), body);
}

#[test]
fn http_errors_and_retries() {
    let server = Server::start();
    let body = bytes(1000, 7);
    server.route("/404", Vec::new(), Behaviour::Status(404));
    server.route("/403", Vec::new(), Behaviour::Status(403));
    server.route("/500", Vec::new(), Behaviour::Status(500));
    server.route("/flaky", body.clone(), Behaviour::FailFirst(2, 503));
    let root = tempfile::tempdir().unwrap();
    let hub = hub(root.path());
    for (path, status, hits) in [("/404", 404, 1), ("/403", 403, 1), ("/500", 500, 3)] {
        let err = hub.fetch(&Artifact::new(server.url(path))).unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: s, .. } if s == status), "{err}");
        assert!(err.to_string().contains(&server.url(path)), "{err}");
        assert_eq!(server.hits(path), hits, "{path}");
    }
    assert_eq!(std::fs::read(hub.fetch(&Artifact::new(server.url("/flaky"))).unwrap()).unwrap(), body);
    assert_eq!(server.hits("/flaky"), 3);
    assert!(artifact_files(root.path()).len() == 1);
}

#[test]
fn slow_server_times_out() {
    let server = Server::start();
    server.route("/stall", bytes(1000, 8), Behaviour::Stall(Duration::from_secs(5)));
    let root = tempfile::tempdir().unwrap();
    let mut o = options(root.path());
    o.read_timeout = Duration::from_millis(300);
    o.retries = 1;
    let started = Instant::now();
    let err = Hub::new(o).unwrap().fetch(&Artifact::new(server.url("/stall"))).unwrap_err();
    assert!(matches!(err, Error::Truncated { received: 0, expected: 1000, .. }), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(4), "gave up at the read timeout, not the server's pace");
    assert_eq!(server.hits("/stall"), 2);
    assert!(artifact_files(root.path()).is_empty());
}

#[test]
fn follows_redirects() {
    let server = Server::start();
    let body = bytes(5000, 9);
    server.route("/old.bin", Vec::new(), Behaviour::Redirect(server.url("/new.bin")));
    server.route("/new.bin", body.clone(), Behaviour::Ok);
    let root = tempfile::tempdir().unwrap();
    let path = hub(root.path()).fetch(&Artifact::new(server.url("/old.bin")).with_sha256(sha256_bytes(&body))).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), body);
    assert!(path.ends_with("old.bin"), "cached under the published name");
}

#[test]
fn mirrors_are_tried_first_and_offline_is_network_free() {
    let server = Server::start();
    let body = bytes(4000, 10);
    let sha = sha256_bytes(&body);
    server.route("/mirror/models/resnet-x.pth", body.clone(), Behaviour::Ok);
    let root = tempfile::tempdir().unwrap();
    let mut o = options(root.path());
    o.mirrors.push("https://download.pytorch.org/models/", server.url("/mirror/models/")).unwrap();
    let a = Artifact::new("https://download.pytorch.org/models/resnet-x.pth").with_sha256(&sha);
    let path = Hub::new(o.clone()).unwrap().fetch(&a).unwrap();
    assert_eq!(server.hits("/mirror/models/resnet-x.pth"), 1);
    // Offline: a hit needs no network, a miss is an error naming the URL and the fix.
    o.offline = true;
    let offline = Hub::new(o.clone()).unwrap();
    assert_eq!(offline.fetch(&a).unwrap(), path);
    assert_eq!(server.hits("/mirror/models/resnet-x.pth"), 1);
    let missing = Artifact::new("https://download.pytorch.org/models/other-y.pth");
    let err = offline.fetch(&missing).unwrap_err();
    assert!(matches!(err, Error::Offline { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("https://download.pytorch.org/models/other-y.pth") && msg.contains("HUB_OFFLINE"), "{msg}");
    // file:// mirrors still work offline: no network involved.
    let local = tempfile::tempdir().unwrap();
    std::fs::write(local.path().join("other-y.pth"), b"local bytes").unwrap();
    o.mirrors.push("https://download.pytorch.org/models/", format!("file://{}/", local.path().display())).unwrap();
    let got = Hub::new(o).unwrap().fetch(&missing).unwrap();
    assert_eq!(std::fs::read(got).unwrap(), b"local bytes");
}

#[test]
fn reuses_a_torch_hub_cache_by_hash() {
    let body = bytes(3000, 11);
    let sha = sha256_bytes(&body);
    let torch = tempfile::tempdir().unwrap();
    let name = format!("net-{}.pth", &sha[..8]);
    std::fs::write(torch.path().join(&name), &body).unwrap();
    let root = tempfile::tempdir().unwrap();
    let mut o = options(root.path());
    o.offline = true;
    o.torch_checkpoints = Some(torch.path().to_path_buf());
    let path = Hub::new(o).unwrap().fetch(&Artifact::new(format!("https://download.pytorch.org/models/{name}"))).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), body);
}

/// Run by the multi-process tests in a child process (the test binary re-executed).
#[test]
#[ignore = "child process of the multi-process tests"]
fn child_fetch() {
    let root = std::env::var("HUB_CHILD_ROOT").expect("run by the multi-process tests");
    let url = std::env::var("HUB_CHILD_URL").unwrap();
    let sha = std::env::var("HUB_CHILD_SHA").unwrap();
    let path = hub(Path::new(&root)).fetch(&Artifact::new(url).with_sha256(sha)).unwrap();
    println!("CHILD_OK {}", path.display());
}

fn spawn_child(root: &Path, url: &str, sha: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["child_fetch", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("HUB_CHILD_ROOT", root)
        .env("HUB_CHILD_URL", url)
        .env("HUB_CHILD_SHA", sha)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn eight_processes_one_download() {
    let server = Server::start();
    let body = bytes(1 << 20, 12);
    let sha = sha256_bytes(&body);
    server.route("/big.bin", body.clone(), Behaviour::Slow { chunk: 64 << 10, delay: Duration::from_millis(40) });
    let root = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..8).map(|_| spawn_child(root.path(), &server.url("/big.bin"), &sha)).collect();
    let mut paths = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "child failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let line = stdout.lines().find_map(|l| l.split("CHILD_OK ").nth(1)).expect("child printed its path").to_owned();
        paths.push(line);
    }
    assert_eq!(server.hits("/big.bin"), 1, "exactly one download");
    paths.dedup();
    assert_eq!(paths.len(), 1);
    assert_eq!(std::fs::read(&paths[0]).unwrap(), body);
    let verified = hub_core::Cache::new(root.path()).verify().unwrap();
    assert!(matches!(verified.as_slice(), [hub_core::cache::Verified::Ok(_)]), "{verified:?}");
}

#[test]
fn killed_download_leaves_nothing_visible_and_the_next_run_resumes() {
    let server = Server::start();
    let body = bytes(2 << 20, 13);
    let sha = sha256_bytes(&body);
    server.route("/k.bin", body.clone(), Behaviour::Slow { chunk: 32 << 10, delay: Duration::from_millis(30) });
    let root = tempfile::tempdir().unwrap();
    let mut child = spawn_child(root.path(), &server.url("/k.bin"), &sha);
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.sent.load(std::sync::atomic::Ordering::SeqCst) < 512 << 10 {
        assert!(Instant::now() < deadline, "child never started downloading");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup code runs
    child.wait().unwrap();
    assert!(artifact_files(root.path()).is_empty(), "no partial file visible as an artifact");
    server.set_behaviour("/k.bin", Behaviour::Ok);
    let path = hub(root.path()).fetch(&Artifact::new(server.url("/k.bin")).with_sha256(&sha)).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), body);
    let ranges = server.ranges("/k.bin");
    assert_eq!(ranges.len(), 2);
    assert!(ranges[1].as_deref().is_some_and(|r| r.starts_with("bytes=") && r != "bytes=0-"), "resumed: {ranges:?}");
}

#[test]
fn malformed_header_lines_are_an_error_not_a_panic() {
    // ureq 2 panics reading a header line that is only a name (an index past the line); the
    // download and the manifest fetch turn that into an error naming the URL, and the cache
    // keeps nothing.
    let server = Server::start();
    let root = tempfile::tempdir().unwrap();
    let hub = hub(root.path());
    let cases: &[&[u8]] = &[b"HTTP/1.1 200 OK\r\nContent-Length\r\n\r\nhello", b"HTTP/1.1 302 Found\r\nLocation\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\nhello"];
    for (i, raw) in cases.iter().enumerate() {
        let path = format!("/m{i}");
        server.route(&path, Vec::new(), Behaviour::Raw(raw.to_vec()));
        match hub.fetch(&Artifact::new(server.url(&path))) {
            Err(e @ (Error::MalformedResponse { .. } | Error::Network { .. } | Error::Redirect { .. } | Error::HttpStatus { .. })) => {
                assert!(e.to_string().contains(&path), "case {i}: {e}")
            }
            // A client that reads the line leniently gets the body: it must still be hashed and sized.
            Ok(f) => assert!(f.is_file(), "case {i}"),
            Err(e) => panic!("case {i}: unexpected {e:?}"),
        }
    }
    assert!(artifact_files(root.path()).iter().all(|p| !p.to_string_lossy().contains(".partial")), "{:?}", artifact_files(root.path()));
}
