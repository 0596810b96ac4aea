//! Hostile inputs to hub-models (issue 12): sizes from manifests, `config.json` files, images and
//! preprocessing settings are checked before anything is allocated, checkpoints are recognised by
//! content, and converted burnpacks are checked against the record written with them. Every
//! hostile file is generated here; each case expects a typed error (never a panic, an abort or a
//! silently wrong result).

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::tensor::Tensor;
use burn_store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};
use hub_models::convert::{cached_sha256, convert, converted_path, record_path, verify_converted};
use hub_models::import::{sniff_checkpoint, CheckpointKind, ImportError};
use hub_models::preprocess::{self, load_rgb8, load_rgb8_with_limit, Preprocess, PreprocessError};
use hub_models::registry::{self, limits, ClassifierConfig, ImageClassifier};
use hub_models::text::bert::BertConfig;
use hub_models::text::gpt2::Gpt2Config;
use hub_models::text::ConfigError;
use hub_models::{load_on, Error, LoadOptions};
use image::RgbImage;

type B = Flex;

// ---------------------------------------------------------------------------------------------
// Helpers

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend(data);
    out.extend(&body);
    out.extend(crc32(&body).to_be_bytes());
}

/// A PNG whose valid header claims `width`x`height` RGB pixels, with a few bytes of (unusable)
/// image data: what a decoder would allocate is decided by the header alone.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A local repo with one squeezenet1_1 entrypoint (small, builds in a moment); `extra` is
/// appended to the entrypoint table, `weights` is a weights table body (or empty).
fn repo(dir: &Path, arch: &str, extra: &str, weights: &str) -> String {
    let mut manifest = format!("format = 1\n\n[entrypoints.m]\narchitecture = \"{arch}\"\ntask = \"image-classification\"\n{extra}\n");
    if !weights.is_empty() {
        manifest.push_str(&format!("\n[entrypoints.m.weights.W]\n{weights}\n"));
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("hubconf.toml"), manifest).unwrap();
    dir.to_str().unwrap().to_owned()
}

fn options(home: &Path) -> LoadOptions {
    LoadOptions::default().hub(hub_models::hub_core::HubOptions::with_root(home))
}

fn load_err(repo: &str, options: LoadOptions) -> Error {
    match load_on::<B>(repo, "m", options, &Default::default()) {
        Ok(_) => panic!("{repo}: loaded, expected an error"),
        Err(e) => e,
    }
}

/// Writes squeezenet1_1 with random weights as a PyTorch-layout safetensors file (squeezenet's
/// burn paths are torchvision's keys once the layer-vector variant names are dropped).
fn squeezenet_weights(path: &Path) {
    let model = registry::find("squeezenet1_1").unwrap().build::<B>(&ClassifierConfig::default(), &Default::default()).unwrap();
    let ImageClassifier::SqueezeNet(m) = model else { panic!("not a squeezenet") };
    // burn's paths name the enum variants of layer vectors (`features.3.Fire.squeeze`): drop them.
    let mut store = SafetensorsStore::from_file(path)
        .with_to_adapter(BurnToPyTorchAdapter)
        .with_key_remapping(r"\.[A-Z][A-Za-z0-9]*\.", ".")
        .overwrite(true);
    m.save_into(&mut store).unwrap();
}

fn logits(loaded: &hub_models::Loaded<B>) -> Vec<f32> {
    let x = Tensor::<B, 4>::ones([1, 3, 64, 64], &Default::default());
    loaded.forward(x).unwrap().into_data().to_vec().unwrap()
}

fn json(dir: &Path, name: &str, body: &str) -> PathBuf {
    write(dir, name, body.as_bytes())
}

