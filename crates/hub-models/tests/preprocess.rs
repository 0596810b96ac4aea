//! Our preprocessing against torchvision's, on a real photo.
//!
//! `cargo xtask golden` writes into `target/golden/real/`: `chelsea.png` (scikit-image's cat
//! photo), `preprocess_chelsea.safetensors` (the decoded image, torchvision's uint8 resizes and
//! `ImageClassification` outputs for resize 256 bilinear, 256 bicubic and 232 bilinear, plus the
//! same transform applied to a PIL image) and `lite0_chelsea.safetensors` (the EfficientNet-Lite0
//! input, made with torchvision v2's uint8 bicubic resize).
//!
//! Without those files each test prints why it is skipped and passes, unless
//! `HUB_REQUIRE_GOLDEN=1`. `HUB_GOLDEN_DIR` overrides the location of the `vision` directory
//! (`real` is its sibling). Run with `--nocapture` to see the measured differences.

mod common;

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::tensor::TensorData;
use hub_models::preprocess::{
    load_rgb8, resize_shorter_side, Interpolation, Preprocess, ResizePath, IMAGENET_STD,
};
use image::RgbImage;

/// Required agreement after normalisation.
const TOLERANCE: f32 = 1e-5;

/// The golden photo decoded, the path of its `reference` file and their folder, or `None`
/// (after printing why) when one of them is absent.
fn chelsea(test: &str, reference: &str) -> Option<(RgbImage, PathBuf, PathBuf)> {
    let dir = common::REAL.require(test, common::REAL.dir(), &["chelsea.png", reference])?;
    let image = load_rgb8(&dir.join("chelsea.png")).unwrap();
    Some((image, dir.join(reference), dir))
}

fn read_data(path: &Path, name: &str) -> TensorData {
    common::required_safetensor(path, name)
}

/// An image as torchvision's `[3, H, W]` uint8 layout.
fn chw_bytes(image: &RgbImage) -> Vec<u8> {
    let plane = (image.width() * image.height()) as usize;
    let mut out = vec![0u8; 3 * plane];
    for (i, p) in image.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = p[c];
        }
    }
    out
}

/// Compares an 8-bit image with a `[3, H, W]` uint8 tensor: `(differing values, max |diff|)`.
fn compare_u8(ours: &RgbImage, theirs: &TensorData) -> (usize, i32) {
    let shape = theirs.shape.to_vec();
    assert_eq!(
        shape,
        vec![3, ours.height() as usize, ours.width() as usize],
        "shape"
    );
    let theirs: Vec<u8> = theirs.iter::<u8>().collect();
    let diffs: Vec<i32> = chw_bytes(ours)
        .iter()
        .zip(&theirs)
        .map(|(&a, &b)| i32::from(a) - i32::from(b))
        .filter(|&d| d != 0)
        .collect();
    let max = diffs.iter().map(|d| d.abs()).max().unwrap_or(0);
    (diffs.len(), max)
}

