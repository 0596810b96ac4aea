//! Regression tests for hostile inputs (issue 12): remote manifests naming local files, devices
//! and fifos, redirects to other schemes, endless and dripping bodies, locks held forever,
//! absurd settings, oversized manifests and archives, leftovers, and writers racing a download.
//! Everything is generated here; the only server is a loopback one started by each test.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hub_core::cache::LeftoverKind;
use hub_core::hash::{sha256_bytes, sha256_file};
use hub_core::{Artifact, Cache, Error, Hub, HubOptions, RepoSpec};
use support::{bytes, Behaviour, Server};
use zip::write::SimpleFileOptions;

/// The options of these tests' hubs (0 retries).
fn options(root: &Path) -> HubOptions {
    support::options(root, 0)
}

fn hub(root: &Path) -> Hub {
    Hub::new(options(root)).unwrap()
}

fn artifact_count(root: &Path) -> usize {
    std::fs::read_dir(root.join("artifacts")).map(|d| d.flatten().map(|e| std::fs::read_dir(e.path()).unwrap().count()).sum()).unwrap_or(0)
}

/// A manifest with one entrypoint whose weights are `url`, plus `extra` lines in the weights
/// table and `tail` after it.
fn manifest(url: &str, extra: &str, tail: &str) -> String {
    format!("format = 1\n[entrypoints.a]\narchitecture = \"x\"\ntask = \"t\"\n[entrypoints.a.weights.V1]\nurl = \"{url}\"\n{extra}\n{tail}")
}

fn zip_bytes(entries: &[(&str, &[u8])], comment: Option<&str>, method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, SimpleFileOptions::default().compression_method(method)).unwrap();
        w.write_all(data).unwrap();
    }
    if let Some(c) = comment {
        w.set_comment(c);
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn remote_manifests_may_not_name_local_files() {
    let server = Server::start();
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), b"top secret").unwrap();
    let local = format!("file://{}", secret.path().display());
    let cases = [
        ("url", manifest(&local, "", "")),
        ("mirrors", manifest(&server.url("/w/x.bin"), &format!("mirrors = [\"{local}\"]"), "")),
        ("files", manifest(&server.url("/w/x.bin"), "", &format!("[entrypoints.a.weights.V1.files.\"config.json\"]\nurl = \"{local}\"\n"))),
        ("model_ids", manifest(&server.url("/w/x.bin"), "", "[entrypoints.a.model_ids]\nurl = \"file:///srv/{id}/{revision}/{file}\"\n")),
        ("relative", manifest("file://../../secret", "", "")),
    ];
    let root = tempfile::tempdir().unwrap();
    let hub = hub(root.path());
    for (i, (what, src)) in cases.iter().enumerate() {
        server.route(&format!("/r{i}/hubconf.toml"), src.clone(), Behaviour::Ok);
        let spec: RepoSpec = server.url(&format!("/r{i}/")).parse().unwrap();
        let e = hub.repo(&spec).unwrap_err();
        assert!(matches!(e, Error::LocalUrlInRemoteManifest { .. }), "{what}: {e}");
        let msg = e.to_string();
        assert!(msg.contains("file://") && msg.contains("HUB_MIRRORS") && msg.contains(&server.url(&format!("/r{i}/"))), "{what}: {msg}");
    }
    // The same through a GitHub zipball.
    let zip = zip_bytes(&[("x/hubconf.toml", manifest(&local, "", "").as_bytes())], Some(&"ab".repeat(20)), zip::CompressionMethod::Stored);
    server.route("/gh/evil/repo/zipball/main", zip, Behaviour::Ok);
    let mut o = options(root.path());
    o.mirrors.push("https://github.com/", server.url("/gh/")).unwrap();
    let e = Hub::new(o).unwrap().repo(&"evil/repo:main".parse().unwrap()).unwrap_err();
    assert!(matches!(e, Error::LocalUrlInRemoteManifest { source_kind: "a GitHub archive", .. }), "{e}");
    assert_eq!(artifact_count(root.path()), 0);
}