fn unsupported(e: ConfigError) -> (&'static str, String) {
    match e {
        ConfigError::Unsupported { field, value, .. } => (field, value),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

/// Writes each `(body, field)` case to a JSON file under `dir` and checks that `parse` refuses it
/// as unsupported, naming `field`.
fn refused_fields<T: std::fmt::Debug>(dir: &Path, prefix: &str, cases: &[(&str, &str)], parse: impl Fn(&Path) -> Result<T, ConfigError>) {
    for (n, (body, field)) in cases.iter().enumerate() {
        let path = json(dir, &format!("{prefix}{n}.json"), body);
        let (f, value) = unsupported(parse(&path).unwrap_err());
        assert_eq!(f, *field, "{body}: {value}");
    }
}

// ---------------------------------------------------------------------------------------------
// Images

#[test]
fn a_png_header_claiming_huge_dimensions_is_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    for (w, h) in [(60000, 60000), (100_000, 1001), (u32::MAX >> 1, 4)] {
        let path = write(dir.path(), &format!("{w}x{h}.png"), &png_claiming(w, h));
        assert!(std::fs::metadata(&path).unwrap().len() < 100);
        match load_rgb8(&path) {
            Err(PreprocessError::TooManyPixels { width, height, limit, .. }) => {
                assert_eq!((width, height, limit), (w, h, preprocess::DEFAULT_MAX_IMAGE_PIXELS));
            }
            other => panic!("{w}x{h}: {other:?}"),
        }
        let msg = load_rgb8(&path).unwrap_err().to_string();
        assert!(msg.contains(&format!("{w}x{h}")) && msg.contains("HUB_MAX_IMAGE_PIXELS"), "{msg}");
    }
}

#[test]
fn the_pixel_limit_is_a_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.png");
    RgbImage::from_pixel(100, 100, image::Rgb([1, 2, 3])).save(&path).unwrap();
    assert!(matches!(load_rgb8_with_limit(&path, 9_999), Err(PreprocessError::TooManyPixels { pixels: 10_000, .. })));
    assert_eq!(load_rgb8_with_limit(&path, 10_000).unwrap().dimensions(), (100, 100));
}

#[test]
fn a_tiny_elongated_png_is_not_resized_into_gigabytes() {
    // 60000x1: a couple of hundred bytes, 60000 pixels, fine to decode; resizing its shorter side
    // to 256 would make a 15360000x256 image (11.8 GB).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("line.png");
    RgbImage::from_pixel(60000, 1, image::Rgb([200, 10, 10])).save(&path).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 1000);
    let image = load_rgb8(&path).unwrap();
    match Preprocess::imagenet().to_chw(&image) {
        Err(PreprocessError::ResizedTooLarge { resized_width, resized_height, .. }) => assert_eq!((resized_width, resized_height), (15_360_000, 256)),
        other => panic!("{other:?}"),
    }
    // The same for a tall one, and through a loaded model's classify_files.
    let tall = dir.path().join("tall.png");
    RgbImage::from_pixel(1, 60000, image::Rgb([0, 0, 0])).save(&tall).unwrap();
    let home = tempfile::tempdir().unwrap();
    let repo = repo(&dir.path().join("repo"), "squeezenet1_1", "", "");
    let loaded = load_on::<B>(&repo, "m", options(home.path()).random_init(), &Default::default()).unwrap();
    let e = loaded.classify_files(&[&tall], 1).unwrap_err();
    assert!(matches!(e, Error::Preprocess(PreprocessError::ResizedTooLarge { .. })), "{e}");
    // A normal image still classifies.
    let ok = dir.path().join("ok.png");
    RgbImage::from_pixel(300, 200, image::Rgb([90, 90, 90])).save(&ok).unwrap();
    assert_eq!(loaded.classify_files(&[&ok], 3).unwrap()[0].len(), 3);
}

