//! The input transform of the segmentation weights: torchvision's `SemanticSegmentation`
//! preset (`transforms/_presets.py`, `resize_size=520` for every published weight).
//!
//! On a `uint8` image tensor (what `torchvision.io.decode_image` gives) it does:
//!
//! 1. `F.resize(img, [520], bilinear, antialias=True)`: the shorter side becomes 520, the longer
//!    `int(520 · long / short)` — no crop, so the output keeps the aspect ratio;
//! 2. `convert_image_dtype(img, float)`: `pixel / 255`;
//! 3. `F.normalize(img, mean, std)` with the ImageNet mean and std.
//!
//! The resize is [`crate::preprocess::resize_shorter_side`] (torchvision's `float32` path,
//! rounded back to 8 bits), shared with the classifiers' transform.

use std::path::Path;

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use image::RgbImage;

use super::SegmentationError;
use crate::preprocess::{
    load_rgb8, resize_shorter_side, Interpolation, PreprocessError, ResizePath, IMAGENET_MEAN,
    IMAGENET_STD,
};

/// torchvision's `SemanticSegmentation` transform.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticSegmentation {
    /// The shorter side after resizing; `None` keeps the image size.
    pub resize_size: Option<usize>,
    /// Resampling filter (antialiased).
    pub interpolation: Interpolation,
    /// Per-channel mean subtracted from `pixel / 255`.
    pub mean: [f32; 3],
    /// Per-channel standard deviation dividing `pixel / 255 - mean`.
    pub std: [f32; 3],
}

impl Default for SemanticSegmentation {
    /// The published weights' transform: `resize_size = 520`, bilinear, ImageNet mean/std.
    fn default() -> Self {
        Self::new(Some(520))
    }
}

impl SemanticSegmentation {
    /// Bilinear resize of the shorter side to `resize_size`, ImageNet mean/std.
    pub fn new(resize_size: Option<usize>) -> Self {
        Self {
            resize_size,
            interpolation: Interpolation::Bilinear,
            mean: IMAGENET_MEAN,
            std: IMAGENET_STD,
        }
    }

    /// Step 1: the image the model sees, still in 8 bits (what masks are overlaid on).
    pub fn resize(&self, image: &RgbImage) -> Result<RgbImage, PreprocessError> {
        if image.width() == 0 || image.height() == 0 {
            return Err(PreprocessError::Empty {
                path: "<memory>".into(),
                width: image.width(),
                height: image.height(),
            });
        }
        match self.resize_size {
            Some(0) => Err(PreprocessError::ZeroSize("resize_size")),
            Some(size) => Ok(resize_shorter_side(
                image,
                size,
                self.interpolation,
                ResizePath::Float,
            )),
            None => Ok(image.clone()),
        }
    }

    /// Steps 2–3 on an already resized image: `(pixel / 255 - mean) / std`, channel-major
    /// (`[3, height, width]`).
    pub fn normalize(&self, image: &RgbImage) -> Vec<f32> {
        crate::preprocess::normalize_chw(image, self.mean, self.std)
    }

    /// The whole transform on one image.
    ///
    /// # Shapes
    /// - output: `[1, 3, height', width']`, the resized size
    pub fn tensor<B: Backend>(
        &self,
        image: &RgbImage,
        device: &B::Device,
    ) -> Result<Tensor<B, 4>, PreprocessError> {
        Ok(self.resized_to_tensor(&self.resize(image)?, device))
    }

    /// Steps 2–3 as a `[1, 3, height, width]` tensor.
    fn resized_to_tensor<B: Backend>(
        &self,
        resized: &RgbImage,
        device: &B::Device,
    ) -> Tensor<B, 4> {
        let shape = [1, 3, resized.height() as usize, resized.width() as usize];
        Tensor::from_data(TensorData::new(self.normalize(resized), shape), device)
    }

    /// Transforms images into one batch; after resizing they must all have the same size
    /// (there is no crop), else [`SegmentationError::BatchSize`].
    ///
    /// # Shapes
    /// - output: `[images.len(), 3, height', width']`
    pub fn batch<B: Backend>(
        &self,
        images: &[RgbImage],
        device: &B::Device,
    ) -> Result<Tensor<B, 4>, SegmentationError> {
        let first = images.first().ok_or(PreprocessError::EmptyBatch)?;
        let first = self.resize(first)?;
        let size = (first.width(), first.height());
        let mut values = self.normalize(&first);
        for (index, image) in images.iter().enumerate().skip(1) {
            let resized = self.resize(image)?;
            let actual = (resized.width(), resized.height());
            if actual != size {
                return Err(SegmentationError::BatchSize {
                    index,
                    expected: size,
                    actual,
                });
            }
            values.extend(self.normalize(&resized));
        }
        let shape = [images.len(), 3, size.1 as usize, size.0 as usize];
        Ok(Tensor::from_data(TensorData::new(values, shape), device))
    }

    /// Reads and transforms one image file (PNG or JPEG); also returns the resized 8-bit image.
    ///
    /// # Shapes
    /// - output: `[1, 3, height', width']`
    pub fn from_file<B: Backend>(
        &self,
        path: &Path,
        device: &B::Device,
    ) -> Result<(Tensor<B, 4>, RgbImage), PreprocessError> {
        let resized = self.resize(&load_rgb8(path)?)?;
        Ok((self.resized_to_tensor(&resized, device), resized))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    type B = Flex;

    #[test]
    fn keeps_the_aspect_ratio_without_cropping() {
        let device = Default::default();
        let t = SemanticSegmentation::default();
        let image = RgbImage::from_pixel(300, 200, image::Rgb([10, 200, 30]));
        let x = t.tensor::<B>(&image, &device).unwrap();
        assert_eq!(x.dims(), [1, 3, 520, 780]);
        // A constant image stays constant: (pixel / 255 - mean) / std per channel.
        let v = x.into_data().to_vec::<f32>().unwrap();
        let expected = (200.0 / 255.0 - IMAGENET_MEAN[1]) / IMAGENET_STD[1];
        assert!((v[520 * 780 + 1234] - expected).abs() < 1e-6);
        assert!(SemanticSegmentation::new(None).resize(&image).unwrap() == image);
    }

    #[test]
    fn batches_need_equal_sizes() {
        let device = Default::default();
        let t = SemanticSegmentation::new(Some(16));
        let a = RgbImage::new(32, 16);
        let b = RgbImage::new(64, 32); // same aspect ratio: same size after resizing
        let c = RgbImage::new(16, 32);
        assert_eq!(
            t.batch::<B>(&[a.clone(), b], &device).unwrap().dims(),
            [2, 3, 16, 32]
        );
        let err = t.batch::<B>(&[a, c], &device).unwrap_err();
        assert!(
            matches!(err, SegmentationError::BatchSize { index: 1, .. }),
            "{err}"
        );
        assert!(t.batch::<B>(&[], &device).is_err());
    }
}
