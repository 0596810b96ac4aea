//! RegNet X and Y, from "Designing Network Design Spaces" (Radosavovic et al., 2020,
//! <https://arxiv.org/abs/2003.13678>); a port of torchvision 0.29's `models/regnet.py` (eval
//! mode).
//!
//! A RegNet is given by six numbers, not by a table of stages: `depth` blocks whose widths grow
//! linearly (`w_0 + w_a · j`), quantised in log space with step `w_m` and to multiples of 8;
//! blocks of equal width form a stage. [`RegNetConfig::stages`] derives the stages as
//! torchvision's `BlockParams.from_init_params` does. The network is a 3×3/2 stem, the stages
//! of residual bottleneck blocks (grouped 3×3 convolutions with `group_width` channels per
//! group; squeeze-and-excitation in the Y models), global average pooling and `fc`.

pub mod block;
pub mod weights;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::vision::layers::{global_avg_pool, make_divisible, Activation, ConvNormAct, ConvNormActConfig};
use block::{BlockConfig, ResBottleneckBlock};

/// The variant table: `(id, depth, w_0, w_a, w_m, group_width, se_ratio)`, torchvision's
/// arguments to `BlockParams.from_init_params` (the designs of the paper's Table 5 and,
/// for 16/32/128 GF, of the SWAG paper).
#[allow(clippy::type_complexity)] // one row per variant, read as data
const TABLE: &[(&str, usize, usize, f64, f64, usize, Option<f64>)] = &[
    ("regnet_x_400mf", 22, 24, 24.48, 2.54, 16, None),
    ("regnet_x_800mf", 16, 56, 35.73, 2.28, 16, None),
    ("regnet_x_1_6gf", 18, 80, 34.01, 2.25, 24, None),
    ("regnet_x_3_2gf", 25, 88, 26.31, 2.25, 48, None),
    ("regnet_x_8gf", 23, 80, 49.56, 2.88, 120, None),
    ("regnet_x_16gf", 22, 216, 55.59, 2.1, 128, None),
    ("regnet_x_32gf", 23, 320, 69.86, 2.0, 168, None),
    ("regnet_y_400mf", 16, 48, 27.89, 2.09, 8, Some(0.25)),
    ("regnet_y_800mf", 14, 56, 38.84, 2.4, 16, Some(0.25)),
    ("regnet_y_1_6gf", 27, 48, 20.71, 2.65, 24, Some(0.25)),
    ("regnet_y_3_2gf", 21, 80, 42.63, 2.66, 24, Some(0.25)),
    ("regnet_y_8gf", 17, 192, 76.82, 2.19, 56, Some(0.25)),
    ("regnet_y_16gf", 18, 200, 106.23, 2.48, 112, Some(0.25)),
    ("regnet_y_32gf", 20, 232, 115.89, 2.53, 232, Some(0.25)),
    ("regnet_y_128gf", 27, 456, 160.83, 2.52, 264, Some(0.25)),
];

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &[
    "regnet_x_400mf",
    "regnet_x_800mf",
    "regnet_x_1_6gf",
    "regnet_x_3_2gf",
    "regnet_x_8gf",
    "regnet_x_16gf",
    "regnet_x_32gf",
    "regnet_y_400mf",
    "regnet_y_800mf",
    "regnet_y_1_6gf",
    "regnet_y_3_2gf",
    "regnet_y_8gf",
    "regnet_y_16gf",
    "regnet_y_32gf",
    "regnet_y_128gf",
];

/// The configuration of a variant, or `None` for an unknown id.
pub fn config(id: &str) -> Option<RegNetConfig> {
    TABLE.iter().find(|row| row.0 == id).map(|&(_, depth, w_0, w_a, w_m, group_width, se_ratio)| {
        RegNetConfig::new(depth, w_0, w_a, w_m, group_width).with_se_ratio(se_ratio)
    })
}

