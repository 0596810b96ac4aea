//! Image preprocessing for the classifiers: torchvision's `ImageClassification` transform.
//!
//! torchvision 0.29 (`transforms/_presets.py`) applied to a `uint8` image tensor (what
//! `torchvision.io.decode_image` gives) does:
//!
//! 1. `F.resize(img, [resize_size], interpolation, antialias=True)`: the shorter side becomes
//!    `resize_size`, the longer `int(resize_size · long / short)`.
//! 2. `F.center_crop(img, [crop_size])`: offsets `int(round((size - crop) / 2))` (Python's
//!    rounding, half to even), zero padding first if the image is smaller than the crop.
//! 3. `convert_image_dtype(img, float)`: `pixel / 255`.
//! 4. `F.normalize(img, mean, std)`: `(x - mean) / std` per channel.
//!
//! torchvision resizes a `uint8` tensor along one of two code paths ([`ResizePath`]), both
//! antialiased, separable, width pass first, with PyTorch's `_upsample_{bilinear,bicubic}2d_aa`
//! weights (triangle or Keys cubic `a = -0.5` filter, support scaled by the downscale factor,
//! renormalised at the borders):
//!
//! - [`ResizePath::Float`], `torchvision.transforms.functional.resize` (what the presets of the
//!   torchvision weights use): the image is cast to `float32`, interpolated through a `float32`
//!   buffer, clamped to `[0, 255]` for bicubic and rounded half to even back to `uint8`.
//!   [`resize_rgb8`] follows the kernel operation for operation: the mix of `float` and
//!   `double` in `_compute_indices_min_size_weights_aa`, and the fused multiply-adds and
//!   summation order of the compiled kernel (measured bit for bit against torch 2.15's x86-64
//!   build; a PyTorch built differently may round a rare value on a `.5` boundary the other way,
//!   one grey level).
//! - [`ResizePath::Uint8`], `torchvision.transforms.v2.functional.resize` on the CPU (always for
//!   bicubic, for bilinear on AVX2/AVX-512/ARM64 machines): PyTorch's native `uint8` kernel
//!   (Pillow's algorithm): weights computed in `double`, quantised to `int16` at the largest
//!   precision that fits, integer accumulation, a rounded and clamped `uint8` image after each
//!   pass. Pure integer arithmetic: bit-exact.


mod crop;
mod decode;
mod error;
mod limits;
mod resize;

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use image::RgbImage;

pub use crop::center_crop;
pub use decode::{image_dimensions, load_rgb8, load_rgb8_with_limit};
pub use error::PreprocessError;
pub use limits::{check_min_input, check_resized, max_image_pixels, min_input_size, DEFAULT_MAX_IMAGE_PIXELS, MAX_PREPROCESS_SIZE};
pub use resize::{resize_planes_f32, resize_rgb8, resize_rgb8_fixed, resize_shorter_side, resized_dims, Interpolation, ResizePath};

/// ImageNet channel means (RGB), as torchvision's presets.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations (RGB), as torchvision's presets.
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// A classification preprocessing pipeline (torchvision's `ImageClassification`).
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocess {
    /// The shorter side after resizing.
    pub resize_size: usize,
    /// Side of the square centre crop.
    pub crop_size: usize,
    /// Resampling filter.
    pub interpolation: Interpolation,
    /// Which resize implementation to reproduce.
    pub resize_path: ResizePath,
    /// Per-channel mean subtracted from `pixel / 255`.
    pub mean: [f32; 3],
    /// Per-channel standard deviation dividing `pixel / 255 - mean`.
    pub std: [f32; 3],
}

impl Default for Preprocess {
    fn default() -> Self {
        Self::imagenet()
    }
}

impl Preprocess {
    /// torchvision's default: bilinear resize to 256, crop 224, ImageNet mean/std.
    pub fn imagenet() -> Self {
        Self::imagenet_with(256, 224, Interpolation::Bilinear)
    }

    /// ImageNet mean/std with another resize, crop or filter (e.g. `232, 224, Bilinear` for
    /// ResNet-50 V2 weights, `256, 224, Bicubic` for EfficientNet-B0).
    pub fn imagenet_with(
        resize_size: usize,
        crop_size: usize,
        interpolation: Interpolation,
    ) -> Self {
        Self {
            resize_size,
            crop_size,
            interpolation,
            resize_path: ResizePath::Float,
            mean: IMAGENET_MEAN,
            std: IMAGENET_STD,
        }
    }

    /// EfficientNet-Lite0 (TensorFlow's preprocessing): bicubic resize to 256, crop 224, and
    /// `(pixel - 127) / 128`, written as mean `127/255` and std `128/255` on `pixel / 255`.
    /// The resize is torchvision v2's `uint8` kernel, as in the project's Lite0 reference.
    pub fn efficientnet_lite() -> Self {
        Self {
            resize_size: 256,
            crop_size: 224,
            interpolation: Interpolation::Bicubic,
            resize_path: ResizePath::Uint8,
            mean: [127.0 / 255.0; 3],
            std: [128.0 / 255.0; 3],
        }
    }

    /// Checks the sizes: positive and at most [`MAX_PREPROCESS_SIZE`].
    pub fn validate(&self) -> Result<(), PreprocessError> {
        for (key, value) in [("resize_size", self.resize_size), ("crop_size", self.crop_size)] {
            if value == 0 {
                return Err(PreprocessError::ZeroSize(key));
            }
            if value > MAX_PREPROCESS_SIZE {
                return Err(PreprocessError::SizeTooLarge { key, value, limit: MAX_PREPROCESS_SIZE });
            }
        }
        Ok(())
    }

