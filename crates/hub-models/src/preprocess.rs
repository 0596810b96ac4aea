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

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use image::RgbImage;

/// Errors of the preprocessing functions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreprocessError {
    /// The file could not be read or decoded as an image.
    #[error("cannot read image {path}")]
    Read {
        /// The image file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: image::ImageError,
    },
    /// The image has no pixels.
    #[error("image {path} is empty ({width}x{height})")]
    Empty {
        /// The image file (or `<memory>`).
        path: PathBuf,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// A batch needs at least one image.
    #[error("no images to preprocess")]
    EmptyBatch,
    /// A size in the [`Preprocess`] configuration is zero.
    #[error("invalid preprocessing configuration: {0} must be positive")]
    ZeroSize(&'static str),
    /// A size in the [`Preprocess`] configuration (or a manifest's `preprocessing`) is larger
    /// than hub accepts.
    #[error("invalid preprocessing configuration: {key} = {value} is larger than hub accepts (at most {limit}); the models are trained at a few hundred pixels, use a smaller value")]
    SizeTooLarge {
        /// `resize_size` or `crop_size` (`preprocessing.resize` / `preprocessing.crop`).
        key: &'static str,
        /// The value asked for.
        value: usize,
        /// The largest accepted ([`MAX_PREPROCESS_SIZE`]).
        limit: usize,
    },
    /// The input is smaller than the architecture can take (its convolutions and poolings would
    /// run out of pixels).
    #[error("{architecture} takes inputs of at least {min}x{min} pixels, but {key} is {value}; use a larger value (torchvision's min_size for this model)")]
    TooSmall {
        /// The architecture id.
        architecture: String,
        /// What is too small (`preprocessing.crop`, `the input`, ...).
        key: String,
        /// The size given.
        value: usize,
        /// The smallest the architecture takes.
        min: usize,
    },
    /// The image file declares more pixels than hub decodes (checked from its header, before
    /// any pixel is allocated).
    #[error("image {path} is {width}x{height} = {pixels} pixels, more than hub decodes ({limit}); scale it down first, or raise the limit with HUB_MAX_IMAGE_PIXELS")]
    TooManyPixels {
        /// The image file.
        path: PathBuf,
        /// Width in pixels (from the header).
        width: u32,
        /// Height in pixels (from the header).
        height: u32,
        /// `width · height`.
        pixels: u64,
        /// The limit ([`max_image_pixels`]).
        limit: u64,
    },
    /// Resizing the image's shorter side would make an image larger than hub allows (a very
    /// elongated image, e.g. 60000x1 resized to 256 would be 15360000x256).
    #[error("resizing {path} ({width}x{height}) to a shorter side of {size} would make a {resized_width}x{resized_height} image, more than {limit} pixels; crop the image to a less elongated shape first, or raise the limit with HUB_MAX_IMAGE_PIXELS")]
    ResizedTooLarge {
        /// The image file (or `<memory>`).
        path: PathBuf,
        /// Width before resizing.
        width: u32,
        /// Height before resizing.
        height: u32,
        /// The shorter side asked for.
        size: usize,
        /// Width after resizing.
        resized_width: u64,
        /// Height after resizing.
        resized_height: u64,
        /// The limit ([`max_image_pixels`]).
        limit: u64,
    },
    /// `HUB_MAX_IMAGE_PIXELS` is not a positive integer.
    #[error("HUB_MAX_IMAGE_PIXELS={value:?} is not a positive integer (pixels, e.g. 100000000)")]
    BadLimit {
        /// The variable's value.
        value: String,
    },
}

/// The largest `resize_size` and `crop_size` hub accepts (pixels). The published models run at
/// 224 to 600; a 2048x2048 input already needs gigabytes of activations.
pub const MAX_PREPROCESS_SIZE: usize = 2048;

/// The default of [`max_image_pixels`]: 100 megapixels.
pub const DEFAULT_MAX_IMAGE_PIXELS: u64 = 100_000_000;

/// The most pixels an image may have, as decoded and after resizing:
/// `HUB_MAX_IMAGE_PIXELS` when set, else [`DEFAULT_MAX_IMAGE_PIXELS`].
pub fn max_image_pixels() -> Result<u64, PreprocessError> {
    match std::env::var("HUB_MAX_IMAGE_PIXELS") {
        Err(_) => Ok(DEFAULT_MAX_IMAGE_PIXELS),
        Ok(v) => v.trim().parse::<u64>().ok().filter(|n| *n > 0).ok_or(PreprocessError::BadLimit { value: v }),
    }
}

/// The smallest square input `architecture` takes: torchvision's `min_size` of its weights
/// (below it PyTorch's own convolutions and poolings fail, and burn's either panic or pool
/// empty feature maps into meaningless logits).
pub fn min_input_size(architecture: &crate::registry::Architecture) -> usize {
    use crate::registry::Family;
    match architecture.family {
        Family::AlexNet => 63,
        Family::Vgg => 32,
        Family::DenseNet => 29,
        Family::SqueezeNet if architecture.id == "squeezenet1_0" => 21,
        Family::SqueezeNet => 17,
        Family::GoogLeNet => 15,
        Family::InceptionV3 => 75,
        Family::EfficientNet if architecture.id.starts_with("efficientnet_v2") => 33,
        _ => 1,
    }
}

/// An error unless `architecture` can take a `value`x`value` input (`key` says where the size
/// comes from, for the message).
pub fn check_min_input(architecture: &crate::registry::Architecture, key: &str, value: usize) -> Result<(), PreprocessError> {
    let min = min_input_size(architecture);
    if value < min {
        return Err(PreprocessError::TooSmall { architecture: architecture.id.to_owned(), key: key.to_owned(), value, min });
    }
    Ok(())
}

/// An error unless resizing a `width`x`height` image to a shorter side of `size` stays within
/// `limit` pixels.
pub fn check_resized(path: &Path, width: u32, height: u32, size: usize, limit: u64) -> Result<(), PreprocessError> {
    let (short, long) = (width.min(height) as u64, width.max(height) as u64);
    if short == 0 {
        return Err(PreprocessError::Empty { path: path.to_path_buf(), width, height });
    }
    let size = size as u64;
    // As `resized_dims`: the longer side is `int(size · long / short)`.
    let new_long = (size as f64 * long as f64 / short as f64) as u64;
    let (resized_width, resized_height) = if width <= height { (size, new_long) } else { (new_long, size) };
    if resized_width.saturating_mul(resized_height) > limit || resized_width > u32::MAX as u64 || resized_height > u32::MAX as u64 {
        return Err(PreprocessError::ResizedTooLarge { path: path.to_path_buf(), width, height, size: size as usize, resized_width, resized_height, limit });
    }
    Ok(())
}

/// The width and height an image file declares in its header (nothing is decoded).
pub fn image_dimensions(path: &Path) -> Result<(u32, u32), PreprocessError> {
    let read = |source: image::ImageError| PreprocessError::Read { path: path.to_path_buf(), source };
    let mut reader = image::ImageReader::open(path).map_err(|e| read(e.into()))?.with_guessed_format().map_err(|e| read(e.into()))?;
    reader.no_limits();
    reader.into_dimensions().map_err(read)
}

/// Resampling filter of the resize step (torchvision's `InterpolationMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    /// Triangle filter (`InterpolationMode.BILINEAR`), antialiased.
    Bilinear,
    /// Keys cubic filter with `a = -0.5` (`InterpolationMode.BICUBIC`), antialiased.
    Bicubic,
}

