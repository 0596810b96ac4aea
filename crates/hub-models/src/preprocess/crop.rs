//! Step 2: torchvision's centre crop.

use image::RgbImage;

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
}
