//! The segmentation heads and backbones: torchvision's `FCNHead` (`segmentation/fcn.py`),
//! `DeepLabHead` with `ASPP` (`segmentation/deeplabv3.py`), `LRASPPHead`
//! (`segmentation/lraspp.py`), and the `IntermediateLayerGetter` views of a dilated ResNet or
//! MobileNetV3 (`models/_utils.py`).
//!
//! torchvision builds the heads as `nn.Sequential`s, so their state-dict keys are indices
//! (`classifier.0.convs.4.1.weight`). The same index can hold different layers in different
//! heads (`classifier.1` is FCN's BatchNorm but DeepLab's 3×3 convolution), which no key remap
//! could tell apart; so, like the MobileNet family, the heads here are `Vec`s of layer enums
//! whose `Vec` index is the PyTorch index (burn-store leaves enum variant names out of the
//! paths), and the keys need no renaming.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, PaddingConfig2d, Relu, Sigmoid,
};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::backend::Backend;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::Tensor;

use crate::vision::layers::global_avg_pool;
use crate::vision::mobilenet::Feature;
use crate::vision::resnet::ResNetBackbone;

/// `F.interpolate(x, size, mode="bilinear", align_corners=False)`.
///
/// # Shapes
/// - input: `[batch, channels, height, width]`
/// - output: `[batch, channels, size[0], size[1]]`
pub fn resize_bilinear<B: Backend>(x: Tensor<B, 4>, size: [usize; 2]) -> Tensor<B, 4> {
    let [_, _, h, w] = x.dims();
    if [h, w] == size {
        return x;
    }
    let options = InterpolateOptions::new(InterpolateMode::Bilinear).with_align_corners(false);
    interpolate(x, size, options)
}

/// One element of a torchvision `nn.Sequential` in a head.
#[derive(Module, Debug)]
pub enum Layer<B: Backend> {
    /// `nn.Conv2d`.
    Conv(Conv2d<B>),
    /// `nn.BatchNorm2d` (running statistics: eval mode).
    Norm(BatchNorm<B>),
    /// `nn.ReLU`.
    Relu(Relu),
    /// `nn.Sigmoid`.
    Sigmoid(Sigmoid),
    /// `nn.Dropout`: the identity in eval mode.
    Dropout(Dropout),
    /// `nn.AdaptiveAvgPool2d(1)`.
    GlobalPool(GlobalPool),
}

/// `nn.AdaptiveAvgPool2d(1)`: the mean over the spatial dimensions.
#[derive(Module, Clone, Debug, Default)]
pub struct GlobalPool;

impl<B: Backend> Layer<B> {
    /// # Shapes
    /// - input: `[batch, channels_in, height, width]`
    /// - output: `[batch, channels_out, height, width]` (`1×1` after [`Layer::GlobalPool`])
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            Layer::Conv(conv) => conv.forward(x),
            Layer::Norm(bn) => crate::kernels::burn_batch_norm(bn, x),
            Layer::Relu(_) => relu(x),
            Layer::Sigmoid(_) => sigmoid(x),
            Layer::Dropout(_) => x,
            Layer::GlobalPool(_) => global_avg_pool(x),
        }
    }
}

impl<B: Backend> crate::kernels::SequentialLayer<B> for Layer<B> {
    fn step(&self) -> crate::kernels::Step<'_, B> {
        use crate::kernels::{Activation, Step};
        match self {
            Layer::Conv(conv) => Step::Conv(conv),
            Layer::Norm(bn) => Step::Norm(bn),
            Layer::Relu(_) => Step::Act(Activation::Relu),
            Layer::Sigmoid(_) => Step::Act(Activation::Sigmoid),
            Layer::Dropout(_) | Layer::GlobalPool(_) => Step::Other,
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        Layer::forward(self, x)
    }
}