/// Which of torchvision's two `uint8` resize implementations to reproduce (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizePath {
    /// `transforms.functional.resize` (v1): `float32` interpolation, one rounding at the end.
    Float,
    /// `transforms.v2.functional.resize` on the CPU: PyTorch's `uint8` fixed-point kernel.
    Uint8,
}

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
        if paths.is_empty() {
            return Err(PreprocessError::EmptyBatch);
        }
        let images = paths
            .iter()
            .map(|p| load_rgb8(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
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

/// Reads and decodes an image file as 8-bit RGB (grey images are replicated, alpha is dropped).
///
/// The dimensions are read from the file's header first: an image of more than
/// [`max_image_pixels`] pixels is refused before anything is decoded.
pub fn load_rgb8(path: &Path) -> Result<RgbImage, PreprocessError> {
    load_rgb8_with_limit(path, max_image_pixels()?)
}

/// [`load_rgb8`] with an explicit pixel limit.
pub fn load_rgb8_with_limit(path: &Path, max_pixels: u64) -> Result<RgbImage, PreprocessError> {
    let read = |source: image::ImageError| PreprocessError::Read { path: path.to_path_buf(), source };
    // The header alone, without the decoder's allocation limit (which would refuse a huge image
    // with a less telling error): our own pixel limit first.
    let (width, height) = image_dimensions(path)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(PreprocessError::TooManyPixels { path: path.to_path_buf(), width, height, pixels, limit: max_pixels });
    }
    let mut reader = image::ImageReader::open(path).map_err(|e| read(e.into()))?.with_guessed_format().map_err(|e| read(e.into()))?;
    // The decoder's own allocation cap: the largest accepted image at 16 bits per RGBA channel.
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(8).max(1 << 20));
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(read)?;
    let (width, height) = image::ImageDecoder::dimensions(&decoder);
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(PreprocessError::TooManyPixels { path: path.to_path_buf(), width, height, pixels, limit: max_pixels });
    }
    let image = image::DynamicImage::from_decoder(decoder).map_err(read)?;
    let image = image.to_rgb8();
    if image.width() == 0 || image.height() == 0 {
        return Err(PreprocessError::Empty {
            path: path.to_path_buf(),
            width: image.width(),
            height: image.height(),
        });
    }
    Ok(image)
}

