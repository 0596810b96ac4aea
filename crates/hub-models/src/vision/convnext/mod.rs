//! ConvNeXt, from "A ConvNet for the 2020s" (Liu et al., 2022, <https://arxiv.org/abs/2201.03545>);
//! a port of torchvision 0.29's `torchvision.models.convnext` (eval mode).
//!
//! A 4×4/4 "patchify" stem, four stages of inverted-bottleneck blocks (depthwise 7×7
//! convolution, LayerNorm, `Linear(4C)`, GELU, `Linear(C)`, learned per-channel layer scale,
//! residual) with LayerNorm + 2×2/2 convolutions between them, then global average pooling,
//! LayerNorm and the classifier. Stochastic depth only acts in training and is left out.
//! Internally the activations are channels-last between the blocks (see [`block`]); `forward`
//! takes and returns what torchvision's does.

pub mod block;
pub mod weights;

use burn::nn::{LayerNorm, Linear, LinearConfig};
use burn::prelude::*;

use crate::kernels::{self, Activation};
use block::{channel_norm, Stage, Stem};

/// The variant table: id, blocks per stage, channels per stage.
const TABLE: &[(&str, [usize; 4], [usize; 4])] = &[
    ("convnext_tiny", [3, 3, 9, 3], [96, 192, 384, 768]),
    ("convnext_small", [3, 3, 27, 3], [96, 192, 384, 768]),
    ("convnext_base", [3, 3, 27, 3], [128, 256, 512, 1024]),
    ("convnext_large", [3, 3, 27, 3], [192, 384, 768, 1536]),
];

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &["convnext_tiny", "convnext_small", "convnext_base", "convnext_large"];

/// The configuration of a variant, or `None` for an unknown id.
pub fn config(id: &str) -> Option<ConvNextConfig> {
    TABLE
        .iter()
        .find(|row| row.0 == id)
        .map(|&(_, depths, dims)| ConvNextConfig::new(depths, dims))
}

/// Hyper-parameters of a [`ConvNext`].
#[derive(Config, Debug)]
pub struct ConvNextConfig {
    /// Number of blocks in each of the four stages.
    pub depths: [usize; 4],
    /// Channels of each stage (the stem outputs `dims[0]`).
    pub dims: [usize; 4],
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Initial value of every block's layer scale (torchvision's `layer_scale`; the checkpoint's
    /// values replace it).
    #[config(default = 1e-6)]
    pub layer_scale: f64,
}

impl ConvNextConfig {
    /// Builds the model (parameters are initialised lazily; load weights before use).
    pub fn init<B: Backend>(&self, device: &B::Device) -> ConvNext<B> {
        let [.., last] = self.dims;
        ConvNext {
            stem: Stem::new(self.dims[0], device),
            stages: (0..self.dims.len())
                .map(|i| {
                    let entered_from = i.checked_sub(1).map(|j| self.dims[j]);
                    Stage::new(entered_from, self.dims[i], self.depths[i], self.layer_scale, device)
                })
                .collect(),
            classifier: Classifier {
                norm: channel_norm(last, device),
                fc: LinearConfig::new(last, self.num_classes).init(device),
            },
        }
    }
}

/// ConvNeXt's head: global average pool (done by [`ConvNext::forward`]), LayerNorm2d, flatten,
/// Linear. PyTorch keys: `classifier.0`, `classifier.2`.
#[derive(Module, Debug)]
pub struct Classifier<B: Backend> {
    /// LayerNorm over the pooled channels.
    pub norm: LayerNorm<B>,
    /// The class logits.
    pub fc: Linear<B>,
}

/// A ConvNeXt (eval mode). PyTorch's `features.N` sequence is split into named parts; see
/// [`weights`] for the key mapping.
#[derive(Module, Debug)]
pub struct ConvNext<B: Backend> {
    /// Stem (`features.0`).
    pub stem: Stem<B>,
    /// The four stages: blocks `features.1`, `.3`, `.5`, `.7`, entered (from the second on)
    /// through the downsampling layers `features.2`, `.4`, `.6`.
    pub stages: Vec<Stage<B>>,
    /// Head (`classifier`).
    pub classifier: Classifier<B>,
}