#[test]
fn local_repos_may_use_file_urls_resolved_against_the_repo() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join("weights")).unwrap();
    let body = bytes(5000, 1);
    std::fs::write(repo.path().join("weights/net.bin"), &body).unwrap();
    std::fs::write(repo.path().join("hubconf.toml"), manifest("file://weights/net.bin", &format!("sha256 = \"{}\"", sha256_bytes(&body)), "")).unwrap();
    let root = tempfile::tempdir().unwrap();
    let hub = hub(root.path());
    // Never the current directory: the repo directory.
    assert_ne!(std::env::current_dir().unwrap(), repo.path());
    let r = hub.repo(&RepoSpec::local(repo.path())).unwrap();
    let (_, entry) = r.manifest.entry("a").unwrap();
    let (_, w) = entry.weights("a", None).unwrap().unwrap();
    assert_eq!(w.artifact.url, format!("file://{}", repo.path().join("weights/net.bin").display()));
    assert_eq!(std::fs::read(hub.fetch(&w.artifact).unwrap()).unwrap(), body);
    // A file:// base URL is the user's choice too, resolved against its directory.
    let spec: RepoSpec = format!("file://{}/", repo.path().display()).parse().unwrap();
    let r = hub.repo(&spec).unwrap();
    let url = &r.manifest.entrypoints["a"].weights["V1"].artifact.url;
    assert_eq!(url, &format!("file://{}", repo.path().join("weights/net.bin").display()));
}

#[cfg(unix)]
#[test]
fn only_regular_files_are_read_and_copies_get_normal_modes() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let root = tempfile::tempdir().unwrap();
    let hub = hub(root.path());
    let started = Instant::now();
    for (url, kind) in [
        ("file:///dev/zero".to_owned(), "a character device"),
        (format!("file://{}", fifo.display()), "a fifo"),
        (format!("file://{}", dir.path().display()), "a directory"),
    ] {
        let e = hub.fetch(&Artifact::new(url.clone()).with_size(1000)).unwrap_err();
        assert!(matches!(e, Error::NotARegularFile { kind: k, .. } if k == kind), "{url}: {e}");
    }
    assert!(started.elapsed() < Duration::from_secs(5), "a fifo is never opened");
    assert_eq!(artifact_count(root.path()), 0);
    // A 0600 source becomes an artifact with the mode of any new file, not the source's.
    let secret = dir.path().join("private.bin");
    std::fs::write(&secret, b"private bytes").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let path = hub.fetch(&Artifact::new(format!("file://{}", secret.display()))).unwrap();
    let probe = root.path().join("probe");
    std::fs::File::create(&probe).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), mode(&probe));
    // And the same for a reused torch.hub file.
    let torch = tempfile::tempdir().unwrap();
    let body = bytes(3000, 2);
    let sha = sha256_bytes(&body);
    let name = format!("net-{}.pth", &sha[..8]);
    std::fs::write(torch.path().join(&name), &body).unwrap();
    std::fs::set_permissions(torch.path().join(&name), std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut o = options(root.path());
    o.offline = true;
    o.torch_checkpoints = Some(torch.path().to_path_buf());
    let path = Hub::new(o).unwrap().fetch(&Artifact::new(format!("https://download.pytorch.org/models/{name}"))).unwrap();
    assert_eq!(mode(&path), mode(&probe));
}

