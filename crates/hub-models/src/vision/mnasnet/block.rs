//! MNASNet's inverted residual (torchvision's `_InvertedResidual`), built from the shared
//! [`crate::vision::layers`].

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::vision::layers::{forward_layers_add, Activation, ConvNormActConfig, Layer};

/// `1×1 expand (ReLU) → k×k depthwise (ReLU) → 1×1 project`, plus the input when the shape is
/// kept. PyTorch keys: `layers.{0,1,3,4,6,7}` (see [`super::weights`]).
#[derive(Module, Debug)]
pub struct InvertedResidual<B: Backend> {
    /// The three convolutions with their BatchNorms, in order.
    pub layers: Vec<Layer<B>>,
    /// `in_ch == out_ch && stride == 1`.
    pub apply_residual: bool,
}

impl<B: Backend> InvertedResidual<B> {
    /// Builds the block: `in_ch · expansion` hidden channels, a `kernel`×`kernel` depthwise
    /// convolution of stride `stride` (padding `kernel / 2`). BatchNorm keeps PyTorch's eps
    /// (torchvision changes only its momentum, which eval mode does not use).
    pub fn new(in_ch: usize, out_ch: usize, kernel: usize, stride: usize, expansion: usize, device: &B::Device) -> Self {
        let mid = in_ch * expansion;
        let cna = |i, o, k, act| ConvNormActConfig::new(i, o, k, act);
        let layers = vec![
            Layer::ConvNormAct(cna(in_ch, mid, 1, Activation::Relu).init(device)),
            Layer::ConvNormAct(cna(mid, mid, kernel, Activation::Relu).stride(stride).groups(mid).init(device)),
            Layer::ConvNormAct(cna(mid, out_ch, 1, Activation::Identity).init(device)),
        ];
        Self { layers, apply_residual: in_ch == out_ch && stride == 1 }
    }

    /// # Shapes
    /// - input: `[batch, in_ch, height, width]`
    /// - output: `[batch, out_ch, ⌈height / stride⌉, ⌈width / stride⌉]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let residual = self.apply_residual.then(|| x.clone());
        forward_layers_add(&self.layers, x, residual)
    }
}

/// torchvision's `_stack`: `repeats` blocks, the first with the stage's input channels and
/// stride, the others keeping `out_ch` and stride 1.
pub fn stack<B: Backend>(in_ch: usize, out_ch: usize, kernel: usize, stride: usize, expansion: usize, repeats: usize, device: &B::Device) -> Vec<InvertedResidual<B>> {
    (0..repeats)
        .map(|i| match i {
            0 => InvertedResidual::new(in_ch, out_ch, kernel, stride, expansion, device),
            _ => InvertedResidual::new(out_ch, out_ch, kernel, 1, expansion, device),
        })
        .collect()
}
