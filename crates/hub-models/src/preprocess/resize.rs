//! The antialiased resize of step 1, along torchvision's two `uint8` code paths (see
//! [`crate::preprocess`]).

use image::RgbImage;

/// Resampling filter of the resize step (torchvision's `InterpolationMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    /// Triangle filter (`InterpolationMode.BILINEAR`), antialiased.
    Bilinear,
    /// Keys cubic filter with `a = -0.5` (`InterpolationMode.BICUBIC`), antialiased.
    Bicubic,
}

/// Which of torchvision's two `uint8` resize implementations to reproduce (see [`crate::preprocess`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizePath {
    /// `transforms.functional.resize` (v1): `float32` interpolation, one rounding at the end.
    Float,
    /// `transforms.v2.functional.resize` on the CPU: PyTorch's `uint8` fixed-point kernel.
    Uint8,
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

/// Resizes so that the shorter side is `size` (step 1 of [`crate::preprocess`]).
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

/// The interpolation weights along one dimension: output index `k` from source values `src(i)`.
trait Taps<T> {
    fn apply(&self, k: usize, src: impl Fn(usize) -> T) -> T;
}

/// One pass of a separable resize over `channels` interleaved values per point: the
/// `out_height × out_width` grid whose value `(y, x, c)` is `taps.apply(k, |i| src[source(y, x,
/// i) · channels + c])`, with `k` the output index along the resized axis (`y` when `vertical`,
/// else `x`) and `source(y, x, i)` the point that source index `i` names.
fn pass<T: Copy + Default>(
    src: &[T],
    (out_height, out_width): (usize, usize),
    channels: usize,
    vertical: bool,
    source: impl Fn(usize, usize, usize) -> usize,
    taps: &impl Taps<T>,
) -> Vec<T> {
    let mut out = vec![T::default(); out_height * out_width * channels];
    for y in 0..out_height {
        for x in 0..out_width {
            let k = if vertical { y } else { x };
            for c in 0..channels {
                out[(y * out_width + x) * channels + c] = taps.apply(k, |i| src[source(y, x, i) * channels + c]);
            }
        }
    }
    out
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

impl Taps<f32> for AaWeights {
    fn apply(&self, k: usize, src: impl Fn(usize) -> f32) -> f32 {
        AaWeights::apply(self, k, src)
    }
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
        // The triangle `max(1 - |x|, 0)`.
        Interpolation::Bilinear => (1.0 - x).max(0.0),
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
    if width != w {
        let weights = AaWeights::new(w, width, filter);
        planes = planes.iter().map(|plane| pass(plane, (h, width), 1, false, |y, _, i| y * w + i, &weights)).collect();
    }
    if height != h {
        let weights = AaWeights::new(h, height, filter);
        planes = planes.iter().map(|plane| pass(plane, (height, width), 1, true, |_, x, i| i * width + x, &weights)).collect();
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
    if width != w {
        let weights = FixedWeights::new(w, width, filter);
        pixels = pass(&pixels, (h, width), 3, false, |y, _, i| y * w + i, &weights);
    }
    if height != h {
        let weights = FixedWeights::new(h, height, filter);
        pixels = pass(&pixels, (height, width), 3, true, |_, x, i| i * width + x, &weights);
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

impl Taps<u8> for FixedWeights {
    fn apply(&self, k: usize, src: impl Fn(usize) -> u8) -> u8 {
        FixedWeights::apply(self, k, src)
    }
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
        // The triangle `max(1 - |x|, 0)`.
        Interpolation::Bilinear => (1.0 - x).max(0.0),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
