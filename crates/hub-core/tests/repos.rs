//! Repo resolution: GitHub zipballs through a mirror, refs remembered, built-ins, local
//! directories, base URLs, lockfiles, offline mode, and archive safety.

mod support;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use hub_core::archive::extract_zip;
use hub_core::{Error, Hub, HubOptions, RepoSource, RepoSpec};
use support::{Behaviour, Server};
use zip::write::SimpleFileOptions;

const MANIFEST: &str = r#"
format = 1
name = "acme/models"

[entrypoints.tiny]
architecture = "resnet18"
task = "image-classification"
summary = "A tiny test model"
"#;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn zip_bytes(entries: &[(&str, &[u8])], comment: Option<&str>) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        if name.ends_with('/') {
            w.add_directory(*name, SimpleFileOptions::default()).unwrap();
        } else {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(data).unwrap();
        }
    }
    if let Some(c) = comment {
        w.set_comment(c);
    }
    w.finish().unwrap().into_inner()
}

fn options(root: &Path, server: &Server) -> HubOptions {
    let mut o = HubOptions::with_root(root);
    o.retries = 0;
    o.backoff = Duration::from_millis(1);
    o.torch_checkpoints = None;
    o.mirrors.push("https://github.com/", server.url("/gh/")).unwrap();
    o
}

#[test]
fn github_zipball_is_resolved_once_and_remembered() {
    let server = Server::start();
    let zip = zip_bytes(&[("acme-models-0123456/", b""), ("acme-models-0123456/hubconf.toml", MANIFEST.as_bytes()), ("acme-models-0123456/README.md", b"hi")], Some(COMMIT));
    server.route("/gh/acme/models/zipball/v1", zip.clone(), Behaviour::Ok);
    // No ref: torch.hub's rule, `main` then `master`.
    server.route("/gh/acme/models/zipball/master", zip, Behaviour::Ok);
    let root = tempfile::tempdir().unwrap();
    let o = options(root.path(), &server);
    let hub = Hub::new(o.clone()).unwrap();

    let spec: RepoSpec = "acme/models:v1".parse().unwrap();
    let r = hub.repo(&spec).unwrap();
    assert_eq!(r.source, RepoSource::GitHub);
    assert_eq!(r.commit.as_deref(), Some(COMMIT));
    let dir = r.dir.unwrap();
    assert_eq!(dir, root.path().join("repos/acme_models").join(COMMIT));
    assert_eq!(std::fs::read_to_string(dir.join("README.md")).unwrap(), "hi");
    assert_eq!(r.manifest.entry("tiny").unwrap().1.architecture, "resnet18");
    // Remembered: no second request, and it works offline.
    hub.repo(&spec).unwrap();
    let mut off = o.clone();
    off.offline = true;
    Hub::new(off.clone()).unwrap().repo(&spec).unwrap();
    assert_eq!(server.hits("/gh/acme/models/zipball/v1"), 1);
    // A ref never seen, offline: an error naming the spec.
    let err = Hub::new(off).unwrap().repo(&"acme/models:v2".parse().unwrap()).unwrap_err();
    assert!(matches!(err, Error::Offline { .. }) && err.to_string().contains("acme/models:v2"), "{err}");
    // force_reload fetches again.
    let mut force = o.clone();
    force.force_reload = true;
    Hub::new(force).unwrap().repo(&spec).unwrap();
    assert_eq!(server.hits("/gh/acme/models/zipball/v1"), 2);
    // Default branch: main is 404, master is taken.
    let r = hub.repo(&"acme/models".parse().unwrap()).unwrap();
    assert_eq!(r.commit.as_deref(), Some(COMMIT));
    assert_eq!(server.hits("/gh/acme/models/zipball/main"), 1);
    // A commit spec needs no request at all once its snapshot is present.
    hub.repo(&format!("acme/models:{COMMIT}").parse().unwrap()).unwrap();
    assert_eq!(server.hits(&format!("/gh/acme/models/zipball/{COMMIT}")), 0);
}