/// torchvision's `_compute_resized_output_size` for a single size: `(height, width)` with the
/// shorter side `size` and the longer `int(size · long / short)`.
pub fn resized_dims(height: usize, width: usize, size: usize) -> (usize, usize) {
    let (short, long) = if width <= height {
        (width, height)
    } else {
        (height, width)
    };
    let new_long = (size as f64 * long as f64 / short as f64) as usize;
    if width <= height {
        (new_long, size)
    } else {
        (size, new_long)
    }
}

/// Resizes so that the shorter side is `size` (step 1 of the module docs).
pub fn resize_shorter_side(
    image: &RgbImage,
    size: usize,
    filter: Interpolation,
    path: ResizePath,
) -> RgbImage {
    let (h, w) = (image.height() as usize, image.width() as usize);
    let (new_h, new_w) = resized_dims(h, w, size);
    match path {
        ResizePath::Float => resize_rgb8(image, new_h, new_w, filter),
        ResizePath::Uint8 => resize_rgb8_fixed(image, new_h, new_w, filter),
    }
}

/// Antialiased resize of an 8-bit RGB image to `height`×`width`, as torchvision's tensor
/// `transforms.functional.resize(uint8_image, ..., antialias=True)` ([`ResizePath::Float`]).
pub fn resize_rgb8(
    image: &RgbImage,
    height: usize,
    width: usize,
    filter: Interpolation,
) -> RgbImage {
    let (h, w) = (image.height() as usize, image.width() as usize);
    if (h, w) == (height, width) {
        return image.clone();
    }
    let planes = resize_planes_f32(image, height, width, filter);
    let to_u8 = |v: f32| {
        // Bicubic can overshoot: torchvision clamps, then `torch.round` (half to even).
        let v = if filter == Interpolation::Bicubic {
            v.clamp(0.0, 255.0)
        } else {
            v
        };
        v.round_ties_even().clamp(0.0, 255.0) as u8
    };
    RgbImage::from_fn(width as u32, height as u32, |x, y| {
        let i = y as usize * width + x as usize;
        image::Rgb([
            to_u8(planes[0][i]),
            to_u8(planes[1][i]),
            to_u8(planes[2][i]),
        ])
    })
}

/// Per-output-index source ranges and normalised weights of PyTorch's antialiased
/// interpolation along one dimension (`_compute_index_ranges_weights` with
/// `_compute_indices_min_size_weights_aa`, `scalar_t = float`).
struct AaWeights {
    /// First source index of each output index.
    start: Vec<usize>,
    /// Weights of each output index (as many as source indices it reads).
    weights: Vec<Vec<f32>>,
}

