//! Pascal VOC labels and the rendering of segmentation results: per-pixel labels (the argmax
//! of the scores), colour-coded masks in the VOC palette (PNG), overlays on the input image
//! and per-class pixel shares.

use std::path::Path;

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use image::{Rgb, RgbImage};

use super::SegmentationError;

/// The 21 labels of the published weights, index = class (torchvision's `_VOC_CATEGORIES`).
pub const CATEGORIES: [&str; 21] = [
    "__background__",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
];

/// The Pascal VOC colour of a label (the devkit's `labelcolormap`): the bits of the label are
/// dealt out, lowest first, to red, green and blue, from each channel's highest bit down
/// (label 0 black, 1 `(128, 0, 0)`, 15 person `(192, 128, 128)`; labels repeat every 256).
pub fn palette(label: usize) -> [u8; 3] {
    let mut rgb = [0u8; 3];
    let mut c = label % 256;
    for bit in (0..8).rev() {
        for (channel, value) in rgb.iter_mut().enumerate() {
            *value |= (((c >> channel) & 1) as u8) << bit;
        }
        c >>= 3;
    }
    rgb
}

/// Per-pixel class labels of one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Row-major labels, `width · height` of them.
    pub labels: Vec<u32>,
}

/// One class's share of a [`Mask`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClassShare {
    /// The class index.
    pub label: u32,
    /// Its name, if the category list has one.
    pub name: Option<&'static str>,
    /// Number of pixels with this label.
    pub pixels: usize,
    /// `pixels / (width · height)`.
    pub share: f64,
}

/// The label of each pixel: the argmax over the classes (the first on ties).
///
/// # Shapes
/// - scores: `[batch, num_classes, height, width]` (e.g. [`super::SegOutput::out`])
/// - output: `batch` masks of `height × width`
pub fn masks<B: Backend>(scores: Tensor<B, 4>) -> Vec<Mask> {
    let [n, _, h, w] = scores.dims();
    let labels = scores.argmax(1).into_data().convert::<i64>();
    let labels = labels.as_slice::<i64>().unwrap_or(&[]);
    labels
        .chunks(h * w)
        .take(n)
        .map(|chunk| Mask {
            width: w,
            height: h,
            labels: chunk.iter().map(|&l| l as u32).collect(),
        })
        .collect()
}

impl Mask {
    /// The mask in the VOC palette.
    pub fn to_color_image(&self) -> RgbImage {
        RgbImage::from_fn(self.width as u32, self.height as u32, |x, y| {
            Rgb(palette(
                self.labels[y as usize * self.width + x as usize] as usize,
            ))
        })
    }

    /// Writes the colour-coded mask as a PNG file.
    pub fn save_png(&self, path: &Path) -> Result<(), SegmentationError> {
        self.to_color_image()
            .save_with_format(path, image::ImageFormat::Png)
            .map_err(|source| SegmentationError::Write {
                path: path.to_path_buf(),
                source,
            })
    }