/// The design parameters of a RegNet (torchvision's `BlockParams.from_init_params`).
#[derive(Config, Debug)]
pub struct RegNetConfig {
    /// Number of blocks in all.
    pub depth: usize,
    /// Initial width (a multiple of 8).
    pub w_0: usize,
    /// Slope of the linear width progression (≥ 0).
    pub w_a: f64,
    /// Width step of the quantisation, in log space (> 1).
    pub w_m: f64,
    /// Channels per group of the 3×3 convolutions.
    pub group_width: usize,
    /// Bottleneck width over block width.
    #[config(default = 1.0)]
    pub bottleneck_multiplier: f64,
    /// Squeeze-and-excitation ratio (RegNetY: 0.25; `None` for RegNetX).
    #[config(default = "None")]
    pub se_ratio: Option<f64>,
    /// Output channels of the stem.
    #[config(default = 32)]
    pub stem_width: usize,
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
}

/// One stage as [`RegNetConfig::stages`] derives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageSpec {
    /// Output channels of every block.
    pub width: usize,
    /// Number of blocks.
    pub depth: usize,
    /// Channels per group of the 3×3 convolutions (at most the bottleneck width).
    pub group_width: usize,
}

impl RegNetConfig {
    /// The stages, derived as torchvision does (in `f32` where torchvision computes with
    /// `float32` tensors, rounding half to even as `torch.round` does):
    ///
    /// 1. block `j`'s continuous width `u_j = w_0 + w_a · j`;
    /// 2. its quantised width `8 · round(w_0 · w_m^round(log(u_j / w_0) / log(w_m)) / 8)`;
    /// 3. runs of equal widths are the stages;
    /// 4. each stage's group width is at most its bottleneck width, and the bottleneck width is
    ///    rounded to a multiple of the group width (`_adjust_widths_groups_compatibilty`).
    ///
    /// Returns `None` for a design torchvision refuses (`w_a < 0`, `w_0` zero or not a multiple
    /// of 8, `w_m ≤ 1`) or one without blocks.
    pub fn stages(&self) -> Option<Vec<StageSpec>> {
        // NaN parameters are refused too (hence not `w_a < 0.0`).
        let (w_a_ok, w_m_ok) = (self.w_a >= 0.0, self.w_m > 1.0);
        if !w_a_ok || self.w_0 == 0 || !self.w_0.is_multiple_of(8) || !w_m_ok || self.depth == 0 {
            return None;
        }
        const QUANT: f32 = 8.0;
        let (w_0, w_a, w_m) = (self.w_0 as f32, self.w_a as f32, self.w_m as f32);
        let log_w_m = self.w_m.ln() as f32;
        let block_widths = (0..self.depth).map(|j| {
            let continuous = j as f32 * w_a + w_0;
            let capacity = ((continuous / w_0).ln() / log_w_m).round_ties_even();
            ((w_0 * w_m.powf(capacity) / QUANT).round_ties_even() * QUANT) as usize
        });
        let mut stages: Vec<StageSpec> = Vec::new();
        for width in block_widths {
            match stages.last_mut() {
                Some(stage) if stage.width == width => stage.depth += 1,
                _ => stages.push(StageSpec { width, depth: 1, group_width: self.group_width }),
            }
        }
        let b = self.bottleneck_multiplier;
        for stage in &mut stages {
            let bottleneck = (stage.width as f64 * b) as usize;
            stage.group_width = self.group_width.min(bottleneck);
            let bottleneck = make_divisible(bottleneck as f64, stage.group_width.max(1), None);
            stage.width = (bottleneck as f64 / b) as usize;
        }
        Some(stages)
    }

    /// Builds the model (parameters are initialised lazily; load weights before use). A design
    /// [`stages`](Self::stages) refuses has no stages: stem, pooling and `fc` only.
    pub fn init<B: Backend>(&self, device: &B::Device) -> RegNet<B> {
        let relu = Activation::Relu;
        let stem = ConvNormActConfig::new(3, self.stem_width, 3, relu).stride(2).init(device);
        let mut width_in = self.stem_width;
        let mut trunk_output = Vec::new();
        for stage in self.stages().unwrap_or_default() {
            let blocks = (0..stage.depth)
                .map(|j| {
                    let c = BlockConfig {
                        width_in: if j == 0 { width_in } else { stage.width },
                        width_out: stage.width,
                        stride: if j == 0 { 2 } else { 1 },
                        group_width: stage.group_width,
                        bottleneck_multiplier: self.bottleneck_multiplier,
                        se_ratio: self.se_ratio,
                    };
                    ResBottleneckBlock::new(&c, device)
                })
                .collect();
            trunk_output.push(blocks);
            width_in = stage.width;
        }
        RegNet { stem, trunk_output, fc: LinearConfig::new(width_in, self.num_classes).init(device) }
    }
}

