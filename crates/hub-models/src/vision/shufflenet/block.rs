//! ShuffleNet v2 building blocks: the two-branch unit and the channel shuffle.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use crate::kernels::{conv2d, Activation::{None as Linear, Relu}};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

/// A bias-free convolution followed by BatchNorm, without activation.
fn conv_bn<B: Backend>(
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
    stride: usize,
    groups: usize,
    device: &B::Device,
) -> (Conv2d<B>, BatchNorm<B>) {
    let pad = (kernel - 1) / 2;
    let conv = Conv2dConfig::new([in_channels, out_channels], [kernel; 2])
        .with_stride([stride; 2])
        .with_groups(groups)
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(false)
        .init(device);
    (conv, BatchNormConfig::new(out_channels).init(device))
}

/// `torchvision.models.shufflenetv2.channel_shuffle`: splits the channels into `groups` groups
/// and interleaves them.
///
/// # Shapes
/// - input: `[batch, channels, height, width]`, `channels` divisible by `groups`
/// - output: `[batch, channels, height, width]`
pub fn channel_shuffle<B: Backend>(x: Tensor<B, 4>, groups: usize) -> Tensor<B, 4> {
    crate::kernels::channel_shuffle(x, groups)
}

/// The strided unit's left branch (PyTorch `branch1`): depthwise 3×3 + BN, 1×1 + BN + ReLU.
#[derive(Module, Debug)]
pub struct Branch1<B: Backend> {
    /// PyTorch `branch1.0`: depthwise 3×3, strided.
    pub dw_conv: Conv2d<B>,
    /// PyTorch `branch1.1`.
    pub dw_bn: BatchNorm<B>,
    /// PyTorch `branch1.2`: pointwise.
    pub pw_conv: Conv2d<B>,
    /// PyTorch `branch1.3`.
    pub pw_bn: BatchNorm<B>,
}

/// The right branch (PyTorch `branch2`): 1×1 + BN + ReLU, depthwise 3×3 + BN, 1×1 + BN + ReLU.
#[derive(Module, Debug)]
pub struct Branch2<B: Backend> {
    /// PyTorch `branch2.0`.
    pub pw1_conv: Conv2d<B>,
    /// PyTorch `branch2.1`.
    pub pw1_bn: BatchNorm<B>,
    /// PyTorch `branch2.3`: depthwise, strided in the first unit of a stage.
    pub dw_conv: Conv2d<B>,
    /// PyTorch `branch2.4`.
    pub dw_bn: BatchNorm<B>,
    /// PyTorch `branch2.5`.
    pub pw2_conv: Conv2d<B>,
    /// PyTorch `branch2.6`.
    pub pw2_bn: BatchNorm<B>,
}

/// ShuffleNet v2 unit (torchvision's `InvertedResidual`). With stride 1 the input is split in
/// two halves and only the second goes through `branch2`; with stride 2 both branches see the
/// whole input. The halves are concatenated and channel-shuffled.
#[derive(Module, Debug)]
pub struct InvertedResidual<B: Backend> {
    /// Present in strided units only.
    pub branch1: Option<Branch1<B>>,
    /// The main branch.
    pub branch2: Branch2<B>,
}

impl<B: Backend> InvertedResidual<B> {
    /// Builds a unit. Stride 1 requires `in_channels == out_channels`.
    pub fn new(in_channels: usize, out_channels: usize, stride: usize, device: &B::Device) -> Self {
        let branch = out_channels / 2;
        let branch1 = (stride > 1).then(|| {
            let (dw_conv, dw_bn) =
                conv_bn(in_channels, in_channels, 3, stride, in_channels, device);
            let (pw_conv, pw_bn) = conv_bn(in_channels, branch, 1, 1, 1, device);
            Branch1 {
                dw_conv,
                dw_bn,
                pw_conv,
                pw_bn,
            }
        });
        let branch2_in = if stride > 1 { in_channels } else { branch };
        let (pw1_conv, pw1_bn) = conv_bn(branch2_in, branch, 1, 1, 1, device);
        let (dw_conv, dw_bn) = conv_bn(branch, branch, 3, stride, branch, device);
        let (pw2_conv, pw2_bn) = conv_bn(branch, branch, 1, 1, 1, device);
        Self {
            branch1,
            branch2: Branch2 {
                pw1_conv,
                pw1_bn,
                dw_conv,
                dw_bn,
                pw2_conv,
                pw2_bn,
            },
        }
    }

    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, out_channels, height / stride, width / stride]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let out = match &self.branch1 {
            Some(b1) => {
                let left = conv2d(&b1.dw_conv, Some(&b1.dw_bn), x.clone(), None, Linear);
                let left = conv2d(&b1.pw_conv, Some(&b1.pw_bn), left, None, Relu);
                crate::kernels::cat_channels(vec![left, self.forward_branch2(x)])
            }
            None => {
                // `x.chunk(2, dim=1)`: the first half passes through unchanged.
                let half = x.dims()[1] / 2;
                let left = x.clone().narrow(1, 0, half);
                let right = x.narrow(1, half, half);
                crate::kernels::cat_channels(vec![left, self.forward_branch2(right)])
            }
        };
        channel_shuffle(out, 2)
    }

    fn forward_branch2(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let b = &self.branch2;
        let x = conv2d(&b.pw1_conv, Some(&b.pw1_bn), x, None, Relu);
        let x = conv2d(&b.dw_conv, Some(&b.dw_bn), x, None, Linear);
        conv2d(&b.pw2_conv, Some(&b.pw2_bn), x, None, Relu)
    }
}

/// A convolution + BN + ReLU stage (PyTorch `conv1`, `conv5`: `Sequential(conv, bn, relu)`).
#[derive(Module, Debug)]
pub struct ConvBnRelu<B: Backend> {
    /// PyTorch index 0.
    pub conv: Conv2d<B>,
    /// PyTorch index 1.
    pub bn: BatchNorm<B>,
}

impl<B: Backend> ConvBnRelu<B> {
    /// Builds the layer (`padding = (kernel - 1) / 2`).
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        device: &B::Device,
    ) -> Self {
        let (conv, bn) = conv_bn(in_channels, out_channels, kernel, stride, 1, device);
        Self { conv, bn }
    }

    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, out_channels, height / stride, width / stride]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        conv2d(&self.conv, Some(&self.bn), x, None, Relu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::TensorData;

    #[test]
    fn channel_shuffle_interleaves_groups() {
        let device = Default::default();
        // Channel c holds the value c; two groups of three → 0 3 1 4 2 5.
        let x = Tensor::<Flex, 1>::from_floats([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &device)
            .reshape([1, 6, 1, 1]);
        let y = channel_shuffle(x, 2).reshape([6]);
        y.into_data()
            .assert_eq(&TensorData::from([0.0f32, 3.0, 1.0, 4.0, 2.0, 5.0]), false);
    }
}
