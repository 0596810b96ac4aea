//! Image grids: a batch of generated images tiled into one picture, like torchvision's
//! `make_grid` + `save_image` (2-pixel black padding, `nrow` images per row).

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::tensor::DataError;
use image::RgbImage;

/// Padding between (and around) the tiles, in pixels, as torchvision's default.
const PADDING: usize = 2;

/// Errors of [`grid_image`] and [`save_grid`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GridError {
    /// The tensor is not a non-empty `[batch, 1 or 3, height, width]` batch, or `nrow` is 0.
    #[error("cannot tile images of shape {shape:?} with nrow = {nrow}: expected [batch > 0, 1 or 3 channels, height, width] and nrow > 0")]
    Shape {
        /// Shape of the tensor given.
        shape: [usize; 4],
        /// Images per row asked for.
        nrow: usize,
    },
    /// The tensor's values could not be read as `f32`.
    #[error("cannot read the image tensor")]
    Data(#[source] DataError),
    /// The PNG could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// Destination.
        path: PathBuf,
        /// The encoder's or the file system's error.
        #[source]
        source: image::ImageError,
    },
}

/// Tiles `images` (values in `[-1, 1]`, clamped) into one RGB picture with `nrow` images per
/// row; grey-level images (1 channel) are repeated on the three channels.
///
/// # Shapes
/// - `images`: `[batch, 3 or 1, height, width]`
/// - result: `ncol·(width+2)+2` × `nrow_count·(height+2)+2` pixels, where `ncol = min(nrow,
///   batch)` and `nrow_count = ceil(batch / ncol)`
pub fn grid_image<B: Backend>(images: Tensor<B, 4>, nrow: usize) -> Result<RgbImage, GridError> {
    let shape = images.dims();
    let [batch, channels, height, width] = shape;
    if batch == 0 || nrow == 0 || !(channels == 1 || channels == 3) || height == 0 || width == 0 {
        return Err(GridError::Shape { shape, nrow });
    }
    // [-1, 1] → [0, 255], as `(x + 1) / 2` then torchvision's `mul(255).add_(0.5).clamp_(0, 255)`.
    let pixels = images
        .clamp(-1.0, 1.0)
        .add_scalar(1.0)
        .mul_scalar(127.5)
        .add_scalar(0.5)
        .into_data()
        .to_vec::<f32>()
        .map_err(GridError::Data)?;

    let columns = nrow.min(batch);
    let rows = batch.div_ceil(columns);
    let grid_width = columns * (width + PADDING) + PADDING;
    let grid_height = rows * (height + PADDING) + PADDING;
    let mut buffer = vec![0u8; grid_width * grid_height * 3];
    let plane = height * width;
    for n in 0..batch {
        let top = (n / columns) * (height + PADDING) + PADDING;
        let left = (n % columns) * (width + PADDING) + PADDING;
        for y in 0..height {
            for x in 0..width {
                let out = ((top + y) * grid_width + left + x) * 3;
                for c in 0..3 {
                    let source = if channels == 1 { 0 } else { c };
                    let value = pixels[(n * channels + source) * plane + y * width + x];
                    buffer[out + c] = value.clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
    // The buffer has exactly width × height × 3 bytes, so `from_raw` cannot fail.
    RgbImage::from_raw(grid_width as u32, grid_height as u32, buffer)
        .ok_or(GridError::Shape { shape, nrow })
}

/// Writes `images` (values in `[-1, 1]`) as a PNG grid with `nrow` images per row (see
/// [`grid_image`]).
///
/// # Shapes
/// - `images`: `[batch, 3 or 1, height, width]`
pub fn save_grid<B: Backend>(
    images: Tensor<B, 4>,
    path: impl AsRef<Path>,
    nrow: usize,
) -> Result<(), GridError> {
    let path = path.as_ref();
    grid_image(images, nrow)?
        .save_with_format(path, image::ImageFormat::Png)
        .map_err(|source| GridError::Write {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    type B = Flex;

    #[test]
    fn tiles_and_scales() {
        let device = Default::default();
        // Image 0 all -1 (black), image 1 all +1 (white), image 2 red, in a 2-column grid.
        let mut values = vec![-1.0f32; 3 * 3 * 2 * 2];
        values[12..24].fill(1.0);
        values[24..28].fill(1.0);
        let images = Tensor::<B, 4>::from_data(TensorData::new(values, [3, 3, 2, 2]), &device);
        let grid = grid_image(images, 2).unwrap();
        assert_eq!(grid.dimensions(), (2 * 4 + 2, 2 * 4 + 2));
        assert_eq!(grid.get_pixel(2, 2).0, [0, 0, 0]);
        assert_eq!(grid.get_pixel(6, 3).0, [255, 255, 255]);
        assert_eq!(grid.get_pixel(3, 6).0, [255, 0, 0]);
        // Padding between tiles and the empty fourth cell stay black.
        assert_eq!(grid.get_pixel(4, 2).0, [0, 0, 0]);
        assert_eq!(grid.get_pixel(7, 7).0, [0, 0, 0]);
    }

    #[test]
    fn clamps_mid_grey_and_rejects_bad_shapes() {
        let device = Default::default();
        let images = Tensor::<B, 4>::from_data(
            TensorData::new(vec![0.0f32, 5.0, -7.0, 0.5], [1, 1, 2, 2]),
            &device,
        );
        let grid = grid_image(images, 8).unwrap();
        assert_eq!(grid.dimensions(), (6, 6));
        assert_eq!(grid.get_pixel(2, 2).0, [128, 128, 128]);
        assert_eq!(grid.get_pixel(3, 2).0, [255, 255, 255]);
        assert_eq!(grid.get_pixel(2, 3).0, [0, 0, 0]);
        assert_eq!(grid.get_pixel(3, 3).0, [191, 191, 191]);

        let two = Tensor::<B, 4>::zeros([1, 2, 2, 2], &device);
        assert!(matches!(grid_image(two, 1), Err(GridError::Shape { .. })));
        let rgb = Tensor::<B, 4>::zeros([1, 3, 2, 2], &device);
        assert!(matches!(
            grid_image(rgb, 0),
            Err(GridError::Shape { nrow: 0, .. })
        ));
    }

    #[test]
    fn writes_a_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grid.png");
        let images = Tensor::<B, 4>::zeros([5, 3, 4, 4], &Default::default());
        save_grid(images, &path, 4).unwrap();
        let read = image::open(&path).unwrap().to_rgb8();
        assert_eq!(read.dimensions(), (4 * 6 + 2, 2 * 6 + 2));
        assert_eq!(read.get_pixel(2, 2).0, [128, 128, 128]);

        let err = save_grid(
            Tensor::<B, 4>::zeros([1, 3, 2, 2], &Default::default()),
            dir.path().join("missing/dir/grid.png"),
            1,
        )
        .unwrap_err();
        assert!(matches!(err, GridError::Write { .. }), "{err}");
    }
}
