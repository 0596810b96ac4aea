//! MobileNet v2 and v3.
//!
//! - v2: Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks" (2018).
//! - v3: Howard et al., "Searching for MobileNetV3" (2019).
//!
//! Reference implementation: torchvision 0.29 `models/mobilenetv2.py`, `models/mobilenetv3.py`.
//! The two architectures share this family: [`config`] returns a [`MobileNetConfig`] whose
//! [`init`](MobileNetConfig::init) builds a [`MobileNet`], either variant behind one type.

pub mod block;
pub mod weights;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::vision::layers::{global_avg_pool, make_divisible, Activation, ConvNormAct, ConvNormActConfig};
use block::{BneckRow, InvertedResidualV2, InvertedResidualV3};

/// Entry ids built by this family.
pub const VARIANTS: &[&str] = &["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"];

/// The variant table: the configuration of entry `id`, or `None` if this family doesn't build it.
pub fn config(id: &str) -> Option<MobileNetConfig> {
    match id {
        "mobilenet_v2" => Some(MobileNetConfig::V2(MobileNetV2Config::new())),
        "mobilenet_v3_small" => Some(MobileNetConfig::V3(MobileNetV3Config::new(
            MobileNetV3Arch::Small,
        ))),
        "mobilenet_v3_large" => Some(MobileNetConfig::V3(MobileNetV3Config::new(
            MobileNetV3Arch::Large,
        ))),
        _ => None,
    }
}

/// Configuration of either MobileNet.
#[derive(Config, Debug)]
pub enum MobileNetConfig {
    /// MobileNet v2.
    V2(MobileNetV2Config),
    /// MobileNet v3 (small or large).
    V3(MobileNetV3Config),
}

impl MobileNetConfig {
    /// Number of output classes.
    pub fn num_classes(&self) -> usize {
        match self {
            MobileNetConfig::V2(c) => c.num_classes,
            MobileNetConfig::V3(c) => c.num_classes,
        }
    }

    /// Sets the number of output classes.
    pub fn with_num_classes(self, num_classes: usize) -> Self {
        match self {
            MobileNetConfig::V2(c) => MobileNetConfig::V2(c.with_num_classes(num_classes)),
            MobileNetConfig::V3(c) => MobileNetConfig::V3(c.with_num_classes(num_classes)),
        }
    }

    /// Builds the model with freshly initialised weights.
    pub fn init<B: Backend>(&self, device: &B::Device) -> MobileNet<B> {
        match self {
            MobileNetConfig::V2(c) => MobileNet::V2(c.init(device)),
            MobileNetConfig::V3(c) => MobileNet::V3(c.init(device)),
        }
    }
}

/// Either MobileNet. The enum adds nothing to the parameter paths (burn-store leaves enum
/// variants out), so PyTorch checkpoints load into it directly.
// Variants differ in size; a model holds a few dozen of these, built once, and burn has no
// `Module` impl for `Box`, so they stay unboxed.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum MobileNet<B: Backend> {
    /// MobileNet v2.
    V2(MobileNetV2<B>),
    /// MobileNet v3.
    V3(MobileNetV3<B>),
}

impl<B: Backend> MobileNet<B> {
    /// Eval-mode logits.
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB, 224×224 for the ImageNet weights)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        match self {
            MobileNet::V2(m) => m.forward(x),
            MobileNet::V3(m) => m.forward(x),
        }
    }
}

/// One element of a MobileNet's `features` sequence.
// Variants differ in size; a model holds a few dozen of these, built once, and burn has no
// `Module` impl for `Box`, so they stay unboxed.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Feature<B: Backend> {
    /// A `Conv2dNormActivation` (the stem and the last 1×1 convolution).
    Conv(ConvNormAct<B>),
    /// A v2 inverted residual block.
    BlockV2(InvertedResidualV2<B>),
    /// A v3 inverted residual block.
    BlockV3(InvertedResidualV3<B>),
}

