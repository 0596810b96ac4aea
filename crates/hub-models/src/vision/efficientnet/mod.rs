//! EfficientNet (B0–B7, V2-S/M/L) and EfficientNet-Lite.
//!
//! - Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks" (2019).
//! - Tan & Le, "EfficientNetV2: Smaller Models and Faster Training" (2021).
//!
//! Reference implementation: torchvision 0.29 `models/efficientnet.py` (this module).
//! EfficientNet-Lite, with the key names of the lukemelas-style PyTorch port, lives in [`lite`]:
//! a sub-family with the same interface (`VARIANTS`, `config`, remaps in
//! [`weights::lite_remaps`]).

pub mod block;
pub mod lite;
pub mod weights;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::vision::layers::{
    global_avg_pool, make_divisible, Activation, ConvNormAct, ConvNormActConfig,
};
use block::{stage, BlockKind, MbBlock, StageConfig};

/// Entry ids built by [`config`] (EfficientNet-Lite: [`lite::VARIANTS`]).
pub const VARIANTS: &[&str] = &[
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "efficientnet_b4",
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
    "efficientnet_v2_s",
    "efficientnet_v2_m",
    "efficientnet_v2_l",
];

/// The variant table: `(id, stage table, width_mult, depth_mult, dropout, BatchNorm eps)`.
/// torchvision uses eps 1e-3 (TensorFlow's default) for B5–B7 and V2, PyTorch's 1e-5 otherwise.
const TABLE: [(&str, StageTable, f64, f64, f64, f64); 11] = [
    ("efficientnet_b0", StageTable::V1, 1.0, 1.0, 0.2, 1e-5),
    ("efficientnet_b1", StageTable::V1, 1.0, 1.1, 0.2, 1e-5),
    ("efficientnet_b2", StageTable::V1, 1.1, 1.2, 0.3, 1e-5),
    ("efficientnet_b3", StageTable::V1, 1.2, 1.4, 0.3, 1e-5),
    ("efficientnet_b4", StageTable::V1, 1.4, 1.8, 0.4, 1e-5),
    ("efficientnet_b5", StageTable::V1, 1.6, 2.2, 0.4, 1e-3),
    ("efficientnet_b6", StageTable::V1, 1.8, 2.6, 0.5, 1e-3),
    ("efficientnet_b7", StageTable::V1, 2.0, 3.1, 0.5, 1e-3),
    ("efficientnet_v2_s", StageTable::V2S, 1.0, 1.0, 0.2, 1e-3),
    ("efficientnet_v2_m", StageTable::V2M, 1.0, 1.0, 0.3, 1e-3),
    ("efficientnet_v2_l", StageTable::V2L, 1.0, 1.0, 0.4, 1e-3),
];

/// The configuration of entry `id`, or `None` if [`config`] doesn't build it.
pub fn config(id: &str) -> Option<EfficientNetConfig> {
    TABLE
        .iter()
        .find(|row| row.0 == id)
        .map(|&(_, table, width, depth, dropout, eps)| {
            EfficientNetConfig::new(table)
                .with_width_mult(width)
                .with_depth_mult(depth)
                .with_dropout(dropout)
                .with_norm_eps(eps)
        })
}

/// Which stage table (torchvision's `_efficientnet_conf`).
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum StageTable {
    /// EfficientNet B0 (MBConv stages), scaled by width and depth for B1–B7.
    V1,
    /// EfficientNetV2-S.
    V2S,
    /// EfficientNetV2-M.
    V2M,
    /// EfficientNetV2-L.
    V2L,
}

/// A table row: `(kind, expand_ratio, kernel, stride, input_channels, out_channels, num_layers)`.
type Row = (BlockKind, f64, usize, usize, usize, usize, usize);

const MB: BlockKind = BlockKind::MbConv;
const FUSED: BlockKind = BlockKind::FusedMbConv;

const V1_ROWS: [Row; 7] = [
    (MB, 1.0, 3, 1, 32, 16, 1),
    (MB, 6.0, 3, 2, 16, 24, 2),
    (MB, 6.0, 5, 2, 24, 40, 2),
    (MB, 6.0, 3, 2, 40, 80, 3),
    (MB, 6.0, 5, 1, 80, 112, 3),
    (MB, 6.0, 5, 2, 112, 192, 4),
    (MB, 6.0, 3, 1, 192, 320, 1),
];

const V2S_ROWS: [Row; 6] = [
    (FUSED, 1.0, 3, 1, 24, 24, 2),
    (FUSED, 4.0, 3, 2, 24, 48, 4),
    (FUSED, 4.0, 3, 2, 48, 64, 4),
    (MB, 4.0, 3, 2, 64, 128, 6),
    (MB, 6.0, 3, 1, 128, 160, 9),
    (MB, 6.0, 3, 2, 160, 256, 15),
];

const V2M_ROWS: [Row; 7] = [
    (FUSED, 1.0, 3, 1, 24, 24, 3),
    (FUSED, 4.0, 3, 2, 24, 48, 5),
    (FUSED, 4.0, 3, 2, 48, 80, 5),
    (MB, 4.0, 3, 2, 80, 160, 7),
    (MB, 6.0, 3, 1, 160, 176, 14),
    (MB, 6.0, 3, 2, 176, 304, 18),
    (MB, 6.0, 3, 1, 304, 512, 5),
];