/// torchvision's RegNet. PyTorch keys: `stem`, `trunk_output.blockS.blockS-J`, `fc` (see
/// [`weights`]).
#[derive(Module, Debug)]
pub struct RegNet<B: Backend> {
    /// 3×3/2 convolution, BatchNorm, ReLU.
    pub stem: ConvNormAct<B>,
    /// The stages, each a list of blocks; each stage halves the resolution.
    pub trunk_output: Vec<Vec<ResBottleneckBlock<B>>>,
    /// Classifier.
    pub fc: Linear<B>,
}

impl<B: Backend> RegNet<B> {
    /// Eval-mode logits.
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB, 224×224 for most weights)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.stem.forward(x);
        let x = self.trunk_output.iter().flatten().fold(x, |x, block| block.forward(x));
        let [n, c, _, _] = x.dims();
        self.fc.forward(global_avg_pool(x).reshape([n, c]))
    }
}

/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec = crate::registry::spec::FamilySpec::classifier(
    "RegNet",
    VARIANTS,
    "Radosavovic et al. 2020, https://arxiv.org/abs/2003.13678; torchvision/models/regnet.py",
    weights::remaps,
);

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    /// `(id, stage widths, stage depths, group widths)` as torchvision 0.29's
    /// `BlockParams.from_init_params` gives them (printed from torchvision).
    #[allow(clippy::type_complexity)]
    const TORCHVISION_STAGES: &[(&str, [usize; 4], [usize; 4], [usize; 4])] = &[
        ("regnet_x_400mf", [32, 64, 160, 400], [1, 2, 7, 12], [16, 16, 16, 16]),
        ("regnet_y_1_6gf", [48, 120, 336, 888], [2, 6, 17, 2], [24, 24, 24, 24]),
        ("regnet_y_128gf", [528, 1056, 2904, 7392], [2, 7, 17, 1], [264, 264, 264, 264]),
    ];

    #[test]
    fn stages_match_torchvision() {
        for &(id, widths, depths, groups) in TORCHVISION_STAGES {
            let stages = config(id).unwrap().stages().unwrap();
            assert_eq!(stages.iter().map(|s| s.width).collect::<Vec<_>>(), widths, "{id} widths");
            assert_eq!(stages.iter().map(|s| s.depth).collect::<Vec<_>>(), depths, "{id} depths");
            assert_eq!(stages.iter().map(|s| s.group_width).collect::<Vec<_>>(), groups, "{id} group widths");
        }
    }

    #[test]
    fn every_variant_has_four_stages_of_its_depth() {
        for id in VARIANTS {
            let c = config(id).unwrap();
            let stages = c.stages().unwrap();
            assert_eq!(stages.len(), 4, "{id}");
            assert_eq!(stages.iter().map(|s| s.depth).sum::<usize>(), c.depth, "{id}");
        }
    }

    #[test]
    fn invalid_designs_are_refused() {
        let ok = RegNetConfig::new(4, 24, 24.48, 2.54, 16);
        assert!(ok.stages().is_some());
        assert!(RegNetConfig::new(4, 20, 24.48, 2.54, 16).stages().is_none(), "w_0 not a multiple of 8");
        assert!(RegNetConfig::new(4, 24, -1.0, 2.54, 16).stages().is_none(), "w_a < 0");
        assert!(RegNetConfig::new(4, 24, 24.48, 1.0, 16).stages().is_none(), "w_m <= 1");
        assert!(RegNetConfig::new(0, 24, 24.48, 2.54, 16).stages().is_none(), "no blocks");
    }

    #[test]
    fn small_forward_has_the_right_shape() {
        let device = Default::default();
        let model = config("regnet_y_400mf").unwrap().with_num_classes(10).init::<Flex>(&device);
        let x = Tensor::<Flex, 4>::ones([1, 3, 32, 32], &device);
        assert_eq!(model.forward(x).dims(), [1, 10]);
    }
}
