//! The errors of the preprocessing functions.

use std::path::PathBuf;

#[cfg(doc)]
use super::{max_image_pixels, Preprocess, MAX_PREPROCESS_SIZE};

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