impl AaWeights {
    fn new(input: usize, output: usize, filter: Interpolation) -> Self {
        let interp_size: i64 = match filter {
            Interpolation::Bilinear => 2,
            Interpolation::Bicubic => 4,
        };
        // The C++ mixes `float` (scalar_t) and `double` (the literals 0.5, 1.0): every step below
        // follows its promotions and conversions.
        let scale = input as f32 / output as f32;
        let support: f32 = if scale >= 1.0 {
            ((interp_size as f64 * 0.5) * scale as f64) as f32
        } else {
            (interp_size as f64 * 0.5) as f32
        };
        let max_interp = (support.ceil() as i64) * 2 + 1;
        let invscale: f32 = if scale >= 1.0 {
            (1.0 / scale as f64) as f32
        } else {
            1.0
        };
        let mut start = Vec::with_capacity(output);
        let mut weights = Vec::with_capacity(output);
        for i in 0..output {
            let center = (scale as f64 * (i as f64 + 0.5)) as f32;
            let xmin = (((center - support) as f64 + 0.5) as i64).max(0);
            let xmax = (((center + support) as f64 + 0.5) as i64).min(input as i64);
            let size = (xmax - xmin).clamp(0, max_interp);
            let mut w: Vec<f32> = (0..size)
                .map(|j| {
                    let arg =
                        ((((j + xmin) as f32 - center) as f64 + 0.5) * invscale as f64) as f32;
                    filter_weight(filter, arg)
                })
                .collect();
            let total = w.iter().fold(0.0f32, |acc, &v| acc + v);
            if total != 0.0 {
                for v in &mut w {
                    *v /= total;
                }
            }
            start.push(xmin as usize);
            weights.push(w);
        }
        Self { start, weights }
    }

    /// `Σ_j src(start + j) · w_j` in `f32`, in the order and with the roundings of the PyTorch
    /// binary (x86-64, AVX-512 kernels, built by GCC): the loop `out = t0·w0; out += tj·wj` is
    /// unrolled by four, the unrolled body computing rounded products and plain additions, the
    /// remainder fused multiply-adds. (Measured bit for bit against torch 2.15 on this machine;
    /// another build of PyTorch may round a few values differently.)
    fn apply(&self, out_index: usize, src: impl Fn(usize) -> f32) -> f32 {
        let start = self.start[out_index];
        let w = &self.weights[out_index];
        let Some((&w0, rest)) = w.split_first() else {
            return 0.0;
        };
        let unrolled = rest.len() / 4 * 4;
        let mut acc = src(start) * w0;
        for (j, &wj) in rest.iter().enumerate() {
            let t = src(start + 1 + j);
            acc = if j < unrolled {
                acc + t * wj
            } else {
                t.mul_add(wj, acc)
            };
        }
        acc
    }
}

/// The filters of PyTorch's `HelperInterpLinear::aa_filter` and `HelperInterpCubic::aa_filter`
/// (Keys, `a = -0.5`), in `f32`, with the multiply-adds fused as the compiled PyTorch kernel
/// does (verified weight for weight against torch 2.15).
fn filter_weight(filter: Interpolation, x: f32) -> f32 {
    let x = x.abs();
    match filter {
        Interpolation::Bilinear => {
            if x < 1.0 {
                1.0 - x
            } else {
                0.0
            }
        }
        Interpolation::Bicubic => {
            let a = -0.5f32;
            if x < 1.0 {
                ((a + 2.0).mul_add(x, -(a + 3.0)) * x).mul_add(x, 1.0)
            } else if x < 2.0 {
                a.mul_add(x, -5.0 * a)
                    .mul_add(x, 8.0 * a)
                    .mul_add(x, -4.0 * a)
            } else {
                0.0
            }
        }
    }
}