const V2L_ROWS: [Row; 7] = [
    (FUSED, 1.0, 3, 1, 32, 32, 4),
    (FUSED, 4.0, 3, 2, 32, 64, 7),
    (FUSED, 4.0, 3, 2, 64, 96, 7),
    (MB, 4.0, 3, 2, 96, 192, 10),
    (MB, 6.0, 3, 1, 192, 224, 19),
    (MB, 6.0, 3, 2, 224, 384, 25),
    (MB, 6.0, 3, 1, 384, 640, 7),
];

/// Configuration of [`EfficientNet`].
#[derive(Config, Debug)]
pub struct EfficientNetConfig {
    /// The stage table.
    pub table: StageTable,
    /// Channel multiplier (`MBConvConfig` rounds channels to multiples of 8).
    #[config(default = 1.0)]
    pub width_mult: f64,
    /// Depth multiplier (`ceil(num_layers · depth_mult)` blocks per stage).
    #[config(default = 1.0)]
    pub depth_mult: f64,
    /// Dropout before the classifier (training only; kept for reference).
    #[config(default = 0.2)]
    pub dropout: f64,
    /// BatchNorm epsilon.
    #[config(default = 1e-5)]
    pub norm_eps: f64,
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
}

impl EfficientNetConfig {
    /// The stages, scaled, and the channels of the last 1×1 convolution.
    pub fn stages(&self) -> (Vec<StageConfig>, usize) {
        let (rows, last_channel): (&[Row], Option<usize>) = match self.table {
            StageTable::V1 => (&V1_ROWS, None),
            StageTable::V2S => (&V2S_ROWS, Some(1280)),
            StageTable::V2M => (&V2M_ROWS, Some(1280)),
            StageTable::V2L => (&V2L_ROWS, Some(1280)),
        };
        let stages: Vec<StageConfig> = rows
            .iter()
            .map(
                |&(kind, expand_ratio, kernel, stride, input, out, layers)| {
                    // MBConvConfig scales channels and depth; FusedMBConvConfig takes them as given.
                    let (input, out, layers) = match kind {
                        BlockKind::MbConv => (
                            make_divisible(input as f64 * self.width_mult, 8, None),
                            make_divisible(out as f64 * self.width_mult, 8, None),
                            (layers as f64 * self.depth_mult).ceil() as usize,
                        ),
                        BlockKind::FusedMbConv => (input, out, layers),
                    };
                    StageConfig {
                        kind,
                        expand_ratio,
                        kernel,
                        stride,
                        input_channels: input,
                        out_channels: out,
                        num_layers: layers,
                    }
                },
            )
            .collect();
        let last_in = stages.last().map_or(0, |s| s.out_channels);
        (stages, last_channel.unwrap_or(4 * last_in))
    }

    /// Builds the model with freshly initialised weights.
    pub fn init<B: Backend>(&self, device: &B::Device) -> EfficientNet<B> {
        let eps = self.norm_eps;
        let (stages, last_channel) = self.stages();
        let first = stages.first().map_or(32, |s| s.input_channels);
        let last_in = stages.last().map_or(first, |s| s.out_channels);
        let mut features = vec![Feature::Conv(
            ConvNormActConfig::new(3, first, 3, Activation::Silu)
                .stride(2)
                .eps(eps)
                .init(device),
        )];
        features.extend(stages.iter().map(|s| Feature::Stage(stage(s, eps, device))));
        features.push(Feature::Conv(
            ConvNormActConfig::new(last_in, last_channel, 1, Activation::Silu)
                .eps(eps)
                .init(device),
        ));
        EfficientNet {
            features,
            classifier: LinearConfig::new(last_channel, self.num_classes).init(device),
        }
    }
}

/// One element of EfficientNet's `features` sequence.
// Variants differ in size; a model holds a few dozen of these, built once, and burn has no
// `Module` impl for `Box`, so they stay unboxed.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Feature<B: Backend> {
    /// A `Conv2dNormActivation` (stem and last 1×1 convolution).
    Conv(ConvNormAct<B>),
    /// A stage of MBConv / FusedMBConv blocks.
    Stage(Vec<MbBlock<B>>),
}

impl<B: Backend> Feature<B> {
    /// # Shapes
    /// - input: `[batch, channels_in, height, width]`
    /// - output: `[batch, channels_out, height_out, width_out]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            Feature::Conv(m) => m.forward(x),
            Feature::Stage(blocks) => blocks.iter().fold(x, |x, b| b.forward(x)),
        }
    }
}

/// torchvision's EfficientNet. PyTorch keys: `features.N` (`features.S.J.block.K` inside the
/// stages), `classifier.1` (after dropout).
#[derive(Module, Debug)]
pub struct EfficientNet<B: Backend> {
    /// Stem, the stages, last 1×1 convolution.
    pub features: Vec<Feature<B>>,
    /// Classifier.
    pub classifier: Linear<B>,
}

impl<B: Backend> EfficientNet<B> {
    /// Eval-mode logits (dropout and stochastic depth are the identity).
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB; 224×224 for B0, larger for the
    ///   bigger variants)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.features.iter().fold(x, |x, f| f.forward(x));
        let [n, c, _, _] = x.dims();
        self.classifier.forward(global_avg_pool(x).reshape([n, c]))
    }
}

/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec =
    crate::registry::spec::FamilySpec::classifier("EfficientNet", VARIANTS, "Tan & Le 2019, https://arxiv.org/abs/1905.11946; torchvision/models/efficientnet.py", weights::remaps)
    .with_min_input(|id| if id.starts_with("efficientnet_v2") { 33 } else { 1 });