impl<B: Backend> Feature<B> {
    /// # Shapes
    /// - input: `[batch, channels_in, height, width]`
    /// - output: `[batch, channels_out, height_out, width_out]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            Feature::Conv(m) => m.forward(x),
            Feature::BlockV2(m) => m.forward(x),
            Feature::BlockV3(m) => m.forward(x),
        }
    }
}

/// MobileNet v2 block table `(t, c, n, s)`: expansion ratio, output channels, repeats, stride of
/// the first repeat.
const V2_SETTING: [(usize, usize, usize, usize); 7] = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
];

/// Configuration of [`MobileNetV2`].
#[derive(Config, Debug)]
pub struct MobileNetV2Config {
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Width multiplier applied to every layer's channels.
    #[config(default = 1.0)]
    pub width_mult: f64,
    /// Channel counts are rounded to a multiple of this.
    #[config(default = 8)]
    pub round_nearest: usize,
}

/// MobileNet v2. PyTorch keys: `features.N`, `classifier.1` (after dropout).
#[derive(Module, Debug)]
pub struct MobileNetV2<B: Backend> {
    /// Stem, 17 inverted residual blocks, last 1×1 convolution.
    pub features: Vec<Feature<B>>,
    /// Final linear layer.
    pub classifier: Linear<B>,
}

impl MobileNetV2Config {
    /// Builds the model with freshly initialised weights.
    pub fn init<B: Backend>(&self, device: &B::Device) -> MobileNetV2<B> {
        let round = |c: f64| make_divisible(c * self.width_mult, self.round_nearest, None);
        let mut input_channel = round(32.0);
        let last_channel =
            make_divisible(1280.0 * self.width_mult.max(1.0), self.round_nearest, None);
        let mut features = vec![Feature::Conv(
            ConvNormActConfig::new(3, input_channel, 3, Activation::Relu6)
                .stride(2)
                .init(device),
        )];
        for &(t, c, n, s) in &V2_SETTING {
            let output_channel = round(c as f64);
            for i in 0..n {
                let stride = if i == 0 { s } else { 1 };
                features.push(Feature::BlockV2(InvertedResidualV2::new(
                    input_channel,
                    output_channel,
                    stride,
                    t,
                    device,
                )));
                input_channel = output_channel;
            }
        }
        features.push(Feature::Conv(
            ConvNormActConfig::new(input_channel, last_channel, 1, Activation::Relu6).init(device),
        ));
        MobileNetV2 {
            features,
            classifier: LinearConfig::new(last_channel, self.num_classes).init(device),
        }
    }
}