/// The `float32` interpolation of [`resize_rgb8`], before rounding: three channel planes of
/// `height × width` values (row-major), channels R, G, B.
pub fn resize_planes_f32(
    image: &RgbImage,
    height: usize,
    width: usize,
    filter: Interpolation,
) -> Vec<Vec<f32>> {
    let (h, w) = (image.height() as usize, image.width() as usize);
    // Channel-major f32 planes, as the `[1, 3, H, W]` float32 tensor torchvision interpolates.
    let mut planes: Vec<Vec<f32>> = (0..3)
        .map(|c| image.pixels().map(|p| f32::from(p[c])).collect())
        .collect();
    let mut cur_w = w;
    if width != w {
        let weights = AaWeights::new(w, width, filter);
        planes = planes
            .iter()
            .map(|plane| {
                let mut out = vec![0.0f32; h * width];
                for y in 0..h {
                    let row = &plane[y * w..(y + 1) * w];
                    for (x, o) in out[y * width..(y + 1) * width].iter_mut().enumerate() {
                        *o = weights.apply(x, |i| row[i]);
                    }
                }
                out
            })
            .collect();
        cur_w = width;
    }
    if height != h {
        let weights = AaWeights::new(h, height, filter);
        planes = planes
            .iter()
            .map(|plane| {
                let mut out = vec![0.0f32; height * cur_w];
                for y in 0..height {
                    for (x, o) in out[y * cur_w..(y + 1) * cur_w].iter_mut().enumerate() {
                        *o = weights.apply(y, |i| plane[i * cur_w + x]);
                    }
                }
                out
            })
            .collect();
    }
    planes
}

/// Antialiased resize of an 8-bit RGB image to `height`×`width` with PyTorch's native `uint8`
/// kernel, as `transforms.v2.functional.resize(uint8_image, ..., antialias=True)` on the CPU
/// ([`ResizePath::Uint8`]).
pub fn resize_rgb8_fixed(
    image: &RgbImage,
    height: usize,
    width: usize,
    filter: Interpolation,
) -> RgbImage {
    let (h, w) = (image.height() as usize, image.width() as usize);
    // Interleaved RGB bytes, resampled in place of torch's `[1, 3, H, W]` uint8 tensor.
    let mut pixels: Vec<u8> = image.as_raw().clone();
    let mut cur_w = w;
    if width != w {
        let weights = FixedWeights::new(w, width, filter);
        let mut out = vec![0u8; h * width * 3];
        for y in 0..h {
            for x in 0..width {
                for c in 0..3 {
                    out[(y * width + x) * 3 + c] =
                        weights.apply(x, |i| pixels[(y * w + i) * 3 + c]);
                }
            }
        }
        pixels = out;
        cur_w = width;
    }
    if height != h {
        let weights = FixedWeights::new(h, height, filter);
        let mut out = vec![0u8; height * cur_w * 3];
        for y in 0..height {
            for x in 0..cur_w {
                for c in 0..3 {
                    out[(y * cur_w + x) * 3 + c] =
                        weights.apply(y, |i| pixels[(i * cur_w + x) * 3 + c]);
                }
            }
        }
        pixels = out;
    }
    // The buffer always holds `height × width × 3` bytes here.
    RgbImage::from_fn(width as u32, height as u32, |x, y| {
        let i = (y as usize * width + x as usize) * 3;
        image::Rgb([pixels[i], pixels[i + 1], pixels[i + 2]])
    })
}

/// The integer weights of PyTorch's `uint8` antialiased interpolation along one dimension
/// (`_compute_index_ranges_int16_weights`): the `double` weights of
/// `_compute_indices_min_size_weights_aa`, scaled by `2^precision` and rounded to `int16`, with
/// `precision` the largest (at most 22) for which the largest weight still fits.
struct FixedWeights {
    start: Vec<usize>,
    weights: Vec<Vec<i32>>,
    precision: u32,
}