#[test]
fn missing_repo_and_missing_manifest() {
    let server = Server::start();
    server.route("/gh/acme/bare/zipball/main", zip_bytes(&[("x/README.md", b"no manifest")], Some(COMMIT)), Behaviour::Ok);
    let root = tempfile::tempdir().unwrap();
    let hub = Hub::new(options(root.path(), &server)).unwrap();
    let err = hub.repo(&"acme/nothing:main".parse().unwrap()).unwrap_err();
    assert!(matches!(err, Error::HttpStatus { status: 404, .. }), "{err}");
    let err = hub.repo(&"acme/bare:main".parse().unwrap()).unwrap_err();
    assert!(matches!(err, Error::NoManifest { .. }) && err.to_string().contains("hubconf.toml"), "{err}");
}

#[test]
fn builtins_answer_without_network() {
    let root = tempfile::tempdir().unwrap();
    let mut o = HubOptions::with_root(root.path());
    o.offline = true;
    let mut hub = Hub::new(o).unwrap();
    hub.add_builtin("acme/gans:hub", MANIFEST).unwrap();
    for s in ["acme/gans", "acme/gans:hub", "ACME/Gans:hub"] {
        assert_eq!(hub.repo(&s.parse().unwrap()).unwrap().source, RepoSource::Builtin, "{s}");
    }
    // Another ref is not the built-in: offline, that is a miss.
    assert!(matches!(hub.repo(&"acme/gans:other".parse().unwrap()), Err(Error::Offline { .. })));
    // A bad built-in is rejected at registration, with its name.
    let err = hub.add_builtin("acme/bad", "format = 1\nbogus = 2").unwrap_err().to_string();
    assert!(err.contains("built-in manifest of acme/bad:2:1") && err.contains("bogus"), "{err}");
}

#[test]
fn local_directories_and_base_urls() {
    let server = Server::start();
    server.route("/hub/vision/hubconf.toml", MANIFEST, Behaviour::Ok);
    server.route("/hub/broken/hubconf.toml", "format = 1\n[entrypoints.x]\n", Behaviour::Ok);
    let root = tempfile::tempdir().unwrap();
    let o = options(root.path(), &server);
    let hub = Hub::new(o.clone()).unwrap();
    let local = tempfile::tempdir().unwrap();
    let err = hub.repo(&RepoSpec::local(local.path())).unwrap_err();
    assert!(matches!(err, Error::NoManifest { .. }), "{err}");
    std::fs::write(local.path().join("hubconf.toml"), MANIFEST).unwrap();
    assert_eq!(hub.repo(&RepoSpec::local(local.path())).unwrap().source, RepoSource::Local);

    let spec: RepoSpec = server.url("/hub/vision/").parse().unwrap();
    assert_eq!(hub.repo(&spec).unwrap().source, RepoSource::Url);
    let mut off = o;
    off.offline = true;
    Hub::new(off).unwrap().repo(&spec).unwrap();
    assert_eq!(server.hits("/hub/vision/hubconf.toml"), 1);
    let err = hub.repo(&server.url("/hub/broken").parse().unwrap()).unwrap_err().to_string();
    assert!(err.contains("/hub/broken/hubconf.toml:") && err.contains("missing field `architecture`"), "{err}");
}

#[test]
fn lockfile_records_and_locked_refuses_changes() {
    let server = Server::start();
    let body = b"weights v1".to_vec();
    server.route("/w/net.bin", body, Behaviour::Ok);
    let root = tempfile::tempdir().unwrap();
    let lock = root.path().join("hub.lock");
    let local = tempfile::tempdir().unwrap();
    std::fs::write(local.path().join("hubconf.toml"), MANIFEST).unwrap();
    let mut o = options(root.path(), &server);
    o.lockfile = Some(lock.clone());
    let hub = Hub::new(o.clone()).unwrap();
    let spec = RepoSpec::local(local.path());
    hub.repo(&spec).unwrap();
    let art = hub_core::Artifact::new(server.url("/w/net.bin"));
    hub.fetch(&art).unwrap();
    let text = std::fs::read_to_string(&lock).unwrap();
    assert!(text.contains(&server.url("/w/net.bin")) && text.contains(&hub_core::hash::sha256_bytes(b"weights v1")), "{text}");

    // Locked: same things pass; a changed manifest, or a new URL, is an error.
    o.locked = true;
    let locked = Hub::new(o.clone()).unwrap();
    locked.repo(&spec).unwrap();
    locked.fetch(&art).unwrap();
    std::fs::write(local.path().join("hubconf.toml"), MANIFEST.replace("tiny test", "changed")).unwrap();
    let err = locked.repo(&spec).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    let err = locked.fetch(&hub_core::Artifact::new(server.url("/w/other.bin"))).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }) && err.to_string().contains("not in the lockfile"), "{err}");
    // Locked and the server's content changed: the lockfile's hash wins.
    server.route("/w/net.bin", b"weights v2".to_vec(), Behaviour::Ok);
    o.force_reload = true;
    let err = Hub::new(o).unwrap().fetch(&art).unwrap_err();
    assert!(matches!(err, Error::HashMismatch { .. }), "{err}");
}

