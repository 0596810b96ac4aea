//! GoogLeNet (Inception v1), from "Going Deeper with Convolutions" (Szegedy et al., 2014,
//! <https://arxiv.org/abs/1409.4842>); a port of `torchvision.models.googlenet`.
//!
//! Two entries: `googlenet` without the auxiliary classifiers, and `googlenet_aux` with them in
//! the module (so checkpoints that carry `aux1.*` / `aux2.*` load strictly). Either way, the
//! forward pass is eval mode and returns the main logits only.

pub mod block;
pub mod weights;

use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

pub use block::{BasicConv2d, Inception, InceptionAux, InceptionSpec};

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &["googlenet", "googlenet_aux"];

/// The configuration of a variant, or `None` for an unknown id.
///
/// Both entries default to `transform_input = false`. torchvision's pretrained GoogLeNet weights
/// expect `transform_input = true` (its builder turns it on when weights are requested), so a
/// weight spec for them must set it.
pub fn config(id: &str) -> Option<GoogLeNetConfig> {
    match id {
        "googlenet" => Some(GoogLeNetConfig::new()),
        "googlenet_aux" => Some(GoogLeNetConfig::new().with_aux_logits(true)),
        _ => None,
    }
}

/// Channel counts of the nine Inception modules, `3a` to `5b`.
const INCEPTIONS: [[usize; 7]; 9] = [
    [192, 64, 96, 128, 16, 32, 32],     // 3a
    [256, 128, 128, 192, 32, 96, 64],   // 3b
    [480, 192, 96, 208, 16, 48, 64],    // 4a
    [512, 160, 112, 224, 24, 64, 64],   // 4b
    [512, 128, 128, 256, 24, 64, 64],   // 4c
    [512, 112, 144, 288, 32, 64, 64],   // 4d
    [528, 256, 160, 320, 32, 128, 128], // 4e
    [832, 256, 160, 320, 32, 128, 128], // 5a
    [832, 384, 192, 384, 48, 128, 128], // 5b
];

/// Hyper-parameters of a [`GoogLeNet`].
#[derive(Config, Debug)]
pub struct GoogLeNetConfig {
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Include the two auxiliary classifiers (`aux1`, `aux2`). They never change the eval
    /// output; they only make their checkpoint keys loadable.
    #[config(default = false)]
    pub aux_logits: bool,
    /// Re-normalise ImageNet-normalised input to `(x - 0.5) / 0.5` first (torchvision's
    /// `transform_input`, on for its pretrained weights).
    #[config(default = false)]
    pub transform_input: bool,
    /// Dropout before the classifier (inactive in eval mode; kept for the record).
    #[config(default = 0.2)]
    pub dropout: f64,
}

impl GoogLeNetConfig {
    /// Builds the model (parameters are initialised lazily; load weights before use).
    pub fn init<B: Backend>(&self, device: &B::Device) -> GoogLeNet<B> {
        let pool = |k: usize| {
            MaxPool2dConfig::new([k, k])
                .with_strides([2, 2])
                .with_ceil_mode(true)
                .init()
        };
        let [i3a, i3b, i4a, i4b, i4c, i4d, i4e, i5a, i5b] =
            INCEPTIONS.map(|[i, a, b, c, d, e, f]| {
                Inception::new(InceptionSpec::new(i, a, b, c, d, e, f), device)
            });
        let aux = |in_channels| {
            self.aux_logits
                .then(|| InceptionAux::new(in_channels, self.num_classes, device))
        };
        GoogLeNet {
            conv1: BasicConv2d::new([3, 64], [7, 7], 2, [3, 3], device),
            maxpool1: pool(3),
            conv2: BasicConv2d::same([64, 64], 1, device),
            conv3: BasicConv2d::same([64, 192], 3, device),
            maxpool2: pool(3),
            inception3a: i3a,
            inception3b: i3b,
            maxpool3: pool(3),
            inception4a: i4a,
            inception4b: i4b,
            inception4c: i4c,
            inception4d: i4d,
            inception4e: i4e,
            maxpool4: pool(2),
            inception5a: i5a,
            inception5b: i5b,
            aux1: aux(512),
            aux2: aux(528),
            avgpool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            fc: LinearConfig::new(1024, self.num_classes).init(device),
            transform_input: self.transform_input,
        }
    }
}

