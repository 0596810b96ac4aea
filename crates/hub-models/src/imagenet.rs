//! ImageNet-1k class names and top-k decoding of classifier logits.
//!
//! The 1000 names are torchvision's `_IMAGENET_CATEGORIES` (`torchvision/models/_meta.py`), in
//! class-index order, stored one per line in `imagenet_categories.txt`.

use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

const CATEGORIES_TXT: &str = include_str!("imagenet_categories.txt");

/// Number of ImageNet-1k classes.
pub const NUM_CLASSES: usize = 1000;

/// The 1000 ImageNet-1k class names, index `i` naming class `i`.
pub fn categories() -> Vec<&'static str> {
    CATEGORIES_TXT.lines().collect()
}

/// The name of ImageNet class `index`, or `None` past the last class.
pub fn category(index: usize) -> Option<&'static str> {
    CATEGORIES_TXT.lines().nth(index)
}

/// One prediction: class index, its name and its softmax probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction<'a> {
    /// Class index.
    pub index: usize,
    /// Class name (`"?"` when `labels` has no entry for the index).
    pub label: &'a str,
    /// Softmax probability of the class.
    pub prob: f32,
}

/// The `k` most probable classes of every row of `logits`, most probable first (ties keep the
/// lower index first), with softmax probabilities and names from `labels`.
///
/// # Shapes
/// - logits: `[batch, num_classes]`
/// - result: `batch` vectors of `min(k, num_classes)` predictions
pub fn top_k_labeled<'a, B: Backend>(
    logits: Tensor<B, 2>,
    k: usize,
    labels: &[&'a str],
) -> Vec<Vec<Prediction<'a>>> {
    let [batch, classes] = logits.dims();
    let values: Vec<f32> = softmax(logits, 1).into_data().iter::<f32>().collect();
    (0..batch)
        .map(|row| top_k_row(&values[row * classes..(row + 1) * classes], k, labels))
        .collect()
}

/// [`top_k_labeled`] of one row of probabilities.
fn top_k_row<'a>(probs: &[f32], k: usize, labels: &[&'a str]) -> Vec<Prediction<'a>> {
    let mut order: Vec<usize> = (0..probs.len()).collect();
    // Descending probability; NaN sorts last; stable, so ties keep index order.
    order.sort_by(|&a, &b| {
        probs[b]
            .partial_cmp(&probs[a])
            .unwrap_or_else(|| probs[a].is_nan().cmp(&probs[b].is_nan()))
    });
    order
        .into_iter()
        .take(k)
        .map(|index| Prediction {
            index,
            label: labels.get(index).copied().unwrap_or("?"),
            prob: probs[index],
        })
        .collect()
}

/// The `k` most probable ImageNet-1k classes of every row of `logits` ([`top_k_labeled`] with
/// the names of [`categories`]).
///
/// # Shapes
/// - logits: `[batch, 1000]`
/// - result: `batch` vectors of `min(k, 1000)` predictions
pub fn top_k<B: Backend>(logits: Tensor<B, 2>, k: usize) -> Vec<Vec<Prediction<'static>>> {
    top_k_labeled(logits, k, &categories())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    #[test]
    fn thousand_unique_names_in_torchvision_order() {
        let names = categories();
        assert_eq!(names.len(), NUM_CLASSES);
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), NUM_CLASSES);
        // Spot checks against torchvision's list.
        assert_eq!(category(0), Some("tench"));
        assert_eq!(category(281), Some("tabby"));
        assert_eq!(category(285), Some("Egyptian cat"));
        assert_eq!(category(999), Some("toilet tissue"));
        assert_eq!(category(1000), None);
    }

    #[test]
    fn top_k_sorts_by_probability() {
        let device = Default::default();
        let logits =
            Tensor::<Flex, 2>::from_floats([[0.0, 3.0, 1.0, 3.0], [5.0, -1.0, 0.0, 2.0]], &device);
        let labels = ["a", "b", "c", "d"];
        let top = top_k_labeled(logits, 3, &labels);
        assert_eq!(top.len(), 2);
        let idx: Vec<Vec<usize>> = top
            .iter()
            .map(|r| r.iter().map(|p| p.index).collect())
            .collect();
        assert_eq!(idx, vec![vec![1, 3, 2], vec![0, 3, 2]]);
        assert_eq!(top[0][0].label, "b");
        // softmax([0, 3, 1, 3])[1] = e^3 / (1 + 2e^3 + e)
        let e = std::f32::consts::E;
        let expected = e.powi(3) / (1.0 + 2.0 * e.powi(3) + e);
        assert!((top[0][0].prob - expected).abs() < 1e-6);
        let row_sum: f32 = top_k_labeled(
            Tensor::<Flex, 2>::from_floats([[1.0, 2.0]], &device),
            5,
            &labels,
        )[0]
        .iter()
        .map(|p| p.prob)
        .sum();
        assert!((row_sum - 1.0).abs() < 1e-6);
    }
}