#[test]
fn archives_with_escaping_entries_are_rejected_whole() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("dotdot", zip_bytes(&[("a/ok.txt", b"1"), ("a/../../evil.txt", b"x")], None)),
        ("absolute", zip_bytes(&[("/etc/evil.txt", b"x")], None)),
        ("symlink", {
            let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            w.add_symlink("a/link", "/etc/passwd", SimpleFileOptions::default()).unwrap();
            w.finish().unwrap().into_inner()
        }),
    ];
    for (name, bytes) in cases {
        let archive = dir.path().join(format!("{name}.zip"));
        std::fs::write(&archive, bytes).unwrap();
        let dest = dir.path().join(format!("out-{name}"));
        let err = extract_zip(&archive, &dest).unwrap_err();
        assert!(matches!(err, Error::UnsafeArchive { .. }), "{name}: {err}");
        assert!(!dest.exists(), "{name}: nothing written");
        assert!(!dir.path().join("evil.txt").exists());
    }
    let archive = dir.path().join("ok.zip");
    std::fs::write(&archive, zip_bytes(&[("top/", b""), ("top/a/b.txt", b"b"), ("top/c.txt", b"c")], Some(COMMIT))).unwrap();
    let out = extract_zip(&archive, &dir.path().join("ok")).unwrap();
    assert_eq!(out.commit.as_deref(), Some(COMMIT));
    assert_eq!(std::fs::read_to_string(dir.path().join("ok/a/b.txt")).unwrap(), "b");
    std::fs::write(&archive, b"not a zip").unwrap();
    assert!(matches!(extract_zip(&archive, &dir.path().join("bad")), Err(Error::Archive { .. })));
}

#[test]
fn github_zipball_with_unsafe_entries_is_not_installed() {
    let server = Server::start();
    server.route("/gh/evil/repo/zipball/main", zip_bytes(&[("x/hubconf.toml", MANIFEST.as_bytes()), ("x/../../../pwned", b"x")], Some(COMMIT)), Behaviour::Ok);
    let root = tempfile::tempdir().unwrap();
    let hub = Hub::new(options(root.path(), &server)).unwrap();
    let err = hub.repo(&"evil/repo:main".parse().unwrap()).unwrap_err();
    assert!(matches!(err, Error::UnsafeArchive { .. }), "{err}");
    assert!(!root.path().join("repos/evil_repo").join(COMMIT).exists());
}

const MODEL_IDS: &str = r#"
format = 1
name = "acme/text"

[entrypoints.model]
architecture = "bert"
task = "feature-extraction"
default_weights = "tiny"

[entrypoints.model.weights.tiny]
url = "https://huggingface.co/tiny/resolve/main/model.safetensors"
files."config.json" = { url = "https://huggingface.co/tiny/resolve/main/config.json" }

[entrypoints.model.model_ids]
url = "https://huggingface.co/{id}/resolve/{revision}/{file}"
weights = ["model.safetensors", "pytorch_model.bin"]
files = ["config.json"]
one_of = [["tokenizer.json"], ["vocab.json", "merges.txt"], ["vocab.txt"]]
"#;

