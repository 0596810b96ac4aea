//! Image tasks: classification, segmentation, generation.

use std::path::Path;

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use image::RgbImage;

use crate::error::Result;
use super::loaded::Loaded;
use crate::registry::Model;

/// One predicted class.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Prediction {
    /// Class index.
    pub index: usize,
    /// Class name (`class N` when unknown).
    pub label: String,
    /// Softmax probability.
    pub probability: f32,
}

impl<B: Backend> Loaded<B> {
    /// Logits for a preprocessed batch (classifiers).
    ///
    /// # Shapes
    /// - x: `[batch, 3, crop, crop]`
    /// - returns: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Result<Tensor<B, 2>> {
        let classifier = self.classifier()?;
        let [_, _, h, w] = x.dims();
        crate::preprocess::check_min_input(&self.architecture, "the input's height or width", h.min(w))?;
        Ok(classifier.forward(x))
    }
    /// `n` images from seeded noise (generators): the GAN zoo's `test(buildNoiseData(n))`.
    ///
    /// # Shapes
    /// - returns: `[n, channels, size, size]`, values in [-1, 1]
    pub fn generate(&self, n: usize, seed: u64) -> Result<Tensor<B, 4>> {
        let g = self.generator()?;
        Ok(g.test(g.build_noise_data(n, seed, &self.device)))
    }
    /// Segments an image file: the per-pixel labels at the preprocessed size, the resized image
    /// they belong to (for overlays), and the raw class scores `[1, classes, h, w]`.
    pub fn segment_file(&self, path: &Path) -> Result<(crate::segmentation::voc::Mask, RgbImage, Tensor<B, 4>)> {
        let Model::Segmenter(m) = &self.model else { return Err(self.wrong_task("segmentation")) };
        let pre = self.image_preprocess()?;
        let transform = crate::segmentation::preprocess::SemanticSegmentation {
            resize_size: Some(pre.resize_size),
            interpolation: pre.interpolation,
            mean: pre.mean,
            std: pre.std,
        };
        crate::preprocess::check_min_input(&self.architecture, "the resize size", pre.resize_size)?;
        if pre.resize_size > crate::preprocess::MAX_PREPROCESS_SIZE {
            return Err(crate::preprocess::PreprocessError::SizeTooLarge { key: "resize_size", value: pre.resize_size, limit: crate::preprocess::MAX_PREPROCESS_SIZE }.into());
        }
        // Checked from the header before decoding: the resized image must fit the pixel limit.
        let (w, h) = crate::preprocess::image_dimensions(path)?;
        crate::preprocess::check_resized(path, w, h, pre.resize_size, crate::preprocess::max_image_pixels()?)?;
        let (x, resized) = transform.from_file::<B>(path, &self.device)?;
        let scores = m.forward(x).out;
        let mask = crate::segmentation::voc::masks(scores.clone()).remove(0);
        Ok((mask, resized, scores))
    }
    /// The `k` most probable classes of each image, most probable first.
    pub fn classify(&self, images: &[RgbImage], k: usize) -> Result<Vec<Vec<Prediction>>> {
        Ok(self.classify_with_logits(images, k)?.0)
    }

    /// [`classify`](Self::classify), also returning the logits the classes were ranked by.
    ///
    /// # Shapes
    /// - returns: the predictions, and the logits `[images.len(), num_classes]`
    pub fn classify_with_logits(&self, images: &[RgbImage], k: usize) -> Result<(Vec<Vec<Prediction>>, Tensor<B, 2>)> {
        let batch = self.image_preprocess()?.batch_from_images::<B>(images, &self.device)?;
        let logits = self.forward(batch)?;
        Ok((self.top_k(logits.clone(), k), logits))
    }

    /// [`classify`](Self::classify) on image files (PNG or JPEG).
    pub fn classify_files<P: AsRef<Path>>(&self, paths: &[P], k: usize) -> Result<Vec<Vec<Prediction>>> {
        let images = paths.iter().map(|p| crate::preprocess::load_rgb8(p.as_ref())).collect::<Result<Vec<_>, _>>()?;
        self.classify(&images, k)
    }

    /// Top-k of logits with this model's category names.
    pub fn top_k(&self, logits: Tensor<B, 2>, k: usize) -> Vec<Vec<Prediction>> {
        let labels: Vec<&str> = self.categories.iter().map(String::as_str).collect();
        crate::imagenet::top_k_labeled(logits, k, &labels)
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|p| Prediction {
                        index: p.index,
                        label: if p.label == "?" { format!("class {}", p.index) } else { p.label.to_owned() },
                        probability: p.prob,
                    })
                    .collect()
            })
            .collect()
    }
}