#[test]
fn redirects_only_to_http_and_never_a_panic() {
    let server = Server::start();
    let body = bytes(2000, 3);
    server.route("/ok.bin", body.clone(), Behaviour::Ok);
    server.route("/rel", Vec::new(), Behaviour::Redirect("/ok.bin".into()));
    server.route("/loop", Vec::new(), Behaviour::Redirect("/loop".into()));
    server.route("/noloc", Vec::new(), Behaviour::Raw(b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()));
    server.route("/300", Vec::new(), Behaviour::Raw(b"HTTP/1.1 300 Choices\r\nLocation: /ok.bin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()));
    let targets = ["file:///etc/passwd", "data:text/plain,hello", "file:", "data:", "ftp://127.0.0.1/x", "http://", "http://:80/x", "gopher://x", "\u{1}"];
    for (i, t) in targets.iter().enumerate() {
        server.route(&format!("/bad{i}"), Vec::new(), Behaviour::Redirect((*t).into()));
        server.route(&format!("/m{i}/hubconf.toml"), Vec::new(), Behaviour::Redirect((*t).into()));
    }
    let root = tempfile::tempdir().unwrap();
    let hub = hub(root.path());
    // A relative redirect is followed.
    assert_eq!(std::fs::read(hub.fetch(&Artifact::new(server.url("/rel"))).unwrap()).unwrap(), body);
    for (i, t) in targets.iter().enumerate() {
        let e = hub.fetch(&Artifact::new(server.url(&format!("/bad{i}")))).unwrap_err();
        assert!(matches!(e, Error::Redirect { .. }), "{t}: {e}");
        // `hub list URL`: the manifest request.
        let e = hub.repo(&server.url(&format!("/m{i}/")).parse().unwrap()).unwrap_err();
        assert!(matches!(e, Error::Redirect { .. }), "{t}: {e}");
    }
    let e = hub.fetch(&Artifact::new(server.url("/loop"))).unwrap_err();
    assert!(matches!(e, Error::Redirect { .. }) && e.to_string().contains("more than 10 redirects"), "{e}");
    assert_eq!(server.hits("/loop"), 11);
    let e = hub.fetch(&Artifact::new(server.url("/noloc"))).unwrap_err();
    assert!(e.to_string().contains("without a Location"), "{e}");
    let e = hub.fetch(&Artifact::new(server.url("/300"))).unwrap_err();
    assert!(matches!(e, Error::HttpStatus { status: 300, .. }), "{e}");
    assert_eq!(artifact_count(root.path()), 1);
}

#[test]
fn downloads_stop_at_the_declared_size_and_the_cap() {
    let server = Server::start();
    server.route("/endless", Vec::new(), Behaviour::Endless { announce: None });
    server.route("/huge", Vec::new(), Behaviour::Endless { announce: Some(1 << 40) });
    server.route("/liar", bytes(100, 4), Behaviour::Ok);
    let root = tempfile::tempdir().unwrap();
    let mut o = options(root.path());
    o.limits.max_download_bytes = 1 << 20;
    let hub = Hub::new(o).unwrap();
    let before = server.sent.load(Ordering::SeqCst);
    // A declared size, even with a sha256: the download ends right after it.
    let e = hub.fetch(&Artifact::new(server.url("/endless")).with_size(1000).with_sha256("ab".repeat(32))).unwrap_err();
    assert!(matches!(e, Error::SizeMismatch { expected: 1000, .. }), "{e}");
    // Nothing declared: the cap.
    let e = hub.fetch(&Artifact::new(server.url("/endless"))).unwrap_err();
    assert!(matches!(e, Error::TooLarge { setting: "max_download_mb", .. }), "{e}");
    // A Content-Length over the cap: refused before the body.
    let e = hub.fetch(&Artifact::new(server.url("/huge"))).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }) && e.to_string().contains("1099511627776"), "{e}");
    // A Content-Length that contradicts the manifest: refused before the body.
    let e = hub.fetch(&Artifact::new(server.url("/liar")).with_size(99)).unwrap_err();
    assert!(matches!(e, Error::SizeMismatch { expected: 99, actual: 100, .. }), "{e}");
    // A declared size over the cap: refused before any request.
    let hits = server.hits("/liar");
    let e = hub.fetch(&Artifact::new(server.url("/liar")).with_size(2 << 20)).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    assert_eq!(server.hits("/liar"), hits);
    std::thread::sleep(Duration::from_millis(200));
    // The server pushes into socket buffers past what was read, but never gigabytes.
    let sent = server.sent.load(Ordering::SeqCst) - before;
    assert!(sent < 64 << 20, "{sent} bytes sent");
    assert_eq!(artifact_count(root.path()), 0);
    assert_eq!(std::fs::read_dir(root.path().join("tmp")).unwrap().count(), 0, "over-size partials are deleted");
}

