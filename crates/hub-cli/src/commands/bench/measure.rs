//! Pure statistics of a benchmark: latency percentiles, throughput and the seeded Poisson
//! arrival schedule of the server scenario. No clock and no model here.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The latency figures of a set of calls, in milliseconds.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Latency {
    /// How many calls were timed.
    pub count: usize,
    /// The arithmetic mean.
    pub mean_ms: f64,
    /// The median (nearest rank).
    pub p50_ms: f64,
    /// The 90th percentile (nearest rank).
    pub p90_ms: f64,
    /// The 99th percentile (nearest rank).
    pub p99_ms: f64,
    /// The slowest call.
    pub max_ms: f64,
}

impl Latency {
    /// The figures of `samples`; `None` when there are none.
    pub fn of(samples: &[Duration]) -> Option<Latency> {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let max_ms = *ms.last()?;
        Some(Latency {
            count: ms.len(),
            mean_ms: ms.iter().sum::<f64>() / ms.len() as f64,
            p50_ms: percentile(&ms, 50.0)?,
            p90_ms: percentile(&ms, 90.0)?,
            p99_ms: percentile(&ms, 99.0)?,
            max_ms,
        })
    }
}

/// The `p`-th percentile (0 < p ≤ 100) of ascending `sorted` values by the nearest-rank
/// method: the smallest value with at least `p`% of the values at or below it (MLPerf
/// LoadGen's definition). `None` for no values or `p` outside (0, 100].
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// Items per second: `items` done in `elapsed` (`None` for no time at all).
pub fn throughput(items: usize, elapsed: Duration) -> Option<f64> {
    let s = elapsed.as_secs_f64();
    (s > 0.0).then(|| items as f64 / s)
}

/// The share (0 to 1) of `samples` above `bound`; 0 for no samples.
pub fn share_over(samples: &[Duration], bound: Duration) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.iter().filter(|&&d| d > bound).count() as f64 / samples.len() as f64
}

/// SplitMix64: a small seeded generator (the arrival schedule must be the same on every
/// machine and in every version, so it does not depend on a crate's algorithm choice).
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// The generator for `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: never 0, so its logarithm is finite.
    pub fn next_open01(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
}

/// `n` arrival times of a Poisson process of rate `qps` per second from `seed`: exponential
/// gaps of mean `1/qps`, the first one after time 0. `None` unless `qps` is positive and finite.
pub fn poisson_arrivals(n: usize, qps: f64, seed: u64) -> Option<Vec<Duration>> {
    if !(qps.is_finite() && qps > 0.0) {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let mut t = 0.0_f64;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        t += -rng.next_open01().ln() / qps;
        out.push(Duration::try_from_secs_f64(t).ok()?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 90.0), Some(90.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&[3.0, 7.0], 50.0), Some(3.0));
        assert_eq!(percentile(&[3.0, 7.0], 51.0), Some(7.0));
        assert_eq!(percentile(&[5.0], 99.0), Some(5.0));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&v, 0.0), None);
        assert_eq!(percentile(&v, f64::NAN), None);
    }

    #[test]
    fn latency_figures_of_unsorted_samples() {
        let samples: Vec<Duration> = [4, 1, 3, 2, 10].iter().map(|&ms| Duration::from_millis(ms)).collect();
        let l = Latency::of(&samples).unwrap();
        assert_eq!(l.count, 5);
        assert!((l.mean_ms - 4.0).abs() < 1e-9);
        assert!((l.p50_ms - 3.0).abs() < 1e-9);
        assert!((l.p90_ms - 10.0).abs() < 1e-9);
        assert!((l.max_ms - 10.0).abs() < 1e-9);
        assert_eq!(Latency::of(&[]), None);
    }

    #[test]
    fn throughput_and_share_over_a_bound() {
        assert_eq!(throughput(8, Duration::from_millis(500)), Some(16.0));
        assert_eq!(throughput(8, Duration::ZERO), None);
        let s: Vec<Duration> = [5, 50, 150, 200].iter().map(|&ms| Duration::from_millis(ms)).collect();
        assert_eq!(share_over(&s, Duration::from_millis(100)), 0.5);
        assert_eq!(share_over(&s, Duration::from_millis(150)), 0.25, "a latency equal to the bound is within it");
        assert_eq!(share_over(&s, Duration::from_millis(200)), 0.0);
        assert_eq!(share_over(&[], Duration::from_millis(1)), 0.0);
    }

    #[test]
    fn poisson_schedule_is_seeded_increasing_and_has_the_rate() {
        let a = poisson_arrivals(20_000, 50.0, 7).unwrap();
        assert_eq!(a, poisson_arrivals(20_000, 50.0, 7).unwrap(), "same seed, same schedule");
        assert_ne!(a[..10], poisson_arrivals(10, 50.0, 8).unwrap()[..], "another seed, another schedule");
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
        assert!(a[0] > Duration::ZERO);
        // 20000 arrivals at 50/s take 400 s on average; the mean gap's standard error is 0.7%.
        let rate = a.len() as f64 / a.last().unwrap().as_secs_f64();
        assert!((rate - 50.0).abs() < 2.0, "rate {rate}");
        // Exponential gaps: their standard deviation equals their mean.
        let gaps: Vec<f64> = std::iter::once(a[0]).chain(a.windows(2).map(|w| w[1] - w[0])).map(|d| d.as_secs_f64()).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let sd = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64).sqrt();
        assert!((sd / mean - 1.0).abs() < 0.05, "cv {}", sd / mean);
        assert_eq!(poisson_arrivals(3, 0.0, 1), None);
        assert_eq!(poisson_arrivals(3, f64::INFINITY, 1), None);
    }

    #[test]
    fn splitmix_is_the_reference_sequence() {
        // The first outputs of SplitMix64 seeded with 1234567 (Vigna's reference C code).
        let mut r = SplitMix64::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
        let u = r.next_open01();
        assert!(u > 0.0 && u <= 1.0);
    }
}