impl<B: Backend> ConvNext<B> {
    /// Computes the class logits.
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB; 224×224 for ImageNet weights; at
    ///   least 32×32)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.stages.iter().fold(self.stem.forward(x), |x, stage| stage.forward(x));
        // Channels-last `[batch, h, w, c]`: average over the h·w rows of each image.
        let [n, h, w, c] = x.dims();
        let pooled = x.reshape([n, h * w, c]).mean_dim(1).reshape([n, c]);
        let pooled = self.classifier.norm.forward(pooled);
        kernels::linear(&self.classifier.fc, pooled, Activation::None)
    }
}

/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec = crate::registry::spec::FamilySpec::classifier(
    "ConvNeXt",
    VARIANTS,
    "Liu et al. 2022, https://arxiv.org/abs/2201.03545; torchvision/models/convnext.py",
    weights::remaps,
)
// A 4×4/4 stem and three 2×2/2 downsamplings (torchvision's `min_size` is 32×32).
.with_min_input(|_| 32);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{load_pytorch, parameter_count, ImportOptions};
    use burn::backend::Flex;
    use burn::tensor::{Distribution, TensorData};
    use std::path::PathBuf;

    type B = Flex;

    /// torchvision 0.29's `sum(p.numel() for p in model.parameters())`.
    const TORCHVISION_PARAMS: &[(&str, usize)] = &[
        ("convnext_tiny", 28_589_128),
        ("convnext_small", 50_223_688),
        ("convnext_base", 88_591_464),
        ("convnext_large", 197_767_336),
    ];

    #[test]
    fn variants_build_with_torchvisions_parameter_counts() {
        let device = Default::default();
        assert_eq!(VARIANTS.len(), TORCHVISION_PARAMS.len());
        for &(id, params) in TORCHVISION_PARAMS {
            assert!(VARIANTS.contains(&id), "{id}");
            let model = config(id).unwrap().init::<B>(&device);
            assert_eq!(parameter_count(&model), params, "{id}");
        }
        assert!(config("convnext_huge").is_none());
    }

    #[test]
    fn small_forward_gives_one_row_of_logits_per_image() {
        let device = Default::default();
        let model = config("convnext_tiny").unwrap().with_num_classes(10).init::<B>(&device);
        let x = Tensor::<B, 4>::random([1, 3, 64, 64], Distribution::Normal(0.0, 1.0), &device);
        let y = model.forward(x);
        assert_eq!(y.dims(), [1, 10]);
        let values = y.into_data().convert::<f32>().to_vec::<f32>().unwrap();
        assert!(values.iter().all(|v| v.is_finite()), "{values:?}");
    }

    #[test]
    fn torchvision_keys_map_onto_the_module() {
        let cases = [
            ("features.0.0.weight", "stem.conv.weight"),
            ("features.0.1.bias", "stem.norm.bias"),
            ("features.1.2.layer_scale", "stages.0.blocks.2.layer_scale"),
            ("features.3.0.block.0.weight", "stages.1.blocks.0.dwconv.weight"),
            ("features.5.26.block.2.weight", "stages.2.blocks.26.norm.weight"),
            ("features.7.1.block.3.bias", "stages.3.blocks.1.pwconv1.bias"),
            ("features.7.2.block.5.weight", "stages.3.blocks.2.pwconv2.weight"),
            ("features.2.0.weight", "stages.1.downsample.norm.weight"),
            ("features.4.1.bias", "stages.2.downsample.conv.bias"),
            ("features.6.1.weight", "stages.3.downsample.conv.weight"),
            ("classifier.0.weight", "classifier.norm.weight"),
            ("classifier.2.bias", "classifier.fc.bias"),
        ];
        let remapper = burn_store::KeyRemapper::from_patterns(weights::remaps()).expect("valid patterns");
        let snapshots = cases
            .iter()
            .map(|(key, _)| {
                let path = key.split('.').map(str::to_string).collect();
                burn_store::TensorSnapshot::from_data(TensorData::from([0.0f32]), path, vec![], burn::module::ParamId::new())
            })
            .collect();
        let (_, renamed) = remapper.remap(snapshots);
        for ((to, from), (key, expected)) in renamed.iter().zip(cases) {
            assert_eq!((from.as_str(), to.as_str()), (key, expected));
        }
        // Every renamed key is a parameter of the model.
        let device = Default::default();
        let keys: Vec<String> = crate::import::state_dict_shapes(&config("convnext_small").unwrap().init::<B>(&device))
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        for (_, expected) in cases {
            assert!(keys.iter().any(|k| k == expected), "{expected} not in {keys:?}");
        }
    }

    /// The golden directory of `entry` (`HUB_GOLDEN_DIR` or the repository's
    /// `target/golden/vision`), or `None` after printing why the check is skipped.
    fn golden(entry: &str) -> Option<PathBuf> {
        let base = std::env::var_os("HUB_GOLDEN_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/golden/vision"));
        let dir = base.join(entry);
        if ["model.pth", "io.safetensors"].iter().all(|f| dir.join(f).is_file()) {
            return Some(dir);
        }
        let message = format!(
            "parity {entry}: SKIPPED, no model.pth/io.safetensors in {} (run `target/golden-venv/bin/python \
             xtask/golden/vision.py --out target/golden/vision --entries {entry}`)",
            dir.display()
        );
        assert!(std::env::var("HUB_REQUIRE_GOLDEN").map_or(true, |v| v != "1"), "{message} and HUB_REQUIRE_GOLDEN=1");
        println!("{message}");
        None
    }

    fn read_tensor(path: &std::path::Path, name: &str) -> TensorData {
        let mut store = burn_store::SafetensorsStore::from_file(path);
        use burn_store::ModuleStore;
        let snapshot = store
            .get_snapshot(name)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
            .unwrap_or_else(|| panic!("no `{name}` in {}", path.display()));
        snapshot.to_data().unwrap().convert::<f32>()
    }

    /// torchvision's outputs (seeded random weights with random LayerNorm affines and layer
    /// scales, written by `xtask/golden/vision.py`) within the parity tolerance of the data
    /// contract: `max|burn − torch| ≤ 1e-4 · max|torch|`.
    #[test]
    fn parity_with_torchvision() {
        let device = Default::default();
        for &id in VARIANTS {
            let Some(dir) = golden(id) else { continue };
            let start = std::time::Instant::now();
            let options = ImportOptions::new().with_remaps(weights::remaps());
            let model = config(id).unwrap().init::<B>(&device);
            let (model, report) = load_pytorch(model, dir.join("model.pth"), &options)
                .unwrap_or_else(|e| panic!("{id}: strict load failed: {e}"));
            assert!(report.is_complete(), "{id}: {report:?}");
            let io = dir.join("io.safetensors");
            let input = Tensor::<B, 4>::from_data(read_tensor(&io, "input"), &device);
            let expected = Tensor::<B, 2>::from_data(read_tensor(&io, "output"), &device);
            let out = model.forward(input);
            assert_eq!(out.dims(), expected.dims(), "{id}");
            let scale: f32 = expected.clone().abs().max().into_scalar();
            let err: f32 = (out - expected).abs().max().into_scalar();
            println!(
                "parity {id}: max|burn-torch| = {err:.3e}, max|torch| = {scale:.3e}, relative = {:.3e} ({:.1} s)",
                err / scale,
                start.elapsed().as_secs_f32()
            );
            assert!(scale > 0.0 && err <= 1e-4 * scale, "{id}: {err:e} > 1e-4 * {scale:e}");
        }
    }
}
