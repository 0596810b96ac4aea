//! Reading and decoding image files, with the pixel limit checked from the header first.

use std::path::Path;

use image::RgbImage;

use super::{max_image_pixels, PreprocessError};

/// The width and height an image file declares in its header (nothing is decoded).
pub fn image_dimensions(path: &Path) -> Result<(u32, u32), PreprocessError> {
    let read = |source: image::ImageError| PreprocessError::Read { path: path.to_path_buf(), source };
    let mut reader = image::ImageReader::open(path).map_err(|e| read(e.into()))?.with_guessed_format().map_err(|e| read(e.into()))?;
    reader.no_limits();
    reader.into_dimensions().map_err(read)
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