impl<B: Backend> MobileNetV2<B> {
    /// Eval-mode logits (dropout is the identity).
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]`
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.features.iter().fold(x, |x, f| f.forward(x));
        let [n, c, _, _] = x.dims();
        self.classifier.forward(global_avg_pool(x).reshape([n, c]))
    }
}

/// Which MobileNet v3.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum MobileNetV3Arch {
    /// `mobilenet_v3_small`.
    Small,
    /// `mobilenet_v3_large`.
    Large,
}

/// Shorthand for a [`BneckRow`]: `(in, kernel, expanded, out, se, hardswish, stride)`.
const fn bneck(
    input_channels: usize,
    kernel: usize,
    expanded_channels: usize,
    out_channels: usize,
    use_se: bool,
    use_hs: bool,
    stride: usize,
) -> BneckRow {
    BneckRow {
        input_channels,
        kernel,
        expanded_channels,
        out_channels,
        use_se,
        use_hs,
        stride,
        dilation: 1,
    }
}

const SE: bool = true;
const HS: bool = true;
const NO: bool = false;

/// MobileNet v3 large (paper Table 1, torchvision's `_mobilenet_v3_conf`).
const V3_LARGE: [BneckRow; 15] = [
    bneck(16, 3, 16, 16, NO, NO, 1),
    bneck(16, 3, 64, 24, NO, NO, 2),
    bneck(24, 3, 72, 24, NO, NO, 1),
    bneck(24, 5, 72, 40, SE, NO, 2),
    bneck(40, 5, 120, 40, SE, NO, 1),
    bneck(40, 5, 120, 40, SE, NO, 1),
    bneck(40, 3, 240, 80, NO, HS, 2),
    bneck(80, 3, 200, 80, NO, HS, 1),
    bneck(80, 3, 184, 80, NO, HS, 1),
    bneck(80, 3, 184, 80, NO, HS, 1),
    bneck(80, 3, 480, 112, SE, HS, 1),
    bneck(112, 3, 672, 112, SE, HS, 1),
    bneck(112, 5, 672, 160, SE, HS, 2),
    bneck(160, 5, 960, 160, SE, HS, 1),
    bneck(160, 5, 960, 160, SE, HS, 1),
];

/// MobileNet v3 small (paper Table 2).
const V3_SMALL: [BneckRow; 11] = [
    bneck(16, 3, 16, 16, SE, NO, 2),
    bneck(16, 3, 72, 24, NO, NO, 2),
    bneck(24, 3, 88, 24, NO, NO, 1),
    bneck(24, 5, 96, 40, SE, HS, 2),
    bneck(40, 5, 240, 40, SE, HS, 1),
    bneck(40, 5, 240, 40, SE, HS, 1),
    bneck(40, 5, 120, 48, SE, HS, 1),
    bneck(48, 5, 144, 48, SE, HS, 1),
    bneck(48, 5, 288, 96, SE, HS, 2),
    bneck(96, 5, 576, 96, SE, HS, 1),
    bneck(96, 5, 576, 96, SE, HS, 1),
];

/// Configuration of [`MobileNetV3`].
#[derive(Config, Debug)]
pub struct MobileNetV3Config {
    /// Small or large.
    pub arch: MobileNetV3Arch,
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Width multiplier applied to every block's channels.
    #[config(default = 1.0)]
    pub width_mult: f64,
    /// torchvision's `dilated=True` (the segmentation backbones): the last three blocks (the
    /// last stage) use dilation 2 instead of stride 2, for an output stride of 16.
    #[config(default = false)]
    pub dilated: bool,
}

/// Number of blocks at the end of the v3 tables that `dilated` affects (torchvision's C4 stage).
const V3_DILATED_TAIL: usize = 3;

impl MobileNetV3Config {
    /// The block table (channels scaled by `width_mult`, dilation applied) and the hidden width
    /// of the classifier. `features[i + 1]` is built from row `i`.
    pub fn table(&self) -> (Vec<BneckRow>, usize) {
        let (rows, last): (&[BneckRow], f64) = match self.arch {
            MobileNetV3Arch::Small => (&V3_SMALL, 1024.0),
            MobileNetV3Arch::Large => (&V3_LARGE, 1280.0),
        };
        let adjust = |c: usize| make_divisible(c as f64 * self.width_mult, 8, None);
        let dilated_from = rows.len() - V3_DILATED_TAIL;
        let rows = rows
            .iter()
            .enumerate()
            .map(|(i, r)| BneckRow {
                input_channels: adjust(r.input_channels),
                expanded_channels: adjust(r.expanded_channels),
                out_channels: adjust(r.out_channels),
                dilation: if self.dilated && i >= dilated_from { 2 } else { 1 },
                ..*r
            })
            .collect();
        (rows, make_divisible(last * self.width_mult, 8, None))
    }

    /// Builds the model with freshly initialised weights.
    pub fn init<B: Backend>(&self, device: &B::Device) -> MobileNetV3<B> {
        let (_, last_channel) = self.table();
        let features = self.init_features(device);
        let last_out = self.last_conv_channels();
        MobileNetV3 {
            features,
            classifier: ClassifierV3 {
                hidden: LinearConfig::new(last_out, last_channel).init(device),
                logits: LinearConfig::new(last_channel, self.num_classes).init(device),
            },
        }
    }

    /// Output channels of the last 1×1 convolution (`features[-1]`): six times the last block's.
    pub fn last_conv_channels(&self) -> usize {
        let (rows, _) = self.table();
        6 * rows[rows.len() - 1].out_channels
    }

    /// Builds the `features` sequence only (stem, blocks, last 1×1 convolution), as used by the
    /// segmentation backbones.
    pub fn init_features<B: Backend>(&self, device: &B::Device) -> Vec<Feature<B>> {
        // torchvision: `norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)`.
        let eps = 1e-3;
        let (rows, _) = self.table();
        let first = rows[0].input_channels;
        let last_in = rows[rows.len() - 1].out_channels;
        let mut features = vec![Feature::Conv(
            ConvNormActConfig::new(3, first, 3, Activation::HardSwish)
                .stride(2)
                .eps(eps)
                .init(device),
        )];
        features.extend(
            rows.iter()
                .map(|row| Feature::BlockV3(InvertedResidualV3::new(row, eps, device))),
        );
        features.push(Feature::Conv(
            ConvNormActConfig::new(last_in, self.last_conv_channels(), 1, Activation::HardSwish)
                .eps(eps)
                .init(device),
        ));
        features
    }
}

/// MobileNet v3. PyTorch keys: `features.N`, `classifier.{0,3}`.
#[derive(Module, Debug)]
pub struct MobileNetV3<B: Backend> {
    /// Stem, the inverted residual blocks, last 1×1 convolution.
    pub features: Vec<Feature<B>>,
    /// Two-layer classifier head.
    pub classifier: ClassifierV3<B>,
}

/// MobileNet v3's head: `Linear → Hardswish → Dropout → Linear`.
#[derive(Module, Debug)]
pub struct ClassifierV3<B: Backend> {
    /// PyTorch `classifier.0`.
    pub hidden: Linear<B>,
    /// PyTorch `classifier.3`.
    pub logits: Linear<B>,
}

impl<B: Backend> MobileNetV3<B> {
    /// Eval-mode logits (dropout is the identity).
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]`
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.features.iter().fold(x, |x, f| f.forward(x));
        let [n, c, _, _] = x.dims();
        let x = global_avg_pool(x).reshape([n, c]);
        let x = Activation::HardSwish.forward(self.classifier.hidden.forward(x));
        self.classifier.logits.forward(x)
    }
}


