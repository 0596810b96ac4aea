//! Inception v3's modules A–E and its auxiliary classifier (torchvision's `InceptionA` ...
//! `InceptionE`, `InceptionAux`), built from GoogLeNet's [`BasicConv2d`].

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::module::{adaptive_avg_pool2d, avg_pool2d};

pub use crate::vision::googlenet::BasicConv2d;

/// `BasicConv2d` with a rectangular kernel `[kh, kw]` and padding `[ph, pw]`, stride 1.
fn rect<B: Backend>(
    channels: [usize; 2],
    kernel: [usize; 2],
    padding: [usize; 2],
    device: &B::Device,
) -> BasicConv2d<B> {
    BasicConv2d::new(channels, kernel, 1, padding, device)
}

/// `BasicConv2d` with a square `k×k` kernel, the given stride and no padding.
fn valid<B: Backend>(
    channels: [usize; 2],
    k: usize,
    stride: usize,
    device: &B::Device,
) -> BasicConv2d<B> {
    BasicConv2d::new(channels, [k, k], stride, [0, 0], device)
}

/// The 3×3/1 average pool (padding 1, padding counted) in front of the pool branches.
fn pool_branch_input<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let p = crate::kernels::Pool2dParams { kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], ceil_mode: false };
    crate::kernels::avg_pool(x, p, true)
}

/// The 3×3/2 max pool (no padding, floor mode) of the stem and the grid-reduction modules.
pub(crate) fn reduce_pool_3x3s2<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    crate::kernels::max_pool(x, crate::kernels::Pool2dParams { kernel: [3, 3], stride: [2, 2], padding: [0, 0], dilation: [1, 1], ceil_mode: false })
}

fn chain<B: Backend>(convs: &[&BasicConv2d<B>], x: Tensor<B, 4>) -> Tensor<B, 4> {
    convs.iter().fold(x, |x, conv| conv.forward(x))
}

/// 35×35 module: 1×1, 5×5, double 3×3 and pool branches (`Mixed_5b`–`5d`).
#[derive(Module, Debug)]
pub struct InceptionA<B: Backend> {
    /// 1×1 → 64.
    pub branch1x1: BasicConv2d<B>,
    /// 1×1 → 48.
    pub branch5x5_1: BasicConv2d<B>,
    /// 5×5 → 64.
    pub branch5x5_2: BasicConv2d<B>,
    /// 1×1 → 64.
    pub branch3x3dbl_1: BasicConv2d<B>,
    /// 3×3 → 96.
    pub branch3x3dbl_2: BasicConv2d<B>,
    /// 3×3 → 96.
    pub branch3x3dbl_3: BasicConv2d<B>,
    /// Average pool, 1×1 → `pool_features`.
    pub branch_pool: BasicConv2d<B>,
}

impl<B: Backend> InceptionA<B> {
    /// Builds the module (output `224 + pool_features` channels).
    pub fn new(in_channels: usize, pool_features: usize, device: &B::Device) -> Self {
        Self {
            branch1x1: BasicConv2d::same([in_channels, 64], 1, device),
            branch5x5_1: BasicConv2d::same([in_channels, 48], 1, device),
            branch5x5_2: BasicConv2d::same([48, 64], 5, device),
            branch3x3dbl_1: BasicConv2d::same([in_channels, 64], 1, device),
            branch3x3dbl_2: BasicConv2d::same([64, 96], 3, device),
            branch3x3dbl_3: BasicConv2d::same([96, 96], 3, device),
            branch_pool: BasicConv2d::same([in_channels, pool_features], 1, device),
        }
    }

    /// # Shapes
    /// - input: `[batch, in_channels, h, w]`
    /// - output: `[batch, 224 + pool_features, h, w]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b2 = chain(&[&self.branch5x5_1, &self.branch5x5_2], x.clone());
        let b3 = chain(
            &[
                &self.branch3x3dbl_1,
                &self.branch3x3dbl_2,
                &self.branch3x3dbl_3,
            ],
            x.clone(),
        );
        let b4 = self.branch_pool.forward(pool_branch_input(x));
        crate::kernels::cat_channels(vec![b1, b2, b3, b4])
    }
}

/// Grid reduction 35×35 → 17×17 (`Mixed_6a`).
#[derive(Module, Debug)]
pub struct InceptionB<B: Backend> {
    /// 3×3/2 → 384.
    pub branch3x3: BasicConv2d<B>,
    /// 1×1 → 64.
    pub branch3x3dbl_1: BasicConv2d<B>,
    /// 3×3 → 96.
    pub branch3x3dbl_2: BasicConv2d<B>,
    /// 3×3/2 → 96.
    pub branch3x3dbl_3: BasicConv2d<B>,
}

impl<B: Backend> InceptionB<B> {
    /// Builds the module (output `in_channels + 480` channels).
    pub fn new(in_channels: usize, device: &B::Device) -> Self {
        Self {
            branch3x3: valid([in_channels, 384], 3, 2, device),
            branch3x3dbl_1: BasicConv2d::same([in_channels, 64], 1, device),
            branch3x3dbl_2: BasicConv2d::same([64, 96], 3, device),
            branch3x3dbl_3: valid([96, 96], 3, 2, device),
        }
    }