/// GoogLeNet (eval mode). Field names follow torchvision's state-dict keys.
#[derive(Module, Debug)]
pub struct GoogLeNet<B: Backend> {
    /// Stem 7×7/2 convolution.
    pub conv1: BasicConv2d<B>,
    /// 3×3/2 max pool (ceil mode).
    pub maxpool1: MaxPool2d,
    /// 1×1 convolution.
    pub conv2: BasicConv2d<B>,
    /// 3×3 convolution.
    pub conv3: BasicConv2d<B>,
    /// 3×3/2 max pool (ceil mode).
    pub maxpool2: MaxPool2d,
    /// Inception 3a.
    pub inception3a: Inception<B>,
    /// Inception 3b.
    pub inception3b: Inception<B>,
    /// 3×3/2 max pool (ceil mode).
    pub maxpool3: MaxPool2d,
    /// Inception 4a.
    pub inception4a: Inception<B>,
    /// Inception 4b.
    pub inception4b: Inception<B>,
    /// Inception 4c.
    pub inception4c: Inception<B>,
    /// Inception 4d.
    pub inception4d: Inception<B>,
    /// Inception 4e.
    pub inception4e: Inception<B>,
    /// 2×2/2 max pool (ceil mode).
    pub maxpool4: MaxPool2d,
    /// Inception 5a.
    pub inception5a: Inception<B>,
    /// Inception 5b.
    pub inception5b: Inception<B>,
    /// Auxiliary classifier on `inception4a` (training only).
    pub aux1: Option<InceptionAux<B>>,
    /// Auxiliary classifier on `inception4d` (training only).
    pub aux2: Option<InceptionAux<B>>,
    /// Global average pool.
    pub avgpool: AdaptiveAvgPool2d,
    /// Classifier.
    pub fc: Linear<B>,
    /// See [`GoogLeNetConfig::transform_input`].
    pub transform_input: bool,
}

impl<B: Backend> GoogLeNet<B> {
    /// Computes the class logits (the auxiliary classifiers are not run: eval mode).
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB; 224×224 for ImageNet weights, at
    ///   least 15×15)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = if self.transform_input {
            block::transform_input(x)
        } else {
            x
        };
        let x = crate::kernels::max_pool2d(&self.maxpool1, self.conv1.forward(x));
        let x = self.conv3.forward(self.conv2.forward(x));
        let x = crate::kernels::max_pool2d(&self.maxpool2, x);
        let x = self.inception3b.forward(self.inception3a.forward(x));
        let x = crate::kernels::max_pool2d(&self.maxpool3, x);
        let x = [
            &self.inception4a,
            &self.inception4b,
            &self.inception4c,
            &self.inception4d,
            &self.inception4e,
        ]
        .iter()
        .fold(x, |x, module| module.forward(x));
        let x = crate::kernels::max_pool2d(&self.maxpool4, x);
        let x = self.inception5b.forward(self.inception5a.forward(x));
        let x = self.avgpool.forward(x).flatten::<2>(1, 3);
        self.fc.forward(x)
    }
}


/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec =
    crate::registry::spec::FamilySpec::classifier("GoogLeNet", VARIANTS, "Szegedy et al. 2014, https://arxiv.org/abs/1409.4842; torchvision/models/googlenet.py", weights::remaps)
    .with_min_input(|_| 15);

/// Builds the variant `id` with random weights and the manifest's config (`None` for an id
/// not in [`VARIANTS`]).
pub fn build<B: Backend>(id: &str, c: &crate::registry::config::ClassifierConfig, device: &B::Device) -> Option<GoogLeNet<B>> {
    let mut m = config(id)?.with_num_classes(c.num_classes);
    m.aux_logits = c.aux_logits.unwrap_or(m.aux_logits);
    m.transform_input = c.transform_input.unwrap_or(m.transform_input);
    Some(m.init(device))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::Distribution;

    type B = Flex;

    #[test]
    fn forward_shape_and_aux_do_not_change_logits() {
        use burn_store::ModuleSnapshot;
        let device = Default::default();
        let with_aux = config("googlenet_aux")
            .unwrap()
            .with_num_classes(6)
            .init::<B>(&device);
        // The same weights without the auxiliary heads.
        let mut plain = config("googlenet")
            .unwrap()
            .with_num_classes(6)
            .init::<B>(&device);
        let result = plain.apply(with_aux.collect(None, None, true), None, None, true);
        assert!(result.missing.is_empty() && result.errors.is_empty());
        assert!(result.unused.iter().all(|k| k.starts_with("aux")));
        assert!(!result.unused.is_empty());

        let x = Tensor::<B, 4>::random([1, 3, 32, 32], Distribution::Default, &device);
        let a = with_aux.forward(x.clone());
        assert_eq!(a.dims(), [1, 6]);
        let b = plain.forward(x);
        assert_eq!(
            a.into_data().to_vec::<f32>().unwrap(),
            b.into_data().to_vec::<f32>().unwrap()
        );
    }

    #[test]
    fn transform_input_matches_torchvision_formula() {
        let device = Default::default();
        let x = Tensor::<B, 4>::ones([1, 3, 1, 1], &device);
        let y = block::transform_input(x)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        // x * std / 0.5 + (mean - 0.5) / 0.5 at x = 1.
        let expected = [
            0.229 / 0.5 + (0.485 - 0.5) / 0.5,
            0.224 / 0.5 + (0.456 - 0.5) / 0.5,
            0.225 / 0.5 + (0.406 - 0.5) / 0.5,
        ];
        for (a, b) in y.iter().zip(expected) {
            assert!((a - b as f32).abs() < 1e-6, "{a} vs {b}");
        }
    }
}