#[test]
fn model_ids_resolve_through_the_template_with_fallbacks() {
    use hub_core::{Manifest, WeightFormat, WeightsChoice};
    let server = Server::start();
    let m = Manifest::parse(MODEL_IDS, "hubconf.toml").unwrap();
    let (_, ep) = m.entry("model").unwrap();
    let root = tempfile::tempdir().unwrap();
    let mut o = options(root.path(), &server);
    o.mirrors.push("https://huggingface.co/", server.url("/hf/")).unwrap();
    let hub = Hub::new(o.clone()).unwrap();

    // A listed name without a revision uses the listed URLs.
    server.route("/hf/tiny/resolve/main/model.safetensors", b"listed".to_vec(), Behaviour::Ok);
    server.route("/hf/tiny/resolve/main/config.json", b"{}".to_vec(), Behaviour::Ok);
    let listed = ep.choose_weights("model", None, None).unwrap().unwrap();
    assert!(matches!(listed, WeightsChoice::Listed("tiny", _)));
    let f = hub.fetch_weights(&listed, true).unwrap();
    assert_eq!(std::fs::read(f.checkpoint.unwrap()).unwrap(), b"listed");

    // Any other id, at a commit: no safetensors (404) → pytorch_model.bin; no tokenizer.json →
    // the second complete group.
    let rev = "0123456789abcdef0123456789abcdef01234567";
    let base = format!("/hf/acme/other/resolve/{rev}/");
    server.route(&format!("{base}config.json"), b"{\"model_type\": \"bert\"}".to_vec(), Behaviour::Ok);
    server.route(&format!("{base}pytorch_model.bin"), b"pickle".to_vec(), Behaviour::Ok);
    server.route(&format!("{base}vocab.json"), b"{}".to_vec(), Behaviour::Ok);
    server.route(&format!("{base}merges.txt"), b"#".to_vec(), Behaviour::Ok);
    server.route(&format!("{base}vocab.txt"), b"[PAD]".to_vec(), Behaviour::Ok);
    let choice = ep.choose_weights("model", Some("acme/other"), Some(rev)).unwrap().unwrap();
    assert_eq!(choice.display_name(), format!("acme/other@{rev}"));
    let f = hub.fetch_weights(&choice, true).unwrap();
    assert_eq!(f.format, WeightFormat::Pytorch);
    assert_eq!(std::fs::read(f.checkpoint.as_ref().unwrap()).unwrap(), b"pickle");
    assert_eq!(f.files.keys().map(String::as_str).collect::<Vec<_>>(), ["config.json", "merges.txt", "vocab.json"]);
    assert_eq!(server.hits(&format!("{base}vocab.txt")), 0, "a later group is not fetched");
    // `@revision` in the name is the same as the revision option; both at once must agree.
    let same = ep.choose_weights("model", Some(&format!("acme/other@{rev}")), None).unwrap().unwrap();
    assert_eq!(same, choice);
    assert!(ep.choose_weights("model", Some("acme/other@v1"), Some("v2")).is_err());
    // A listed name with a revision goes through the template.
    assert!(matches!(ep.choose_weights("model", Some("tiny"), Some("v1")).unwrap().unwrap(), WeightsChoice::Model(..)));

    // Offline: what was fetched is served from the cache, with no request.
    let mut off = o.clone();
    off.offline = true;
    let offline = Hub::new(off).unwrap();
    let before = server.hits(&format!("{base}pytorch_model.bin"));
    let f2 = offline.fetch_weights(&choice, true).unwrap();
    assert_eq!(f2.checkpoint, f.checkpoint);
    assert_eq!(server.hits(&format!("{base}pytorch_model.bin")), before);
    // ... and a model never fetched is an offline error, not "not found".
    let never = ep.choose_weights("model", Some("acme/never"), None).unwrap().unwrap();
    assert!(matches!(offline.fetch_weights(&never, true), Err(Error::Offline { .. })));

    // Online, a model without a checkpoint names the model and what is missing.
    server.route("/hf/acme/empty/resolve/main/config.json", b"{}".to_vec(), Behaviour::Ok);
    server.route("/hf/acme/empty/resolve/main/tokenizer.json", b"{}".to_vec(), Behaviour::Ok);
    let empty = ep.choose_weights("model", Some("acme/empty"), None).unwrap().unwrap();
    let e = hub.fetch_weights(&empty, true).unwrap_err();
    assert!(matches!(e, Error::ModelFilesMissing { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("acme/empty@main") && msg.contains("pytorch_model.bin"), "{msg}");
    // A missing required file is the server's 404 for that URL.
    let e = hub.fetch_weights(&never, false).unwrap_err();
    assert!(matches!(e, Error::HttpStatus { status: 404, .. }), "{e}");
    // Bad ids are refused before any request.
    assert!(matches!(ep.choose_weights("model", Some("../x"), None), Err(Error::InvalidModelId { .. })));
}