#[test]
fn drips_and_slow_servers_end_at_the_low_speed_limit_and_the_deadline() {
    let server = Server::start();
    server.route("/drip", bytes(10_000, 5), Behaviour::Drip(Duration::from_millis(20)));
    server.route("/slow", bytes(4 << 20, 6), Behaviour::Slow { chunk: 16 << 10, delay: Duration::from_millis(50) });
    let root = tempfile::tempdir().unwrap();
    let mut o = options(root.path());
    o.limits.low_speed_limit = 1000;
    o.limits.low_speed_time = Duration::from_secs(1);
    let started = Instant::now();
    let e = Hub::new(o.clone()).unwrap().fetch(&Artifact::new(server.url("/drip"))).unwrap_err();
    assert!(matches!(e, Error::TooSlow { setting: "low_speed_limit_bytes", retry: true, .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    // Fast enough for the low-speed limit (~320 KB/s) but past the deadline.
    o.limits.download_deadline = Duration::from_secs(1);
    o.retries = 3;
    let started = Instant::now();
    let e = Hub::new(o).unwrap().fetch(&Artifact::new(server.url("/slow"))).unwrap_err();
    assert!(matches!(e, Error::TooSlow { setting: "download_deadline_secs", retry: false, .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(server.hits("/slow"), 1, "the deadline is not retried");
}

#[test]
fn a_held_lock_is_waited_for_with_a_name_and_a_timeout() {
    let server = Server::start();
    server.route("/l.bin", bytes(100, 7), Behaviour::Ok);
    let root = tempfile::tempdir().unwrap();
    let url = server.url("/l.bin");
    let lock = Cache::new(root.path()).lock_path(&url);
    let _held = hub_core::lock::FileLock::try_acquire(&lock).unwrap().unwrap();
    let mut o = options(root.path());
    o.limits.lock_timeout = Duration::from_millis(400);
    let started = Instant::now();
    let e = Hub::new(o).unwrap().fetch(&Artifact::new(url)).unwrap_err();
    assert!(matches!(e, Error::LockTimeout { .. }), "{e}");
    assert!(e.to_string().contains(&format!("process {}", std::process::id())), "{e}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(server.hits("/l.bin"), 0);
}

#[test]
fn absurd_settings_are_refused() {
    let root = tempfile::tempdir().unwrap();
    for (line, needle) in [
        ("connect_timeout_secs = 0", "connect_timeout_secs is 0"),
        ("read_timeout_secs = 0", "read_timeout_secs is 0"),
        ("download_deadline_secs = 0", "download_deadline_secs is 0"),
        ("lock_timeout_secs = 0", "lock_timeout_secs is 0"),
        ("low_speed_time_secs = 0", "low_speed_time_secs is 0"),
        ("read_timeout_secs = 9999999999", "the most accepted"),
        ("retries = 4000000000", "more than the 32 accepted"),
        ("max_download_mb = 0", "max_download_mb is 0"),
        ("max_download_mb = 9223372036854775807", "too large"),
        ("max_manifest_kb = 0", "max_manifest_kb is 0"),
        ("max_repo_entries = 0", "max_repo_entries is 0"),
    ] {
        std::fs::write(root.path().join("config.toml"), line).unwrap();
        std::env::set_var("HUB_HOME", root.path());
        let e = HubOptions::from_env().unwrap_err().to_string();
        assert!(e.contains(needle) && e.contains("config.toml"), "{line}: {e}");
    }
    std::fs::write(root.path().join("config.toml"), "retries = 32\nmax_download_mb = 10\nlow_speed_limit_bytes = 0\n").unwrap();
    let o = HubOptions::from_env().unwrap();
    assert_eq!((o.retries, o.limits.max_download_bytes, o.limits.low_speed_limit), (32, 10 << 20, 0));
    std::env::remove_var("HUB_HOME");
    // The API is checked too.
    let mut o = options(root.path());
    o.read_timeout = Duration::ZERO;
    let e = Hub::new(o).unwrap_err().to_string();
    assert!(e.contains("read_timeout_secs is 0") && e.contains("HubOptions"), "{e}");
}

#[test]
fn manifests_over_the_limit_are_an_error_not_cut() {
    let server = Server::start();
    let big = format!("{}\n# {}\n", manifest("https://x/y.bin", "", ""), "x".repeat(200_000));
    server.route("/big/hubconf.toml", big.clone(), Behaviour::Ok);
    server.route("/chunked/hubconf.toml", Vec::new(), Behaviour::Endless { announce: None });
    let root = tempfile::tempdir().unwrap();
    let mut o = options(root.path());
    o.limits.max_manifest_bytes = 100_000;
    let hub = Hub::new(o).unwrap();
    for path in ["/big/", "/chunked/"] {
        let e = hub.repo(&server.url(path).parse().unwrap()).unwrap_err();
        assert!(matches!(e, Error::TooLarge { setting: "max_manifest_kb", .. }), "{path}: {e}");
    }
    let local = tempfile::tempdir().unwrap();
    std::fs::write(local.path().join("hubconf.toml"), &big).unwrap();
    let e = hub.repo(&RepoSpec::local(local.path())).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }) && e.to_string().contains("hubconf.toml"), "{e}");
    // Within the default limit it parses.
    hub_core::Manifest::from_file(&local.path().join("hubconf.toml")).unwrap();
}

#[test]
fn archives_are_bounded_in_bytes_and_entries() {
    let dir = tempfile::tempdir().unwrap();
    let mut limits = hub_core::Limits::default();
    limits.max_repo_bytes = 1 << 20;
    limits.max_repo_entries = 50;
    // A deflate bomb: 8 MiB of zeros in a few kilobytes.
    let bomb = zip_bytes(&[("x/hubconf.toml", b"format = 1"), ("x/zeros", &vec![0u8; 8 << 20])], None, zip::CompressionMethod::Deflated);
    assert!(bomb.len() < 64 << 10);
    let many: Vec<(String, Vec<u8>)> = (0..51).map(|i| (format!("x/f{i}"), Vec::new())).collect();
    let many = zip_bytes(&many.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect::<Vec<_>>(), None, zip::CompressionMethod::Stored);
    for (name, zip, setting) in [("bomb", bomb, "max_repo_mb"), ("many", many, "max_repo_entries")] {
        let path = dir.path().join(format!("{name}.zip"));
        std::fs::write(&path, zip).unwrap();
        let dest = dir.path().join(name);
        let e = hub_core::archive::extract_zip_within(&path, &dest, &limits).unwrap_err();
        assert!(matches!(e, Error::TooLarge { setting: s, .. } if s == setting), "{name}: {e}");
        assert!(!dest.exists(), "{name}: nothing written");
    }
}

#[test]
fn gc_cleans_staging_and_temp_leftovers_but_not_work_in_progress() {
    let root = tempfile::tempdir().unwrap();
    let cache = Cache::new(root.path());
    // A killed extraction, a killed download, an old atomic-write temp file, a foreign file.
    let staging = cache.staging_dir("repo:acme/models");
    std::fs::create_dir_all(staging.join("sub")).unwrap();
    std::fs::write(staging.join("sub/f"), vec![1u8; 1000]).unwrap();
    let partial = cache.partial_path("https://x/a.bin");
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(&partial, vec![2u8; 500]).unwrap();
    std::fs::create_dir_all(root.path().join("urls")).unwrap();
    let temp = root.path().join("urls/.x.json.1-2-3.tmp");
    std::fs::write(&temp, b"{}").unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&temp).unwrap().set_modified(old).unwrap();
    let young = root.path().join("urls/.y.json.1-2-4.tmp");
    std::fs::write(&young, b"{}").unwrap();
    // Work in progress: its lock is held.
    let busy = cache.partial_path("https://x/busy.bin");
    std::fs::write(&busy, vec![3u8; 10]).unwrap();
    let _held = hub_core::lock::FileLock::try_acquire(&cache.lock_path("https://x/busy.bin")).unwrap().unwrap();
    let left = cache.leftovers().unwrap();
    let kinds: Vec<_> = left.iter().map(|l| (l.path.clone(), l.kind, l.in_use)).collect();
    assert!(kinds.contains(&(staging.clone(), LeftoverKind::Staging, false)), "{kinds:?}");
    assert!(kinds.contains(&(partial.clone(), LeftoverKind::Partial, false)), "{kinds:?}");
    assert!(kinds.contains(&(busy.clone(), LeftoverKind::Partial, true)), "{kinds:?}");
    assert!(kinds.contains(&(temp.clone(), LeftoverKind::Temp, false)), "{kinds:?}");
    assert!(kinds.contains(&(young.clone(), LeftoverKind::Temp, true)), "{kinds:?}");
    assert_eq!(left.iter().find(|l| l.path == staging).unwrap().size, 1000);
    let freed = cache.gc().unwrap();
    assert_eq!(freed, 1000 + 500 + 2);
    assert!(!staging.exists() && !partial.exists() && !temp.exists());
    assert!(busy.exists() && young.exists());
}

/// A progress sink that plays a second writer: when a download ends, it changes the partial
/// file behind the downloader's back.
struct Meddler {
    partial: PathBuf,
    append: bool,
}

impl hub_core::Progress for Meddler {
    fn start(&self, _: &str, _: Option<u64>, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self, _: &str) {
        if self.append {
            let mut f = std::fs::OpenOptions::new().append(true).open(&self.partial).unwrap();
            f.write_all(b"extra").unwrap();
        } else {
            let mut bytes = std::fs::read(&self.partial).unwrap();
            bytes[0] ^= 0xff;
            std::fs::write(&self.partial, bytes).unwrap();
        }
    }
}

#[test]
fn artifacts_are_named_by_the_bytes_on_disk() {
    let server = Server::start();
    let body = bytes(20_000, 8);
    server.route("/d.bin", body.clone(), Behaviour::Ok);
    let root = tempfile::tempdir().unwrap();
    let url = server.url("/d.bin");
    let partial = Cache::new(root.path()).partial_path(&url);
    // Same length, other bytes: nothing expected, so it is cached, under its own hash.
    let mut o = options(root.path());
    o.progress = std::sync::Arc::new(Meddler { partial: partial.clone(), append: false });
    let path = Hub::new(o.clone()).unwrap().fetch(&Artifact::new(url.clone())).unwrap();
    let on_disk = sha256_file(&path).unwrap();
    assert_ne!(on_disk, sha256_bytes(&body));
    assert_eq!(path.parent().unwrap().file_name().unwrap().to_str().unwrap(), on_disk);
    // With a sha256, the changed file is a mismatch, not an artifact.
    let root2 = tempfile::tempdir().unwrap();
    let mut o2 = options(root2.path());
    o2.progress = std::sync::Arc::new(Meddler { partial: Cache::new(root2.path()).partial_path(&url), append: false });
    let e = Hub::new(o2).unwrap().fetch(&Artifact::new(url.clone()).with_sha256(sha256_bytes(&body))).unwrap_err();
    assert!(matches!(e, Error::HashMismatch { .. }), "{e}");
    // Bytes added behind its back: refused.
    let root3 = tempfile::tempdir().unwrap();
    let mut o3 = options(root3.path());
    o3.progress = std::sync::Arc::new(Meddler { partial: Cache::new(root3.path()).partial_path(&url), append: true });
    let e = Hub::new(o3).unwrap().fetch(&Artifact::new(url)).unwrap_err();
    assert!(matches!(e, Error::ChangedOnDisk { .. }), "{e}");
    assert_eq!(artifact_count(root2.path()) + artifact_count(root3.path()), 0);
}