impl FixedWeights {
    fn new(input: usize, output: usize, filter: Interpolation) -> Self {
        let interp_size = match filter {
            Interpolation::Bilinear => 2.0,
            Interpolation::Bicubic => 4.0,
        };
        let scale = input as f64 / output as f64;
        let support = if scale >= 1.0 {
            interp_size * 0.5 * scale
        } else {
            interp_size * 0.5
        };
        let max_interp = (support.ceil() as i64) * 2 + 1;
        let invscale = if scale >= 1.0 { 1.0 / scale } else { 1.0 };
        let mut start = Vec::with_capacity(output);
        let mut float_weights = Vec::with_capacity(output);
        let mut wt_max = 0.0f64;
        for i in 0..output {
            let center = scale * (i as f64 + 0.5);
            let xmin = ((center - support + 0.5) as i64).max(0);
            let xmax = ((center + support + 0.5) as i64).min(input as i64);
            let size = (xmax - xmin).clamp(0, max_interp);
            let mut w: Vec<f64> = (0..size)
                .map(|j| filter_weight_f64(filter, ((j + xmin) as f64 - center + 0.5) * invscale))
                .collect();
            let total: f64 = w.iter().fold(0.0, |acc, &v| acc + v);
            if total != 0.0 {
                for v in &mut w {
                    *v /= total;
                    wt_max = wt_max.max(*v);
                }
            }
            start.push(xmin as usize);
            float_weights.push(w);
        }
        let mut precision = 0u32;
        while precision < 22 {
            let next = (0.5 + wt_max * f64::from(1u32 << (precision + 1))) as i32;
            if next >= 1 << 15 {
                break;
            }
            precision += 1;
        }
        let factor = f64::from(1u32 << precision);
        let weights = float_weights
            .iter()
            .map(|w| {
                w.iter()
                    .map(|&v| {
                        let v = v * factor;
                        // C's `(int)` truncation after adding ±0.5, then the `int16` store.
                        let rounded = if v < 0.0 {
                            (-0.5 + v) as i32
                        } else {
                            (0.5 + v) as i32
                        };
                        i32::from(rounded as i16)
                    })
                    .collect()
            })
            .collect();
        Self {
            start,
            weights,
            precision,
        }
    }

    /// `clamp((2^(p-1) + Σ_j src(start + j) · w_j) >> p, 0, 255)` in integers.
    fn apply(&self, out_index: usize, src: impl Fn(usize) -> u8) -> u8 {
        let start = self.start[out_index];
        let half = if self.precision > 0 {
            1i32 << (self.precision - 1)
        } else {
            0
        };
        let acc = self.weights[out_index]
            .iter()
            .enumerate()
            .fold(half, |acc, (j, &w)| acc + i32::from(src(start + j)) * w);
        (acc >> self.precision).clamp(0, 255) as u8
    }
}

/// [`filter_weight`] in `f64` (the filters instantiated with `double` for the `uint8` kernel).
fn filter_weight_f64(filter: Interpolation, x: f64) -> f64 {
    let x = x.abs();
    match filter {
        Interpolation::Bilinear => {
            if x < 1.0 {
                1.0 - x
            } else {
                0.0
            }
        }
        Interpolation::Bicubic => {
            let a = -0.5f64;
            if x < 1.0 {
                ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
            } else if x < 2.0 {
                ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
            } else {
                0.0
            }
        }
    }
}

/// Python's `round` on `n / 2` for an integer `n >= 0` (ties to even).
fn half_round_even(n: usize) -> usize {
    let (q, r) = (n / 2, n % 2);
    if r == 1 && q % 2 == 1 {
        q + 1
    } else {
        q
    }
}