    /// # Shapes
    /// - input: `[batch, in_channels, h, w]`
    /// - output: `[batch, in_channels + 480, (h - 3) / 2 + 1, (w - 3) / 2 + 1]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let b1 = self.branch3x3.forward(x.clone());
        let b2 = chain(
            &[
                &self.branch3x3dbl_1,
                &self.branch3x3dbl_2,
                &self.branch3x3dbl_3,
            ],
            x.clone(),
        );
        let b3 = reduce_pool_3x3s2(x);
        crate::kernels::cat_channels(vec![b1, b2, b3])
    }
}

/// 17×17 module with factorised 7×7 convolutions (`Mixed_6b`–`6e`).
#[derive(Module, Debug)]
pub struct InceptionC<B: Backend> {
    /// 1×1 → 192.
    pub branch1x1: BasicConv2d<B>,
    /// 1×1 → c7.
    pub branch7x7_1: BasicConv2d<B>,
    /// 1×7 → c7.
    pub branch7x7_2: BasicConv2d<B>,
    /// 7×1 → 192.
    pub branch7x7_3: BasicConv2d<B>,
    /// 1×1 → c7.
    pub branch7x7dbl_1: BasicConv2d<B>,
    /// 7×1 → c7.
    pub branch7x7dbl_2: BasicConv2d<B>,
    /// 1×7 → c7.
    pub branch7x7dbl_3: BasicConv2d<B>,
    /// 7×1 → c7.
    pub branch7x7dbl_4: BasicConv2d<B>,
    /// 1×7 → 192.
    pub branch7x7dbl_5: BasicConv2d<B>,
    /// Average pool, 1×1 → 192.
    pub branch_pool: BasicConv2d<B>,
}

impl<B: Backend> InceptionC<B> {
    /// Builds the module with `c7` channels in the 7×7 branches (output 768 channels).
    pub fn new(in_channels: usize, c7: usize, device: &B::Device) -> Self {
        let row = |c: [usize; 2]| rect(c, [1, 7], [0, 3], device);
        let col = |c: [usize; 2]| rect(c, [7, 1], [3, 0], device);
        Self {
            branch1x1: BasicConv2d::same([in_channels, 192], 1, device),
            branch7x7_1: BasicConv2d::same([in_channels, c7], 1, device),
            branch7x7_2: row([c7, c7]),
            branch7x7_3: col([c7, 192]),
            branch7x7dbl_1: BasicConv2d::same([in_channels, c7], 1, device),
            branch7x7dbl_2: col([c7, c7]),
            branch7x7dbl_3: row([c7, c7]),
            branch7x7dbl_4: col([c7, c7]),
            branch7x7dbl_5: row([c7, 192]),
            branch_pool: BasicConv2d::same([in_channels, 192], 1, device),
        }
    }

    /// # Shapes
    /// - input: `[batch, in_channels, h, w]`
    /// - output: `[batch, 768, h, w]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b2 = chain(
            &[&self.branch7x7_1, &self.branch7x7_2, &self.branch7x7_3],
            x.clone(),
        );
        let b3 = chain(
            &[
                &self.branch7x7dbl_1,
                &self.branch7x7dbl_2,
                &self.branch7x7dbl_3,
                &self.branch7x7dbl_4,
                &self.branch7x7dbl_5,
            ],
            x.clone(),
        );
        let b4 = self.branch_pool.forward(pool_branch_input(x));
        crate::kernels::cat_channels(vec![b1, b2, b3, b4])
    }
}

/// Grid reduction 17×17 → 8×8 (`Mixed_7a`).
#[derive(Module, Debug)]
pub struct InceptionD<B: Backend> {
    /// 1×1 → 192.
    pub branch3x3_1: BasicConv2d<B>,
    /// 3×3/2 → 320.
    pub branch3x3_2: BasicConv2d<B>,
    /// 1×1 → 192.
    pub branch7x7x3_1: BasicConv2d<B>,
    /// 1×7 → 192.
    pub branch7x7x3_2: BasicConv2d<B>,
    /// 7×1 → 192.
    pub branch7x7x3_3: BasicConv2d<B>,
    /// 3×3/2 → 192.
    pub branch7x7x3_4: BasicConv2d<B>,
}

impl<B: Backend> InceptionD<B> {
    /// Builds the module (output `in_channels + 512` channels).
    pub fn new(in_channels: usize, device: &B::Device) -> Self {
        Self {
            branch3x3_1: BasicConv2d::same([in_channels, 192], 1, device),
            branch3x3_2: valid([192, 320], 3, 2, device),
            branch7x7x3_1: BasicConv2d::same([in_channels, 192], 1, device),
            branch7x7x3_2: rect([192, 192], [1, 7], [0, 3], device),
            branch7x7x3_3: rect([192, 192], [7, 1], [3, 0], device),
            branch7x7x3_4: valid([192, 192], 3, 2, device),
        }
    }

