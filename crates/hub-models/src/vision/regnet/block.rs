//! RegNet's residual bottleneck block (torchvision's `ResBottleneckBlock` and
//! `BottleneckTransform`), built from the shared [`crate::vision::layers`].

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::vision::layers::{Activation, ConvNormAct, ConvNormActConfig, SqueezeExcitation};

/// What one block is made of, derived from its stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockConfig {
    /// Input channels.
    pub width_in: usize,
    /// Output channels.
    pub width_out: usize,
    /// Stride of the 3×3 convolution (and of the projection).
    pub stride: usize,
    /// Channels per group of the 3×3 convolution.
    pub group_width: usize,
    /// Bottleneck channels over output channels.
    pub bottleneck_multiplier: f64,
    /// Squeeze-and-excitation channels over *input* channels (`None`: no SE, the X models).
    pub se_ratio: Option<f64>,
}

/// `x → a (1×1) → b (3×3, grouped, strided) → [se] → c (1×1, no activation)`.
/// PyTorch keys: `f.a`, `f.b`, `f.se.fc{1,2}`, `f.c`.
#[derive(Module, Debug)]
pub struct BottleneckTransform<B: Backend> {
    /// 1×1 convolution to the bottleneck width.
    pub a: ConvNormAct<B>,
    /// Grouped 3×3 convolution.
    pub b: ConvNormAct<B>,
    /// Squeeze-and-excitation (RegNetY).
    pub se: Option<SqueezeExcitation<B>>,
    /// 1×1 convolution to the output width; its ReLU comes after the residual sum.
    pub c: ConvNormAct<B>,
}

/// `relu(proj(x) + f(x))`, `proj` the identity when the shape is kept.
/// PyTorch keys: `proj`, `f`.
#[derive(Module, Debug)]
pub struct ResBottleneckBlock<B: Backend> {
    /// 1×1 strided projection of the shortcut, when width or resolution change.
    pub proj: Option<ConvNormAct<B>>,
    /// The bottleneck transform.
    pub f: BottleneckTransform<B>,
}

impl<B: Backend> ResBottleneckBlock<B> {
    /// Builds the block as torchvision does: bottleneck width `round(width_out · multiplier)`,
    /// `bottleneck / group_width` groups, SE width `round(se_ratio · width_in)`.
    pub fn new(c: &BlockConfig, device: &B::Device) -> Self {
        let relu = Activation::Relu;
        // Python's `round` (ties to even), as torchvision computes these.
        let w_b = (c.width_out as f64 * c.bottleneck_multiplier).round_ties_even() as usize;
        let groups = (w_b / c.group_width.max(1)).max(1);
        let proj = (c.width_in != c.width_out || c.stride != 1).then(|| {
            ConvNormActConfig::new(c.width_in, c.width_out, 1, Activation::Identity).stride(c.stride).init(device)
        });
        let se = c.se_ratio.filter(|&r| r > 0.0).map(|r| {
            let squeeze = (r * c.width_in as f64).round_ties_even() as usize;
            SqueezeExcitation::new(w_b, squeeze, relu, Activation::Sigmoid, device)
        });
        let f = BottleneckTransform {
            a: ConvNormActConfig::new(c.width_in, w_b, 1, relu).init(device),
            b: ConvNormActConfig::new(w_b, w_b, 3, relu).stride(c.stride).groups(groups).init(device),
            se,
            c: ConvNormActConfig::new(w_b, c.width_out, 1, Activation::Identity).init(device),
        };
        Self { proj, f }
    }

    /// # Shapes
    /// - input: `[batch, width_in, height, width]`
    /// - output: `[batch, width_out, ⌈height / stride⌉, ⌈width / stride⌉]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let shortcut = match &self.proj {
            Some(proj) => proj.forward(x.clone()),
            None => x.clone(),
        };
        let mut y = self.f.b.forward(self.f.a.forward(x));
        if let Some(se) = &self.f.se {
            y = se.forward(y);
        }
        // `c`'s BatchNorm, the residual sum and the block's ReLU in one fused pass.
        let c = &self.f.c;
        crate::kernels::conv2d(&c.conv, Some(&c.bn), y, Some(shortcut), Activation::Relu.kernel())
    }
}