/// Runs a sequence of layers in order; a convolution with the BatchNorm and activation after it
/// runs as one fused layer.
pub fn forward_layers<B: Backend>(layers: &[Layer<B>], x: Tensor<B, 4>) -> Tensor<B, 4> {
    crate::kernels::forward_sequential(layers, x, None)
}

/// A `k×k` convolution with padding `dilation · (k / 2)` (same size), with or without bias.
fn conv<B: Backend>(
    channels: [usize; 2],
    kernel: usize,
    dilation: usize,
    bias: bool,
    device: &B::Device,
) -> Layer<B> {
    let pad = dilation * (kernel / 2);
    Layer::Conv(
        Conv2dConfig::new(channels, [kernel, kernel])
            .with_dilation([dilation, dilation])
            .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
            .with_bias(bias)
            .init(device),
    )
}

fn norm<B: Backend>(channels: usize, device: &B::Device) -> Layer<B> {
    Layer::Norm(BatchNormConfig::new(channels).init(device))
}

fn dropout<B: Backend>(prob: f64) -> Layer<B> {
    Layer::Dropout(DropoutConfig::new(prob).init())
}

/// torchvision's `FCNHead(in_channels, channels)`: `Conv3×3(in → in/4, no bias), BN, ReLU,
/// Dropout(0.1), Conv1×1(in/4 → channels, bias)`. Also the auxiliary classifier of every model
/// that has one.
pub fn fcn_head<B: Backend>(
    in_channels: usize,
    channels: usize,
    device: &B::Device,
) -> Vec<Layer<B>> {
    let inter = in_channels / 4;
    vec![
        conv([in_channels, inter], 3, 1, false, device),
        norm(inter, device),
        Layer::Relu(Relu),
        dropout(0.1),
        conv([inter, channels], 1, 1, true, device),
    ]
}

/// One branch of [`Aspp`].
#[derive(Module, Debug)]
pub enum AsppBranch<B: Backend> {
    /// `Conv(1×1 or dilated 3×3, no bias), BN, ReLU` (the first branch and `ASPPConv`).
    Conv(Vec<Layer<B>>),
    /// `ASPPPooling`: `AdaptiveAvgPool2d(1), Conv1×1, BN, ReLU`, then bilinearly upsampled back
    /// to the input size.
    Pooling(Vec<Layer<B>>),
}

impl<B: Backend> AsppBranch<B> {
    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, out_channels, height, width]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            AsppBranch::Conv(layers) => forward_layers(layers, x),
            AsppBranch::Pooling(layers) => {
                let [_, _, h, w] = x.dims();
                resize_bilinear(forward_layers(layers, x), [h, w])
            }
        }
    }
}

/// Atrous Spatial Pyramid Pooling (Chen et al., 2017): a 1×1 branch, one dilated 3×3 branch
/// per rate and an image-pooling branch, concatenated and projected (PyTorch keys `convs.N.*`,
/// `project.N.*`).
#[derive(Module, Debug)]
pub struct Aspp<B: Backend> {
    /// The parallel branches.
    pub convs: Vec<AsppBranch<B>>,
    /// `Conv1×1(branches · out → out, no bias), BN, ReLU, Dropout(0.5)`.
    pub project: Vec<Layer<B>>,
}

impl<B: Backend> Aspp<B> {
    /// torchvision's `ASPP(in_channels, atrous_rates, out_channels)`.
    pub fn new(
        in_channels: usize,
        rates: &[usize],
        out_channels: usize,
        device: &B::Device,
    ) -> Self {
        let branch = |kernel, dilation| {
            vec![
                conv([in_channels, out_channels], kernel, dilation, false, device),
                norm(out_channels, device),
                Layer::Relu(Relu),
            ]
        };
        let mut convs = vec![AsppBranch::Conv(branch(1, 1))];
        convs.extend(rates.iter().map(|&rate| AsppBranch::Conv(branch(3, rate))));
        convs.push(AsppBranch::Pooling(vec![
            Layer::GlobalPool(GlobalPool),
            conv([in_channels, out_channels], 1, 1, false, device),
            norm(out_channels, device),
            Layer::Relu(Relu),
        ]));
        let concat = convs.len() * out_channels;
        Self {
            convs,
            project: vec![
                conv([concat, out_channels], 1, 1, false, device),
                norm(out_channels, device),
                Layer::Relu(Relu),
                dropout(0.5),
            ],
        }
    }

    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, out_channels, height, width]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let branches = self.convs.iter().map(|b| b.forward(x.clone())).collect();
        forward_layers(&self.project, crate::kernels::cat_channels(branches))
    }
}