/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec =
    crate::registry::spec::FamilySpec::classifier("MobileNet", VARIANTS, "Sandler et al. 2018 / Howard et al. 2019, https://arxiv.org/abs/1905.02244; torchvision/models/mobilenetv2.py, mobilenetv3.py", weights::remaps);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parameter_count;
    use burn::backend::Flex;

    type B = Flex;

    #[test]
    fn dilated_v3_large_keeps_output_stride_16() {
        let device = Default::default();
        let MobileNetConfig::V3(plain) = config("mobilenet_v3_large").unwrap() else {
            unreachable!()
        };
        let dilated = plain.clone().with_dilated(true);
        let (rows, _) = dilated.table();
        let dilations: Vec<usize> = rows.iter().map(|r| r.dilation).collect();
        assert_eq!(dilations, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2]);
        let x = Tensor::<B, 4>::zeros([1, 3, 64, 96], &device);
        let run = |c: &MobileNetV3Config| {
            let features = c.init_features::<B>(&device);
            features.iter().fold(x.clone(), |x, f| f.forward(x)).dims()
        };
        assert_eq!(run(&plain), [1, 960, 2, 3]);
        assert_eq!(run(&dilated), [1, 960, 4, 6]);
        assert_eq!(
            parameter_count(&dilated.init::<B>(&device)),
            parameter_count(&plain.init::<B>(&device))
        );
    }
}