    /// Resizes and crops `image` (steps 1–2), keeping 8-bit pixels.
    pub fn resize_crop(&self, image: &RgbImage) -> Result<RgbImage, PreprocessError> {
        self.validate()?;
        if image.width() == 0 || image.height() == 0 {
            return Err(PreprocessError::Empty {
                path: PathBuf::from("<memory>"),
                width: image.width(),
                height: image.height(),
            });
        }
        check_resized(
            Path::new("<memory>"),
            image.width(),
            image.height(),
            self.resize_size,
            max_image_pixels()?,
        )?;
        let resized = resize_shorter_side(
            image,
            self.resize_size,
            self.interpolation,
            self.resize_path,
        );
        Ok(center_crop(&resized, self.crop_size, self.crop_size))
    }

    /// The full pipeline on one image: `[3, crop_size, crop_size]` values, channel-major.
    pub fn to_chw(&self, image: &RgbImage) -> Result<Vec<f32>, PreprocessError> {
        let cropped = self.resize_crop(image)?;
        Ok(self.normalize(&cropped))
    }

    /// Steps 3–4: `(pixel / 255 - mean) / std`, channel-major (`[3, height, width]`).
    pub fn normalize(&self, image: &RgbImage) -> Vec<f32> {
        normalize_chw(image, self.mean, self.std)
    }

    /// Preprocesses decoded images into one batch.
    ///
    /// # Shapes
    /// - output: `[images.len(), 3, crop_size, crop_size]`
    pub fn batch_from_images<B: Backend>(
        &self,
        images: &[RgbImage],
        device: &B::Device,
    ) -> Result<Tensor<B, 4>, PreprocessError> {
        if images.is_empty() {
            return Err(PreprocessError::EmptyBatch);
        }
        self.validate()?;
        let mut values = Vec::with_capacity(images.len() * 3 * self.crop_size * self.crop_size);
        for image in images {
            values.extend(self.to_chw(image)?);
        }
        let shape = [images.len(), 3, self.crop_size, self.crop_size];
        Ok(Tensor::from_data(TensorData::new(values, shape), device))
    }

    /// Reads, decodes and preprocesses image files (PNG or JPEG) into one batch.
    ///
    /// # Shapes
    /// - output: `[paths.len(), 3, crop_size, crop_size]`
    pub fn batch_from_files<B: Backend, P: AsRef<Path>>(
        &self,
        paths: &[P],
        device: &B::Device,
    ) -> Result<Tensor<B, 4>, PreprocessError> {
        // No paths: no images, the empty batch's error.
        let images = paths.iter().map(|p| load_rgb8(p.as_ref())).collect::<Result<Vec<_>, _>>()?;
        self.batch_from_images(&images, device)
    }
}

/// `(pixel / 255 - mean) / std` of every pixel, channel-major (`[3, height, width]`).
pub fn normalize_chw(image: &RgbImage, mean: [f32; 3], std: [f32; 3]) -> Vec<f32> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let mut out = vec![0.0f32; 3 * w * h];
    for (i, pixel) in image.pixels().enumerate() {
        for c in 0..3 {
            let x = f32::from(pixel[c]) / 255.0;
            out[c * w * h + i] = (x - mean[c]) / std[c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    #[test]
    fn batch_shape_and_normalisation() {
        let device = Default::default();
        let white = RgbImage::from_pixel(40, 30, image::Rgb([255, 255, 255]));
        let black = RgbImage::from_pixel(30, 50, image::Rgb([0, 0, 0]));
        let pre = Preprocess::imagenet_with(32, 24, Interpolation::Bilinear);
        let batch = pre
            .batch_from_images::<Flex>(&[white, black], &device)
            .unwrap();
        assert_eq!(batch.dims(), [2, 3, 24, 24]);
        let values: Vec<f32> = batch.into_data().iter::<f32>().collect();
        let plane = 24 * 24;
        for c in 0..3 {
            let white = (1.0 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
            let black = -IMAGENET_MEAN[c] / IMAGENET_STD[c];
            assert_eq!(values[c * plane], white);
            assert_eq!(values[3 * plane + c * plane + 5], black);
        }
        let lite = Preprocess::efficientnet_lite();
        let grey = RgbImage::from_pixel(8, 8, image::Rgb([127, 255, 0]));
        let v = lite.normalize(&grey);
        assert!(v[0].abs() < 1e-6);
        assert!((v[64] - 1.0).abs() < 1e-6);
        assert!((v[128] + 127.0 / 128.0).abs() < 1e-6);
    }

    #[test]
    fn errors_name_the_file() {
        let pre = Preprocess::imagenet();
        let err = pre
            .batch_from_files::<Flex, _>(&["/nonexistent/cat.png"], &Default::default())
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/cat.png"), "{err}");
        let empty: [&str; 0] = [];
        assert!(matches!(
            pre.batch_from_files::<Flex, _>(&empty, &Default::default()),
            Err(PreprocessError::EmptyBatch)
        ));
        let zero = Preprocess {
            crop_size: 0,
            ..Preprocess::imagenet()
        };
        assert!(matches!(
            zero.to_chw(&RgbImage::new(4, 4)),
            Err(PreprocessError::ZeroSize("crop_size"))
        ));
    }
}