    /// `image` with every non-background pixel (label ≠ 0) blended with its class colour:
    /// `(1 - alpha) · pixel + alpha · colour`, rounded. The image must have the mask's size
    /// (see [`Mask::resize_nearest`] to go back to an original image's size).
    pub fn overlay(&self, image: &RgbImage, alpha: f32) -> Result<RgbImage, SegmentationError> {
        let size = (image.width() as usize, image.height() as usize);
        if size != (self.width, self.height) {
            return Err(SegmentationError::OverlaySize {
                mask: (self.width, self.height),
                image: size,
            });
        }
        let alpha = alpha.clamp(0.0, 1.0);
        let mut out = image.clone();
        for (pixel, &label) in out.pixels_mut().zip(&self.labels) {
            if label == 0 {
                continue;
            }
            let colour = palette(label as usize);
            for c in 0..3 {
                let v = (1.0 - alpha) * f32::from(pixel[c]) + alpha * f32::from(colour[c]);
                pixel[c] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
        Ok(out)
    }

    /// The mask at another size, nearest neighbour (PyTorch's `mode="nearest"`: source index
    /// `floor(dst · in / out)`).
    pub fn resize_nearest(&self, width: usize, height: usize) -> Mask {
        let src = |dst: usize, input: usize, output: usize| {
            ((dst as f64 * input as f64 / output as f64) as usize).min(input.saturating_sub(1))
        };
        let mut labels = Vec::with_capacity(width * height);
        for y in 0..height {
            let row = src(y, self.height, height) * self.width;
            labels.extend((0..width).map(|x| self.labels[row + src(x, self.width, width)]));
        }
        Mask {
            width,
            height,
            labels,
        }
    }

    /// The classes present, largest share first (ties by label), named from `categories`
    /// (e.g. [`CATEGORIES`]).
    pub fn class_shares(&self, categories: &[&'static str]) -> Vec<ClassShare> {
        let mut counts = std::collections::BTreeMap::<u32, usize>::new();
        for &label in &self.labels {
            *counts.entry(label).or_default() += 1;
        }
        let total = self.labels.len().max(1) as f64;
        let mut shares: Vec<ClassShare> = counts
            .into_iter()
            .map(|(label, pixels)| ClassShare {
                label,
                name: categories.get(label as usize).copied(),
                pixels,
                share: pixels as f64 / total,
            })
            .collect();
        shares.sort_by(|a, b| b.pixels.cmp(&a.pixels).then(a.label.cmp(&b.label)));
        shares
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::TensorData;

    type B = Flex;

    #[test]
    fn palette_is_the_voc_colour_map() {
        // Colours of the Pascal VOC devkit's label images.
        assert_eq!(palette(0), [0, 0, 0]);
        assert_eq!(palette(1), [128, 0, 0]);
        assert_eq!(palette(2), [0, 128, 0]);
        assert_eq!(palette(3), [128, 128, 0]);
        assert_eq!(palette(4), [0, 0, 128]);
        assert_eq!(palette(8), [64, 0, 0]);
        assert_eq!(palette(15), [192, 128, 128]);
        assert_eq!(palette(20), [0, 64, 128]);
        assert_eq!(palette(255), [224, 224, 192]);
        assert_eq!(CATEGORIES[15], "person");
    }

    fn scores() -> Tensor<B, 4> {
        // Batch 2, 3 classes, 2×3 pixels; the labels are chosen per pixel below.
        let labels = [[0, 1, 2, 2, 2, 1], [2, 2, 2, 2, 2, 2]];
        let mut values = vec![0.0f32; 2 * 3 * 6];
        for (b, image) in labels.iter().enumerate() {
            for (p, &l) in image.iter().enumerate() {
                for c in 0..3 {
                    values[(b * 3 + c) * 6 + p] = if c == l { 1.0 } else { -(c as f32) };
                }
            }
        }
        Tensor::from_data(TensorData::new(values, [2, 3, 2, 3]), &Default::default())
    }

    #[test]
    fn masks_shares_and_images() {
        let masks = masks(scores());
        assert_eq!(masks.len(), 2);
        assert_eq!(masks[0].labels, [0, 1, 2, 2, 2, 1]);
        assert_eq!((masks[0].width, masks[0].height), (3, 2));
        let shares = masks[0].class_shares(&CATEGORIES);
        let summary: Vec<_> = shares.iter().map(|s| (s.label, s.name, s.pixels)).collect();
        assert_eq!(
            summary,
            [
                (2, Some("bicycle"), 3),
                (1, Some("aeroplane"), 2),
                (0, Some("__background__"), 1)
            ]
        );
        assert!((shares[0].share - 0.5).abs() < 1e-12);

        let colours = masks[0].to_color_image();
        assert_eq!(colours.get_pixel(1, 0).0, palette(1));
        let image = RgbImage::from_pixel(3, 2, Rgb([100, 100, 100]));
        let overlay = masks[0].overlay(&image, 0.5).unwrap();
        assert_eq!(overlay.get_pixel(0, 0).0, [100, 100, 100]); // background untouched
        assert_eq!(overlay.get_pixel(1, 0).0, [114, 50, 50]); // (100 + 128) / 2, 100 / 2
        assert!(masks[0].overlay(&RgbImage::new(2, 2), 0.5).is_err());

        let big = masks[0].resize_nearest(6, 4);
        assert_eq!(&big.labels[..6], &[0, 0, 1, 1, 2, 2]);
        assert_eq!(&big.labels[18..], &[2, 2, 2, 2, 1, 1]);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mask.png");
        masks[1].save_png(&path).unwrap();
        let back = image::open(&path).unwrap().to_rgb8();
        assert_eq!(back, masks[1].to_color_image());
        let err = masks[1]
            .save_png(&dir.path().join("missing/mask.png"))
            .unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
