//! The size limits: the largest preprocessing sizes and images hub accepts, the smallest input
//! each architecture takes.

use std::path::Path;

use super::PreprocessError;

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
    (architecture.family.spec().min_input)(architecture.id)
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