/// One element of a head's top-level `nn.Sequential`.
// ASPP is much larger than a plain layer, but a head holds one of it, in a `Vec` mirroring
// torch's indices; boxing would only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum HeadLayer<B: Backend> {
    /// DeepLab's ASPP module.
    Aspp(Aspp<B>),
    /// Any other layer.
    Layer(Layer<B>),
}

impl<B: Backend> HeadLayer<B> {
    /// # Shapes
    /// - input: `[batch, channels_in, height, width]`
    /// - output: `[batch, channels_out, height, width]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            HeadLayer::Aspp(aspp) => aspp.forward(x),
            HeadLayer::Layer(layer) => layer.forward(x),
        }
    }
}

/// torchvision's `DeepLabHead(in_channels, num_classes, atrous_rates)`: `ASPP(in → 256),
/// Conv3×3(256 → 256, no bias), BN, ReLU, Conv1×1(256 → num_classes, bias)`.
pub fn deeplab_head<B: Backend>(
    in_channels: usize,
    num_classes: usize,
    rates: &[usize],
    device: &B::Device,
) -> Vec<HeadLayer<B>> {
    vec![
        HeadLayer::Aspp(Aspp::new(in_channels, rates, 256, device)),
        HeadLayer::Layer(conv([256, 256], 3, 1, false, device)),
        HeadLayer::Layer(norm(256, device)),
        HeadLayer::Layer(Layer::Relu(Relu)),
        HeadLayer::Layer(conv([256, num_classes], 1, 1, true, device)),
    ]
}

/// torchvision's `LRASPPHead` (Lite R-ASPP, Howard et al., 2019): the high-level features go
/// through `cbr` (Conv1×1, BN, ReLU), gated by `scale` (global pool, Conv1×1, sigmoid),
/// upsampled to the low-level resolution; the two classifiers' outputs are added.
#[derive(Module, Debug)]
pub struct LrasppHead<B: Backend> {
    /// `Conv1×1(high → inter, no bias), BN, ReLU`.
    pub cbr: Vec<Layer<B>>,
    /// `AdaptiveAvgPool2d(1), Conv1×1(high → inter, no bias), Sigmoid`.
    pub scale: Vec<Layer<B>>,
    /// `Conv1×1(low → num_classes, bias)`.
    pub low_classifier: Conv2d<B>,
    /// `Conv1×1(inter → num_classes, bias)`.
    pub high_classifier: Conv2d<B>,
}

impl<B: Backend> LrasppHead<B> {
    /// torchvision's `LRASPPHead(low_channels, high_channels, num_classes, inter_channels)`.
    pub fn new(
        low_channels: usize,
        high_channels: usize,
        num_classes: usize,
        inter_channels: usize,
        device: &B::Device,
    ) -> Self {
        Self {
            cbr: vec![
                conv([high_channels, inter_channels], 1, 1, false, device),
                norm(inter_channels, device),
                Layer::Relu(Relu),
            ],
            scale: vec![
                Layer::GlobalPool(GlobalPool),
                conv([high_channels, inter_channels], 1, 1, false, device),
                Layer::Sigmoid(Sigmoid),
            ],
            low_classifier: Conv2dConfig::new([low_channels, num_classes], [1, 1]).init(device),
            high_classifier: Conv2dConfig::new([inter_channels, num_classes], [1, 1]).init(device),
        }
    }

