//! ShuffleNet v2.
//!
//! Ma et al., "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design" (2018).
//! Reference implementation: torchvision 0.29 `models/shufflenetv2.py`.

pub mod block;
pub mod weights;

use burn::config::Config;
use burn::module::Module;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use block::{ConvBnRelu, InvertedResidual};

/// Entry ids built by this family.
pub const VARIANTS: &[&str] = &[
    "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0",
    "shufflenet_v2_x1_5",
    "shufflenet_v2_x2_0",
];

/// The variant table: `(id, stages_out_channels)`; every variant repeats its stages 4, 8, 4 times.
const TABLE: [(&str, [usize; 5]); 4] = [
    ("shufflenet_v2_x0_5", [24, 48, 96, 192, 1024]),
    ("shufflenet_v2_x1_0", [24, 116, 232, 464, 1024]),
    ("shufflenet_v2_x1_5", [24, 176, 352, 704, 1024]),
    ("shufflenet_v2_x2_0", [24, 244, 488, 976, 2048]),
];

/// The configuration of entry `id`, or `None` if this family doesn't build it.
pub fn config(id: &str) -> Option<ShuffleNetV2Config> {
    TABLE
        .iter()
        .find(|(name, _)| *name == id)
        .map(|(_, channels)| ShuffleNetV2Config::new([4, 8, 4], *channels))
}

/// Configuration of [`ShuffleNetV2`].
#[derive(Config, Debug)]
pub struct ShuffleNetV2Config {
    /// Units in stages 2, 3 and 4.
    pub stages_repeats: [usize; 3],
    /// Output channels of `conv1`, stages 2–4 and `conv5`.
    pub stages_out_channels: [usize; 5],
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
}

/// ShuffleNet v2. PyTorch keys: `conv1.{0,1}`, `stage{2,3,4}.N`, `conv5.{0,1}`, `fc`.
#[derive(Module, Debug)]
pub struct ShuffleNetV2<B: Backend> {
    /// 3×3 stride-2 stem.
    pub conv1: ConvBnRelu<B>,
    /// 3×3 stride-2 max pooling.
    pub maxpool: MaxPool2d,
    /// Stage 2 (first unit strided).
    pub stage2: Vec<InvertedResidual<B>>,
    /// Stage 3.
    pub stage3: Vec<InvertedResidual<B>>,
    /// Stage 4.
    pub stage4: Vec<InvertedResidual<B>>,
    /// Last 1×1 convolution.
    pub conv5: ConvBnRelu<B>,
    /// Classifier.
    pub fc: Linear<B>,
}

impl ShuffleNetV2Config {
    /// Builds the model with freshly initialised weights.
    pub fn init<B: Backend>(&self, device: &B::Device) -> ShuffleNetV2<B> {
        let c = self.stages_out_channels;
        let stage = |repeats: usize, input: usize, output: usize| {
            (0..repeats)
                .map(|i| {
                    if i == 0 {
                        InvertedResidual::new(input, output, 2, device)
                    } else {
                        InvertedResidual::new(output, output, 1, device)
                    }
                })
                .collect::<Vec<_>>()
        };
        ShuffleNetV2 {
            conv1: ConvBnRelu::new(3, c[0], 3, 2, device),
            maxpool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            stage2: stage(self.stages_repeats[0], c[0], c[1]),
            stage3: stage(self.stages_repeats[1], c[1], c[2]),
            stage4: stage(self.stages_repeats[2], c[2], c[3]),
            conv5: ConvBnRelu::new(c[3], c[4], 1, 1, device),
            fc: LinearConfig::new(c[4], self.num_classes).init(device),
        }
    }
}

impl<B: Backend> ShuffleNetV2<B> {
    /// Eval-mode logits.
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB, 224×224 for the ImageNet weights)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = crate::kernels::max_pool2d(&self.maxpool, self.conv1.forward(x));
        let x = self
            .stage2
            .iter()
            .chain(&self.stage3)
            .chain(&self.stage4)
            .fold(x, |x, unit| unit.forward(x));
        let x = self.conv5.forward(x);
        let [n, c, _, _] = x.dims();
        // Global average pooling (`x.mean([2, 3])`), as two short reductions: one long f32 sum
        // over `h · w` values loses precision.
        let x = x.mean_dim(3).mean_dim(2).reshape([n, c]);
        self.fc.forward(x)
    }
}

/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec =
    crate::registry::spec::FamilySpec::classifier("ShuffleNet v2", VARIANTS, "Ma et al. 2018, https://arxiv.org/abs/1807.11164; torchvision/models/shufflenetv2.py", weights::remaps);
