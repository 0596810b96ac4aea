//! Randomised hostile inputs for the readers hub-models owns (issue 12): mutated PyTorch
//! checkpoints (the real zip layout torch writes, from the golden squeezenet1_1), mutated
//! safetensors files, and mutated PNG and JPEG images. Every case must end in `Ok` or a typed
//! error, never a panic or an abort (burn-store's apply aborts on a panic, which would fail this
//! whole test binary). The count per target is bounded (`HUB_FUZZ_CASES`, default 40); the seed
//! is printed so a failure reproduces.

mod common;

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn_store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};
use hub_models::import::ImportOptions;
use hub_models::preprocess::load_rgb8;
use hub_models::registry::{self, ClassifierConfig, ImageClassifier};

type B = Flex;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn cases() -> usize {
    std::env::var("HUB_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(40)
}

fn seed() -> u64 {
    let s = std::env::var("HUB_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED_F00D);
    eprintln!("fuzz seed {s} (HUB_FUZZ_SEED)");
    s
}

/// One random damage: flipped bytes, a truncation, a zeroed run, or a duplicated run.
fn mutate(rng: &mut Rng, bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    match rng.below(4) {
        0 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
        }
        1 => out.truncate(rng.below(out.len())),
        2 => {
            let i = rng.below(out.len());
            let n = (1 + rng.below(64)).min(out.len() - i);
            out[i..i + n].fill(0);
        }
        _ => {
            let i = rng.below(out.len());
            let n = (1 + rng.below(256)).min(out.len() - i);
            let run = out[i..i + n].to_vec();
            out.splice(i..i, run);
        }
    }
    out
}

fn squeezenet() -> ImageClassifier<B> {
    registry::find("squeezenet1_1").unwrap().build::<B>(&ClassifierConfig::default(), &Default::default()).unwrap()
}

fn options() -> ImportOptions {
    ImportOptions::new().with_remaps(registry::find("squeezenet1_1").unwrap().family.remaps())
}

/// Runs `f` on every mutation of `original`, counting errors; a panic fails with the case.
fn run_cases(name: &str, original: &[u8], dir: &Path, f: impl Fn(&Path) -> bool) {
    let mut rng = Rng(seed());
    let path: PathBuf = dir.join(name);
    let (mut ok, mut refused) = (0, 0);
    for case in 0..cases() {
        let bytes = mutate(&mut rng, original);
        std::fs::write(&path, &bytes).unwrap();
        match catch_unwind(AssertUnwindSafe(|| f(&path))) {
            Ok(true) => ok += 1,
            Ok(false) => refused += 1,
            Err(_) => panic!("{name}: case {case} panicked (its bytes are in {})", path.display()),
        }
    }
    eprintln!("{name}: {} cases, {refused} refused with an error, {ok} accepted", ok + refused);
}

#[test]
fn mutated_pytorch_checkpoints_never_panic() {
    let Some(golden) = common::VISION.entry("mutated checkpoints", "squeezenet1_1", &["model.pth"]) else {
        return;
    };
    let original = std::fs::read(golden.join("model.pth")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    run_cases("model.pth", &original, dir.path(), |p| squeezenet().load_pytorch(p, &options()).is_ok());
}

#[test]
fn mutated_safetensors_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("original.safetensors");
    let ImageClassifier::SqueezeNet(m) = squeezenet() else { panic!("not a squeezenet") };
    let mut store = SafetensorsStore::from_file(&path).with_to_adapter(BurnToPyTorchAdapter).with_key_remapping(r"\.[A-Z][A-Za-z0-9]*\.", ".").overwrite(true);
    m.save_into(&mut store).unwrap();
    let original = std::fs::read(&path).unwrap();
    assert!(squeezenet().load_safetensors(&path, &options()).is_ok(), "the unmutated file loads");
    run_cases("model.safetensors", &original, dir.path(), |p| squeezenet().load_safetensors(p, &options()).is_ok());
}

#[test]
fn mutated_images_never_panic() {
    let img = image::RgbImage::from_fn(37, 23, |x, y| image::Rgb([(x * 7) as u8, (y * 11) as u8, (x ^ y) as u8]));
    let dir = tempfile::tempdir().unwrap();
    for format in [image::ImageFormat::Png, image::ImageFormat::Jpeg] {
        let mut bytes = Cursor::new(Vec::new());
        img.write_to(&mut bytes, format).unwrap();
        let name = format!("image.{}", format.extensions_str()[0]);
        run_cases(&name, bytes.get_ref(), dir.path(), |p| load_rgb8(p).is_ok());
    }
}