fn max_abs_diff(ours: &[f32], theirs: &TensorData) -> f32 {
    let theirs: Vec<f32> = theirs.iter::<f32>().collect();
    assert_eq!(ours.len(), theirs.len(), "element count");
    ours.iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

#[test]
fn decoding_matches_torchvision() {
    let Some((image, file, _)) = chelsea("decode", "preprocess_chelsea.safetensors") else { return };
    let (n, max) = compare_u8(&image, &read_data(&file, "image"));
    println!("decode chelsea.png: {n} values differ (max {max})");
    assert_eq!(
        n, 0,
        "our PNG decoding differs from torchvision.io.decode_image"
    );
}

#[test]
fn imagenet_transforms_match_torchvision() {
    let Some((image, file, dir)) = chelsea("ImageClassification", "preprocess_chelsea.safetensors") else { return };
    let cases = [
        ("input", "resized", 256, Interpolation::Bilinear),
        (
            "input_bicubic",
            "resized_bicubic",
            256,
            Interpolation::Bicubic,
        ),
        ("input_232", "resized_232", 232, Interpolation::Bilinear),
    ];
    for (input, resized, size, filter) in cases {
        let ours = resize_shorter_side(&image, size, filter, ResizePath::Float);
        let (n, max) = compare_u8(&ours, &read_data(&file, resized));
        let pre = Preprocess::imagenet_with(size, 224, filter);
        let values = pre.to_chw(&image).unwrap();
        let err = max_abs_diff(&values, &read_data(&file, input));
        println!(
            "{input} (resize {size} {filter:?}): uint8 resize {n} values differ (max {max}), \
             normalised max|ours-torch| = {err:.3e}"
        );
        assert_eq!(n, 0, "{resized}: our resize differs from torchvision's");
        assert!(err <= TOLERANCE, "{input}: max|ours-torch| = {err:e}");
    }

    // A batch of files goes through the same pipeline.
    let batch = Preprocess::imagenet()
        .batch_from_files::<Flex, _>(
            &[dir.join("chelsea.png"), dir.join("chelsea.png")],
            &Default::default(),
        )
        .unwrap();
    assert_eq!(batch.dims(), [2, 3, 224, 224]);
    let values: Vec<f32> = batch.into_data().iter::<f32>().collect();
    let expected = read_data(&file, "input");
    assert!(max_abs_diff(&values[..3 * 224 * 224], &expected) <= TOLERANCE);
    assert!(max_abs_diff(&values[3 * 224 * 224..], &expected) <= TOLERANCE);
}

/// torchvision applied to a PIL image resizes with Pillow's own fixed-point code; PyTorch's
/// uint8 kernel ([`ResizePath::Uint8`]) is a port of it. Reported, and held to one grey level.
#[test]
fn pil_transform_is_within_one_grey_level() {
    let Some((image, file, _)) = chelsea("ImageClassification (PIL)", "preprocess_chelsea.safetensors") else { return };
    let expected = read_data(&file, "input_pil");
    let one_level = 1.0 / 255.0 / IMAGENET_STD.iter().fold(f32::MAX, |a, &b| a.min(b));
    for path in [ResizePath::Uint8, ResizePath::Float] {
        let pre = Preprocess {
            resize_path: path,
            ..Preprocess::imagenet()
        };
        let values = pre.to_chw(&image).unwrap();
        let err = max_abs_diff(&values, &expected);
        let theirs: Vec<f32> = expected.iter::<f32>().collect();
        let differing = values
            .iter()
            .zip(&theirs)
            .filter(|(a, b)| (*a - *b).abs() > TOLERANCE)
            .count();
        println!(
            "input_pil vs our {path:?} path: max|ours-torch| = {err:.3e} ({:.2} grey levels), \
             {differing} of {} values differ",
            err / one_level,
            values.len()
        );
        assert!(err <= one_level * 1.001, "{path:?}: {err:e}");
    }
}

#[test]
fn lite0_preprocessing_matches_the_reference() {
    let Some((image, file, _)) = chelsea("Lite0 preprocessing", "lite0_chelsea.safetensors") else { return };
    let pre = Preprocess::efficientnet_lite();
    let resized = resize_shorter_side(&image, pre.resize_size, pre.interpolation, pre.resize_path);
    let (n, max) = compare_u8(&resized, &read_data(&file, "resized"));
    let values = pre.to_chw(&image).unwrap();
    let err = max_abs_diff(&values, &read_data(&file, "input"));
    println!(
        "lite0 input (v2 uint8 bicubic 256, crop 224, (p-127)/128): uint8 resize {n} values \
         differ (max {max}), normalised max|ours-torch| = {err:.3e}"
    );
    assert_eq!(n, 0, "our uint8 resize differs from torchvision v2's");
    assert!(err <= TOLERANCE, "max|ours-torch| = {err:e}");
}