    /// # Shapes
    /// - low: `[batch, low_channels, h_low, w_low]`
    /// - high: `[batch, high_channels, h_high, w_high]`
    /// - output: `[batch, num_classes, h_low, w_low]`
    pub fn forward(&self, low: Tensor<B, 4>, high: Tensor<B, 4>) -> Tensor<B, 4> {
        let [_, _, h, w] = low.dims();
        let x = crate::vision::layers::scale_channels(forward_layers(&self.cbr, high.clone()), forward_layers(&self.scale, high));
        let x = resize_bilinear(x, [h, w]);
        self.low_classifier.forward(low) + self.high_classifier.forward(x)
    }
}

/// A segmentation model's classifier.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Head<B: Backend> {
    /// `FCNHead` or `DeepLabHead`: a sequence over the backbone's `out` features.
    Sequential(Vec<HeadLayer<B>>),
    /// `LRASPPHead` over the backbone's low- and high-level features.
    Lraspp(LrasppHead<B>),
}

impl<B: Backend> Head<B> {
    /// The class scores at the feature resolution.
    ///
    /// # Shapes
    /// - features: see [`Features`]
    /// - output: `[batch, num_classes, h, w]`, `h×w` that of `features.out` (sequential heads)
    ///   or of `features.aux` (LR-ASPP)
    pub fn forward(&self, features: &Features<B>) -> Tensor<B, 4> {
        match self {
            Head::Sequential(layers) => layers
                .iter()
                .fold(features.out.clone(), |x, layer| layer.forward(x)),
            Head::Lraspp(head) => head.forward(features.aux.clone(), features.out.clone()),
        }
    }
}

/// The two feature maps a backbone returns (torchvision's `IntermediateLayerGetter` output).
#[derive(Debug, Clone)]
pub struct Features<B: Backend> {
    /// The last feature map (`out`, LR-ASPP's `high`): ResNet `layer4` (output stride 8),
    /// MobileNetV3's last convolution (output stride 16).
    pub out: Tensor<B, 4>,
    /// The intermediate map (`aux`, LR-ASPP's `low`): ResNet `layer3`, MobileNetV3's C2 stage
    /// output (output stride 8).
    pub aux: Tensor<B, 4>,
}

/// A dilated MobileNetV3's `features`, with the index of the intermediate output. PyTorch keys
/// `backbone.N.*` (remapped to `backbone.features.N.*` in [`super::weights`]).
#[derive(Module, Debug)]
pub struct MobileNetBackbone<B: Backend> {
    /// Stem, inverted residual blocks, last 1×1 convolution (torchvision's `features`).
    pub features: Vec<Feature<B>>,
    /// Index in `features` of the `aux` / `low` output (the C2 stage: output stride 8).
    pub aux_index: usize,
}

/// A segmentation backbone.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Backbone<B: Backend> {
    /// A ResNet with `replace_stride_with_dilation = [false, true, true]`.
    ResNet(ResNetBackbone<B>),
    /// A MobileNetV3 with `dilated = true`.
    MobileNet(MobileNetBackbone<B>),
}

impl<B: Backend> Backbone<B> {
    /// # Shapes
    /// - input: `[batch, 3, height, width]`
    /// - output: see [`Features`]
    pub fn forward(&self, x: Tensor<B, 4>) -> Features<B> {
        match self {
            Backbone::ResNet(resnet) => {
                let [_, _, aux, out] = resnet.forward_stages(x);
                Features { out, aux }
            }
            Backbone::MobileNet(m) => {
                let mut aux = None;
                let mut x = x;
                for (i, feature) in m.features.iter().enumerate() {
                    x = feature.forward(x);
                    if i == m.aux_index {
                        aux = Some(x.clone());
                    }
                }
                // `aux_index` is an index of `features` by construction; fall back to the
                // output rather than panic if a hand-built backbone says otherwise.
                let aux = aux.unwrap_or_else(|| x.clone());
                Features { out: x, aux }
            }
        }
    }
}