    /// # Shapes
    /// - input: `[batch, in_channels, h, w]`
    /// - output: `[batch, in_channels + 512, (h - 3) / 2 + 1, (w - 3) / 2 + 1]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let b1 = chain(&[&self.branch3x3_1, &self.branch3x3_2], x.clone());
        let b2 = chain(
            &[
                &self.branch7x7x3_1,
                &self.branch7x7x3_2,
                &self.branch7x7x3_3,
                &self.branch7x7x3_4,
            ],
            x.clone(),
        );
        let b3 = reduce_pool_3x3s2(x);
        crate::kernels::cat_channels(vec![b1, b2, b3])
    }
}

/// 8×8 module with split 1×3 / 3×1 branches (`Mixed_7b`, `7c`).
#[derive(Module, Debug)]
pub struct InceptionE<B: Backend> {
    /// 1×1 → 320.
    pub branch1x1: BasicConv2d<B>,
    /// 1×1 → 384.
    pub branch3x3_1: BasicConv2d<B>,
    /// 1×3 → 384.
    pub branch3x3_2a: BasicConv2d<B>,
    /// 3×1 → 384.
    pub branch3x3_2b: BasicConv2d<B>,
    /// 1×1 → 448.
    pub branch3x3dbl_1: BasicConv2d<B>,
    /// 3×3 → 384.
    pub branch3x3dbl_2: BasicConv2d<B>,
    /// 1×3 → 384.
    pub branch3x3dbl_3a: BasicConv2d<B>,
    /// 3×1 → 384.
    pub branch3x3dbl_3b: BasicConv2d<B>,
    /// Average pool, 1×1 → 192.
    pub branch_pool: BasicConv2d<B>,
}

impl<B: Backend> InceptionE<B> {
    /// Builds the module (output 2048 channels).
    pub fn new(in_channels: usize, device: &B::Device) -> Self {
        Self {
            branch1x1: BasicConv2d::same([in_channels, 320], 1, device),
            branch3x3_1: BasicConv2d::same([in_channels, 384], 1, device),
            branch3x3_2a: rect([384, 384], [1, 3], [0, 1], device),
            branch3x3_2b: rect([384, 384], [3, 1], [1, 0], device),
            branch3x3dbl_1: BasicConv2d::same([in_channels, 448], 1, device),
            branch3x3dbl_2: BasicConv2d::same([448, 384], 3, device),
            branch3x3dbl_3a: rect([384, 384], [1, 3], [0, 1], device),
            branch3x3dbl_3b: rect([384, 384], [3, 1], [1, 0], device),
            branch_pool: BasicConv2d::same([in_channels, 192], 1, device),
        }
    }

    /// # Shapes
    /// - input: `[batch, in_channels, h, w]`
    /// - output: `[batch, 2048, h, w]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let b1 = self.branch1x1.forward(x.clone());
        let t = self.branch3x3_1.forward(x.clone());
        let b2 = crate::kernels::cat_channels(vec![self.branch3x3_2a.forward(t.clone()), self.branch3x3_2b.forward(t)]);
        let t = chain(&[&self.branch3x3dbl_1, &self.branch3x3dbl_2], x.clone());
        let b3 = crate::kernels::cat_channels(vec![self.branch3x3dbl_3a.forward(t.clone()), self.branch3x3dbl_3b.forward(t)]);
        let b4 = self.branch_pool.forward(pool_branch_input(x));
        crate::kernels::cat_channels(vec![b1, b2, b3, b4])
    }
}

/// The auxiliary classifier on `Mixed_6e` (training only; present so that checkpoints with
/// `AuxLogits.*` load strictly).
#[derive(Module, Debug)]
pub struct InceptionAux<B: Backend> {
    /// 1×1 → 128.
    pub conv0: BasicConv2d<B>,
    /// 5×5 → 768.
    pub conv1: BasicConv2d<B>,
    /// 768 → classes.
    pub fc: Linear<B>,
}

impl<B: Backend> InceptionAux<B> {
    /// Builds the head on `in_channels` features.
    pub fn new(in_channels: usize, num_classes: usize, device: &B::Device) -> Self {
        Self {
            conv0: BasicConv2d::same([in_channels, 128], 1, device),
            conv1: valid([128, 768], 5, 1, device),
            fc: LinearConfig::new(768, num_classes).init(device),
        }
    }

    /// Auxiliary logits.
    ///
    /// # Shapes
    /// - input: `[batch, in_channels, 17, 17]` (the output of `Mixed_6e`)
    /// - output: `[batch, num_classes]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = avg_pool2d(x, [5, 5], [3, 3], [0, 0], true, false);
        let x = self.conv1.forward(self.conv0.forward(x));
        self.fc
            .forward(adaptive_avg_pool2d(x, [1, 1]).flatten::<2>(1, 3))
    }
}