#[test]
fn segmentation_checks_the_resized_size_from_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("line.png");
    RgbImage::from_pixel(60000, 1, image::Rgb([200, 10, 10])).save(&path).unwrap();
    let manifest = "format = 1\n[entrypoints.m]\narchitecture = \"lraspp_mobilenet_v3_large\"\ntask = \"semantic-segmentation\"\n";
    std::fs::create_dir_all(dir.path().join("repo")).unwrap();
    std::fs::write(dir.path().join("repo/hubconf.toml"), manifest).unwrap();
    let home = tempfile::tempdir().unwrap();
    let loaded = load_on::<B>(dir.path().join("repo").to_str().unwrap(), "m", options(home.path()).random_init(), &Default::default()).unwrap();
    let e = loaded.segment_file(&path).unwrap_err();
    assert!(matches!(e, Error::Preprocess(PreprocessError::ResizedTooLarge { .. })), "{e}");
    let e = loaded.segment_file(&write(dir.path(), "huge.png", &png_claiming(60000, 60000))).unwrap_err();
    assert!(matches!(e, Error::Preprocess(PreprocessError::TooManyPixels { .. })), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Preprocessing sizes

#[test]
fn preprocessing_sizes_beyond_the_limit_are_refused() {
    let image = RgbImage::from_pixel(8, 8, image::Rgb([0, 0, 0]));
    for (resize, crop, key) in [(60000, 224, "resize_size"), (256, 60000, "crop_size"), (4_000_000_000, 4_000_000_000, "resize_size")] {
        let pre = Preprocess::imagenet_with(resize, crop, preprocess::Interpolation::Bilinear);
        match pre.to_chw(&image) {
            Err(PreprocessError::SizeTooLarge { key: k, limit, .. }) => assert_eq!((k, limit), (key, preprocess::MAX_PREPROCESS_SIZE)),
            other => panic!("{resize}/{crop}: {other:?}"),
        }
        // batch_from_images checks before reserving `n·3·crop²` floats.
        assert!(pre.batch_from_images::<B>(std::slice::from_ref(&image), &Default::default()).is_err());
    }
    // From a manifest: refused when loading, naming the manifest key.
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    for (n, (line, key)) in [
        ("preprocessing = { kind = \"image-classification\", resize = 60000, crop = 224 }", "preprocessing.resize"),
        ("preprocessing = { kind = \"image-classification\", resize = 4000000000, crop = 4000000000 }", "preprocessing.resize"),
        ("preprocessing = { kind = \"image-classification\", resize = 256, crop = 0 }", "preprocessing.crop"),
    ]
    .into_iter()
    .enumerate()
    {
        let repo = repo(&dir.path().join(format!("r{n}")), "squeezenet1_1", line, "");
        let e = load_err(&repo, options(home.path()).random_init());
        assert!(e.to_string().contains(key), "{line}: {e}");
        assert!(matches!(e, Error::Preprocess(PreprocessError::SizeTooLarge { .. } | PreprocessError::ZeroSize(_))), "{e}");
    }
}

#[test]
fn inputs_smaller_than_the_architecture_takes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    // squeezenet1_1 needs 17x17 (torchvision's min_size); crop = 1 would run out of pixels.
    for crop in [1, 16] {
        let line = format!("preprocessing = {{ kind = \"image-classification\", resize = {crop}, crop = {crop} }}");
        let repo = repo(&dir.path().join(format!("c{crop}")), "squeezenet1_1", &line, "");
        match load_err(&repo, options(home.path()).random_init()) {
            Error::Preprocess(PreprocessError::TooSmall { min: 17, value, .. }) => assert_eq!(value, crop),
            other => panic!("{crop}: {other}"),
        }
    }
    let line = "preprocessing = { kind = \"image-classification\", resize = 17, crop = 17 }";
    let repo = repo(&dir.path().join("c17"), "squeezenet1_1", line, "");
    let loaded = load_on::<B>(&repo, "m", options(home.path()).random_init(), &Default::default()).unwrap();
    let img = RgbImage::from_pixel(40, 30, image::Rgb([9, 9, 9]));
    assert_eq!(loaded.classify(&[img], 2).unwrap()[0].len(), 2);
    // forward checks its input too.
    for s in [1, 5, 16] {
        let x = Tensor::<B, 4>::zeros([1, 3, s, 64], &Default::default());
        assert!(matches!(loaded.forward(x), Err(Error::Preprocess(PreprocessError::TooSmall { .. }))), "{s}");
    }
    // The minimum of every family, as torchvision gives it.
    let min = |id: &str| preprocess::min_input_size(&registry::find(id).unwrap());
    assert_eq!(
        [min("alexnet"), min("vgg16"), min("densenet121"), min("squeezenet1_0"), min("googlenet"), min("inception_v3"), min("efficientnet_v2_s"), min("resnet50")],
        [63, 32, 29, 21, 15, 75, 33, 1]
    );
}

// ---------------------------------------------------------------------------------------------
// Manifest config values