/// torchvision's `F.center_crop` on an image: zero padding (left/top get the smaller half) when
/// the image is smaller than the crop, then the crop at `round((size - crop) / 2)`.
pub fn center_crop(image: &RgbImage, crop_height: usize, crop_width: usize) -> RgbImage {
    let (h, w) = (image.height() as usize, image.width() as usize);
    let pad_left = crop_width.saturating_sub(w) / 2;
    let pad_top = crop_height.saturating_sub(h) / 2;
    let (padded_h, padded_w) = (h.max(crop_height), w.max(crop_width));
    let top = half_round_even(padded_h - crop_height);
    let left = half_round_even(padded_w - crop_width);
    RgbImage::from_fn(crop_width as u32, crop_height as u32, |x, y| {
        // Coordinates in the padded image, then in the original.
        let (py, px) = (y as usize + top, x as usize + left);
        match (py.checked_sub(pad_top), px.checked_sub(pad_left)) {
            (Some(sy), Some(sx)) if sy < h && sx < w => *image.get_pixel(sx as u32, sy as u32),
            _ => image::Rgb([0, 0, 0]),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    #[test]
    fn resized_dims_follow_torchvision() {
        // chelsea.png is 451×300 (w×h): shorter side 300 → 256, longer int(256·451/300) = 384.
        assert_eq!(resized_dims(300, 451, 256), (256, 384));
        assert_eq!(resized_dims(451, 300, 256), (384, 256));
        assert_eq!(resized_dims(300, 451, 232), (232, 348));
        assert_eq!(resized_dims(100, 100, 224), (224, 224));
        // 255 · 500 / 333 = 382.88 → 382 (truncated, not rounded).
        assert_eq!(resized_dims(500, 333, 255), (382, 255));
    }

    #[test]
    fn crop_offsets_round_half_to_even() {
        assert_eq!(half_round_even(32), 16);
        assert_eq!(half_round_even(1), 0); // round(0.5) = 0
        assert_eq!(half_round_even(3), 2); // round(1.5) = 2
        assert_eq!(half_round_even(5), 2); // round(2.5) = 2
        let image = RgbImage::from_fn(7, 4, |x, y| image::Rgb([x as u8, y as u8, 0]));
        let crop = center_crop(&image, 2, 2);
        // left = round(2.5) = 2, top = round(1.0) = 1.
        assert_eq!(crop.get_pixel(0, 0), &image::Rgb([2, 1, 0]));
        // Larger than the image: padded, the original at offset ((4-2)//2, (3-1)//2) = (1, 1).
        let small = RgbImage::from_pixel(2, 1, image::Rgb([9, 9, 9]));
        let padded = center_crop(&small, 3, 4);
        let nonzero: Vec<(u32, u32)> = padded
            .enumerate_pixels()
            .filter(|(_, _, p)| p[0] != 0)
            .map(|(x, y, _)| (x, y))
            .collect();
        assert_eq!(nonzero, vec![(1, 1), (2, 1)]);
    }

    #[test]
    fn weights_are_normalised_and_antialiased() {
        for filter in [Interpolation::Bilinear, Interpolation::Bicubic] {
            let aa = AaWeights::new(451, 256, filter);
            for w in &aa.weights {
                let sum: f32 = w.iter().sum();
                assert!((sum - 1.0).abs() < 1e-5, "{filter:?} {sum}");
            }
            // Downscaling widens the support: more than 2 (4) taps in the interior.
            assert!(
                aa.weights[100].len()
                    > if filter == Interpolation::Bilinear {
                        2
                    } else {
                        4
                    }
            );
        }
        // Halving with the triangle filter averages 4 pixels with weights 1/8, 3/8, 3/8, 1/8.
        let aa = AaWeights::new(8, 4, Interpolation::Bilinear);
        assert_eq!(aa.start[1], 1);
        assert_eq!(aa.weights[1], vec![0.125, 0.375, 0.375, 0.125]);
        // At the border the window is cut and renormalised: 3/7, 3/7, 1/7.
        assert_eq!(aa.start[0], 0);
        let w0 = &aa.weights[0];
        assert_eq!(w0.len(), 3);
        assert!((w0[0] - 3.0 / 7.0).abs() < 1e-7 && (w0[2] - 1.0 / 7.0).abs() < 1e-7);
        // The uint8 kernel: the largest weight (3/7) sets the precision to 16 bits, the first
        // for which 2^(p+1) · 3/7 reaches 2^15.
        let fixed = FixedWeights::new(8, 4, Interpolation::Bilinear);
        assert_eq!(fixed.precision, 16);
        assert_eq!(fixed.weights[1], vec![8192, 24576, 24576, 8192]);
        // round(3/7 · 65536) = 28087, round(1/7 · 65536) = 9362.
        assert_eq!(fixed.weights[0], vec![28087, 28087, 9362]);
        // (2^15 + 10·8192 + 20·24576 + 30·24576 + 40·8192) >> 16 = round(25) = 25.
        let row = [0u8, 10, 20, 30, 40, 50, 60, 70];
        assert_eq!(fixed.apply(1, |i| row[i]), 25);
    }

    #[test]
    fn constant_images_stay_constant() {
        let image = RgbImage::from_pixel(451, 300, image::Rgb([10, 128, 250]));
        for filter in [Interpolation::Bilinear, Interpolation::Bicubic] {
            for path in [ResizePath::Float, ResizePath::Uint8] {
                let out = resize_shorter_side(&image, 256, filter, path);
                assert_eq!((out.width(), out.height()), (384, 256));
                assert!(
                    out.pixels().all(|p| *p == image::Rgb([10, 128, 250])),
                    "{filter:?} {path:?}"
                );
            }
        }
    }

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
