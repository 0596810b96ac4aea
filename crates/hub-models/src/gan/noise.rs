//! Seeded latent vectors for the generators (the GAN zoo's `buildNoiseData`).

use burn::prelude::*;

/// A small, seeded pseudo-random generator for latent vectors: xoshiro256++ (Blackman & Vigna)
/// seeded through SplitMix64, with standard normals from the Box–Muller transform.
///
/// Deterministic and portable: the same seed gives the same numbers everywhere, independently
/// of the burn backend. It does not reproduce `torch.randn`'s stream.
#[derive(Debug, Clone)]
pub struct NoiseRng {
    state: [u64; 4],
    /// The second normal of the last Box–Muller pair, if not used yet.
    spare: Option<f32>,
}

impl NoiseRng {
    /// A generator whose whole stream is determined by `seed`.
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut x = seed;
        let mut split_mix = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self {
            state: [split_mix(), split_mix(), split_mix(), split_mix()],
            spare: None,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform sample in `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `0..n` (`n > 0`; Lemire's multiply-shift, bias below 2⁻⁶⁴·n).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A standard normal sample.
    pub fn standard_normal(&mut self) -> f32 {
        if let Some(value) = self.spare.take() {
            return value;
        }
        // 1 - u is in (0, 1]: the logarithm is finite.
        let radius = (-2.0 * (1.0 - self.uniform()).ln()).sqrt();
        let angle = std::f64::consts::TAU * self.uniform();
        self.spare = Some((radius * angle.sin()) as f32);
        (radius * angle.cos()) as f32
    }
}

/// Latent vectors as the GAN zoo's `buildNoiseData(n)` builds them: `noise_dim` standard
/// normal values, then, for AC-GAN models, one one-hot block per conditioning attribute
/// (`categories[i]` classes each, one class drawn uniformly per sample).
///
/// # Shapes
/// - output: `[n, noise_dim + categories.iter().sum()]`
pub fn build_noise_data<B: Backend>(
    n: usize,
    noise_dim: usize,
    categories: &[usize],
    rng: &mut NoiseRng,
    device: &B::Device,
) -> Tensor<B, 2> {
    let width = noise_dim + categories.iter().sum::<usize>();
    let mut values = Vec::with_capacity(n * width);
    for _ in 0..n {
        values.extend((0..noise_dim).map(|_| rng.standard_normal()));
        for &classes in categories {
            let hot = if classes == 0 { 0 } else { rng.below(classes) };
            values.extend((0..classes).map(|c| if c == hot { 1.0f32 } else { 0.0 }));
        }
    }
    Tensor::from_data(TensorData::new(values, [n, width]), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    #[test]
    fn seeded_and_roughly_standard_normal() {
        let mut a = NoiseRng::seed_from_u64(7);
        let mut b = NoiseRng::seed_from_u64(7);
        let xs: Vec<f32> = (0..20_000).map(|_| a.standard_normal()).collect();
        let ys: Vec<f32> = (0..20_000).map(|_| b.standard_normal()).collect();
        assert_eq!(xs, ys);
        let mut c = NoiseRng::seed_from_u64(8);
        assert_ne!(xs[0], c.standard_normal());

        let n = xs.len() as f64;
        let mean = xs.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = xs
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
        let beyond = xs.iter().filter(|x| x.abs() > 1.96).count() as f64 / n;
        assert!((beyond - 0.05).abs() < 0.01, "tail mass {beyond}");
    }

    #[test]
    fn below_is_in_range_and_covers_it() {
        let mut rng = NoiseRng::seed_from_u64(1);
        let mut seen = [0usize; 5];
        for _ in 0..1000 {
            seen[rng.below(5)] += 1;
        }
        assert!(seen.iter().all(|&c| c > 150), "{seen:?}");
    }

    #[test]
    fn noise_with_one_hot_categories() {
        let device = Default::default();
        let mut rng = NoiseRng::seed_from_u64(3);
        let noise = build_noise_data::<Flex>(4, 6, &[3, 2], &mut rng, &device);
        assert_eq!(noise.dims(), [4, 11]);
        let values = noise.into_data().to_vec::<f32>().unwrap();
        for row in values.chunks(11) {
            let first: f32 = row[6..9].iter().sum();
            let second: f32 = row[9..11].iter().sum();
            assert_eq!((first, second), (1.0, 1.0), "{row:?}");
            assert!(row[6..].iter().all(|&v| v == 0.0 || v == 1.0));
        }
    }
}