#[test]
fn manifest_config_sizes_are_bounded() {
    let t = |s: &str| -> toml::Table { toml::from_str(s).unwrap() };
    for bad in ["num_classes = 100000000000", "num_classes = 100001"] {
        match ClassifierConfig::from_table("e", &t(bad)) {
            Err(Error::TooLarge { key, limit, .. }) => assert!(key == "num_classes" && limit.contains("100000"), "{limit}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert_eq!(ClassifierConfig::from_table("e", &t("num_classes = 100000")).unwrap().num_classes, limits::MAX_CLASSES);
    // A config built in code (hub convert --num-classes) is checked when building.
    let c = ClassifierConfig { num_classes: 100_000_000_000, ..ClassifierConfig::default() };
    assert!(matches!(registry::find("resnet18").unwrap().build::<B>(&c, &Default::default()), Err(Error::TooLarge { .. })));
    let device = Default::default();
    for (arch, bad) in [
        ("fcn_resnet50", "num_classes = 100000000000"),
        ("tacotron2", "max_decoder_steps = 1000000000000"),
        ("resnet50", "num_classes = 100000000000"),
    ] {
        let arch = registry::architectures().find(|a| a.id == arch || (arch == "tacotron2" && a.family == registry::Family::Tacotron2)).unwrap();
        match arch.build_model::<B>("e", &t(bad), &device) {
            Err(Error::TooLarge { source_name, key, .. }) => assert!(source_name == "e" && bad.starts_with(&key)),
            Err(other) => panic!("{bad}: {other}"),
            Ok(_) => panic!("{bad}: built"),
        }
    }
    // Through a manifest.
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let repo = repo(dir.path(), "resnet50", "config = { num_classes = 100000000000 }", "");
    let e = load_err(&repo, options(home.path()).random_init());
    assert!(e.to_string().contains("num_classes = 100000000000") && e.to_string().contains("at most 100000"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// config.json

#[test]
fn bert_config_json_sizes_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (r#"{"num_hidden_layers": 100000000}"#, "num_hidden_layers"),
        (r#"{"hidden_size": 1000000, "num_attention_heads": 1}"#, "hidden_size"),
        (r#"{"vocab_size": 100000000000}"#, "vocab_size"),
        (r#"{"max_position_embeddings": 1000000000}"#, "max_position_embeddings"),
        (r#"{"intermediate_size": 100000000}"#, "intermediate_size"),
        (r#"{"num_attention_heads": 4096, "hidden_size": 4096}"#, "num_attention_heads"),
        (r#"{"type_vocab_size": 100000000}"#, "type_vocab_size"),
        (r#"{"num_labels": 1000000000}"#, "num_labels"),
        // Each size within its limit, together far too many parameters.
        (r#"{"vocab_size": 1000000, "hidden_size": 65536, "num_attention_heads": 64}"#, "the model's size"),
        (r#"{"num_hidden_layers": 1024, "hidden_size": 16384, "num_attention_heads": 64, "intermediate_size": 65536}"#, "the model's size"),
        (r#"{"vocab_size": 0}"#, "vocab_size"),
        (r#"{"hidden_size": 0}"#, "hidden_size"),
        (r#"{"max_position_embeddings": 0}"#, "max_position_embeddings"),
        (r#"{"vocab_size": 10, "pad_token_id": 10}"#, "pad_token_id"),
    ];
    refused_fields(dir.path(), "bert", &cases, |p| BertConfig::from_file(p));
    // A float where an integer belongs is a parse error naming the field.
    let path = json(dir.path(), "float.json", r#"{"num_hidden_layers": 1e8}"#);
    assert!(matches!(BertConfig::from_file(&path), Err(ConfigError::Parse { .. })));
    // Through the registry the error names the file.
    let path = json(dir.path(), "layers.json", cases[0].0);
    let e = registry::find("bert").unwrap().build_text::<B>(&path, None, &Default::default()).unwrap_err();
    assert!(matches!(e, Error::ModelConfig { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("layers.json") && msg.contains("num_hidden_layers") && msg.contains("at most 1024"), "{msg}");
    // num_labels from an override is checked too.
    let path = json(dir.path(), "tiny.json", r#"{"vocab_size": 50, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 16}"#);
    let e = registry::find("bert_sequence_classification").unwrap().build_text::<B>(&path, Some(1_000_000_000), &Default::default()).unwrap_err();
    assert!(e.to_string().contains("num_labels"), "{e}");
    assert!(registry::find("bert_sequence_classification").unwrap().build_text::<B>(&path, Some(3), &Default::default()).is_ok());
}

#[test]
fn gpt2_config_json_sizes_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (r#"{"n_layer": 100000000}"#, "n_layer"),
        (r#"{"n_embd": 1000000, "n_head": 1}"#, "n_embd"),
        (r#"{"n_positions": 1000000000}"#, "n_positions"),
        (r#"{"vocab_size": 100000000000}"#, "vocab_size"),
        (r#"{"n_inner": 100000000}"#, "n_inner"),
        (r#"{"n_head": 100000, "n_embd": 100000}"#, "n_embd"),
        (r#"{"n_layer": 1000, "n_embd": 16384, "n_head": 16}"#, "the model's size"),
        (r#"{"vocab_size": 0}"#, "vocab_size"),
        (r#"{"n_embd": 0}"#, "n_embd"),
        (r#"{"vocab_size": 100, "bos_token_id": 5, "eos_token_id": [7, 100]}"#, "eos_token_id"),
        (r#"{"vocab_size": 100, "bos_token_id": 100, "eos_token_id": 5}"#, "bos_token_id"),
        (r#"{"vocab_size": 100, "bos_token_id": 1, "eos_token_id": 1, "pad_token_id": 4000}"#, "pad_token_id"),
    ];
    refused_fields(dir.path(), "gpt2_", &cases, |p| Gpt2Config::from_file(p));
    let path = json(dir.path(), "layers.json", cases[0].0);
    let e = registry::find("gpt2_lm_head").unwrap().build_text::<B>(&path, None, &Default::default()).unwrap_err();
    assert!(e.to_string().contains("layers.json") && e.to_string().contains("n_layer"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

#[test]
fn checkpoints_are_recognised_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let header = br#"{"__metadata__":{}}"#;
    let mut st = (header.len() as u64).to_le_bytes().to_vec();
    st.extend(header);
    assert_eq!(sniff_checkpoint(&write(d, "weights.pth", &st)).unwrap(), CheckpointKind::Safetensors);
    assert_eq!(sniff_checkpoint(&write(d, "a.safetensors", b"PK\x03\x04rest")).unwrap(), CheckpointKind::TorchZip);
    assert_eq!(sniff_checkpoint(&write(d, "b.bin", b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.")).unwrap(), CheckpointKind::LegacyPickle);
    let mut tar = vec![0u8; 1024];
    tar[257..262].copy_from_slice(b"ustar");
    assert_eq!(sniff_checkpoint(&write(d, "c.tar", &tar)).unwrap(), CheckpointKind::Tar);
    // Nothing recognisable: a typed error naming the file and its first bytes.
    let mut lying = (1u64 << 40).to_le_bytes().to_vec();
    lying.extend(b"{}");
    for (name, bytes) in [("junk.pth", &b"<html>not found</html>"[..]), ("empty.pth", &b""[..]), ("lying.safetensors", &lying[..])] {
        let path = write(d, name, bytes);
        match sniff_checkpoint(&path) {
            Err(e @ ImportError::UnknownFormat { .. }) => assert!(e.to_string().contains(name), "{e}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(matches!(sniff_checkpoint(&d.join("missing.pth")), Err(ImportError::Open { .. })));
}

#[test]
fn checkpoint_paths_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let repo = repo(&dir.path().join("repo"), "squeezenet1_1", "", "");
    // A directory: said so, not "does not exist".
    let e = load_err(&repo, options(home.path()).checkpoint(dir.path()));
    assert!(matches!(e, Error::CheckpointNotAFile { kind: "a directory", .. }), "{e}");
    assert!(e.to_string().contains("is a directory"), "{e}");
    let e = load_err(&repo, options(home.path()).checkpoint(dir.path().join("nope.pth")));
    assert!(matches!(e, Error::NoCheckpoint { .. }), "{e}");
    // Junk content is named as such, whatever the extension.
    let junk = write(dir.path(), "junk.pth", b"GIF89a this is a picture");
    let e = load_err(&repo, options(home.path()).checkpoint(&junk));
    assert!(matches!(e, Error::Import(ImportError::UnknownFormat { .. })), "{e}");
    // A safetensors file named .pth loads as safetensors.
    let st = dir.path().join("really_safetensors.pth");
    squeezenet_weights(&st);
    let loaded = load_on::<B>(&repo, "m", options(home.path()).checkpoint(&st), &Default::default()).unwrap();
    assert!(loaded.report.is_some_and(|r| r.is_complete()));
}

// ---------------------------------------------------------------------------------------------
// Converted burnpacks

#[test]
fn converted_burnpacks_are_checked_against_their_record() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let weights = dir.path().join("repo").join("weights.safetensors");
    std::fs::create_dir_all(weights.parent().unwrap()).unwrap();
    squeezenet_weights(&weights);
    let repo = repo(&dir.path().join("repo"), "squeezenet1_1", "", "url = \"file://weights.safetensors\"\nformat = \"safetensors\"");
    let device = Default::default();
    let hub = hub_models::builtin::hub(hub_models::hub_core::HubOptions::with_root(home.path())).unwrap();
    let spec: hub_models::hub_core::RepoSpec = repo.parse().unwrap();
    let opts = options(home.path());
    let first = hub_models::load_with::<B>(&hub, &spec, "m", &opts, &device).unwrap();
    assert!(first.report.is_some(), "loaded from the safetensors file");
    let want = logits(&first);

    // Convert as `hub convert` does.
    let manifest = hub.repo(&spec).unwrap().manifest;
    let (_, ep) = manifest.entry("m").unwrap();
    let (_, w) = ep.weights("m", None).unwrap().unwrap();
    let source = hub.fetch(&w.artifact).unwrap();
    let out = converted_path(home.path(), cached_sha256(&source).unwrap(), "squeezenet1_1");
    let arch = registry::find("squeezenet1_1").unwrap();
    let model = match first.model {
        registry::Model::Classifier(m) => m,
        _ => panic!("not a classifier"),
    };
    convert(&model, arch.build::<B>(&ClassifierConfig::default(), &device).unwrap(), &out).unwrap();
    assert!(record_path(&out).is_file());
    verify_converted(&out).unwrap();
    let from_bpk = hub_models::load_with::<B>(&hub, &spec, "m", &opts, &device).unwrap();
    assert!(from_bpk.report.is_none(), "loaded from the burnpack");
    assert_eq!(logits(&from_bpk), want);
    assert_eq!(hub_models::convert::converted_files(home.path()).unwrap(), vec![out.clone()]);

    // One flipped byte in the middle (tensor data): detected by the hash, and the load falls
    // back to the checkpoint (same logits as before, not garbage).
    let good = std::fs::read(&out).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x40;
    std::fs::write(&out, &bad).unwrap();
    let e = verify_converted(&out).unwrap_err();
    assert!(matches!(e, Error::BurnpackIntegrity { .. }) && e.to_string().contains("sha256"), "{e}");
    let fallback = hub_models::load_with::<B>(&hub, &spec, "m", &opts, &device).unwrap();
    assert!(fallback.report.is_some(), "the damaged burnpack was not used");
    assert_eq!(logits(&fallback), want);

    // Truncated: the size says so before hashing.
    std::fs::write(&out, &good[..good.len() - 1]).unwrap();
    let e = verify_converted(&out).unwrap_err();
    assert!(e.to_string().contains("bytes were written"), "{e}");
    // No record, or a garbage one: not used either.
    std::fs::write(&out, &good).unwrap();
    verify_converted(&out).unwrap();
    let record = std::fs::read(record_path(&out)).unwrap();
    std::fs::write(record_path(&out), b"{not json").unwrap();
    assert!(matches!(verify_converted(&out), Err(Error::BurnpackIntegrity { .. })));
    std::fs::remove_file(record_path(&out)).unwrap();
    assert!(verify_converted(&out).unwrap_err().to_string().contains("record"));
    assert!(hub_models::load_with::<B>(&hub, &spec, "m", &opts, &device).unwrap().report.is_some());
    std::fs::write(record_path(&out), record).unwrap();
    verify_converted(&out).unwrap();
}
