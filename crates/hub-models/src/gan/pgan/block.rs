//! The GAN zoo's custom layers (`models/networks/custom_layers.py`): equalized learning rate
//! convolution and linear layers, pixel normalisation, nearest-neighbour up-sampling.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;

/// He's constant `sqrt(2 / fan_in)`, which an equalized layer multiplies its output by.
fn he_constant(fan_in: usize) -> f64 {
    (2.0 / fan_in as f64).sqrt()
}

/// The initialisers of an equalized layer: weights N(0, 1) when equalized (the scale is applied
/// at run time), biases 0 when `init_bias_to_zero`.
fn initializers(equalized: bool, init_bias_to_zero: bool) -> (Option<Initializer>, bool) {
    let weight = equalized.then_some(Initializer::Normal {
        mean: 0.0,
        std: 1.0,
    });
    (weight, init_bias_to_zero)
}

/// `EqualizedConv2d`: an `nn.Conv2d` (state-dict prefix `module.`) whose output, bias
/// included, is multiplied by He's constant `sqrt(2 / (in · k · k))` when equalized.
#[derive(Module, Debug)]
pub struct EqualizedConv2d<B: Backend> {
    /// The wrapped convolution.
    pub module: Conv2d<B>,
    /// Run-time output scale (1 when not equalized).
    scale: f64,
}

impl<B: Backend> EqualizedConv2d<B> {
    /// A `kernel`×`kernel` convolution with "same" padding (`kernel / 2`), as the GAN zoo
    /// builds them (3×3 padding 1, 1×1 padding 0).
    pub fn new(
        channels: [usize; 2],
        kernel: usize,
        equalized: bool,
        init_bias_to_zero: bool,
        device: &B::Device,
    ) -> Self {
        let padding = kernel / 2;
        let (weight_init, zero_bias) = initializers(equalized, init_bias_to_zero);
        let mut config = Conv2dConfig::new(channels, [kernel, kernel]).with_padding(
            PaddingConfig2d::Explicit(padding, padding, padding, padding),
        );
        if let Some(init) = weight_init {
            config = config.with_initializer(init);
        }
        let mut module = config.init(device);
        if zero_bias {
            module.bias = Some(Initializer::Zeros.init([channels[1]], device));
        }
        let scale = if equalized {
            he_constant(channels[0] * kernel * kernel)
        } else {
            1.0
        };
        Self { module, scale }
    }

    /// Applies the convolution and the scale.
    ///
    /// # Shapes
    /// - input: `[batch, channels_in, height, width]`
    /// - output: `[batch, channels_out, height, width]`
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let y = self.module.forward(x);
        if self.scale == 1.0 {
            y
        } else {
            y.mul_scalar(self.scale)
        }
    }
}

/// `EqualizedLinear`: an `nn.Linear` (state-dict prefix `module.`) whose output, bias included,
/// is multiplied by He's constant `sqrt(2 / in)` when equalized.
#[derive(Module, Debug)]
pub struct EqualizedLinear<B: Backend> {
    /// The wrapped linear layer.
    pub module: Linear<B>,
    /// Run-time output scale (1 when not equalized).
    scale: f64,
}

impl<B: Backend> EqualizedLinear<B> {
    /// A `[in, out]` linear layer.
    pub fn new(
        features: [usize; 2],
        equalized: bool,
        init_bias_to_zero: bool,
        device: &B::Device,
    ) -> Self {
        let (weight_init, zero_bias) = initializers(equalized, init_bias_to_zero);
        let mut config = LinearConfig::new(features[0], features[1]);
        if let Some(init) = weight_init {
            config = config.with_initializer(init);
        }
        let mut module = config.init(device);
        if zero_bias {
            module.bias = Some(Initializer::Zeros.init([features[1]], device));
        }
        let scale = if equalized {
            he_constant(features[0])
        } else {
            1.0
        };
        Self { module, scale }
    }

    /// Applies the layer and the scale.
    ///
    /// # Shapes
    /// - input: `[batch, in]`
    /// - output: `[batch, out]`
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let y = self.module.forward(x);
        if self.scale == 1.0 {
            y
        } else {
            y.mul_scalar(self.scale)
        }
    }
}

/// Pixel-wise feature normalisation (`NormalizationLayer`): each position's feature vector
/// divided by its root mean square over the channels, `x / sqrt(mean(x², dim 1) + 1e-8)`.
///
/// # Shapes
/// - input and output: `[batch, channels, ...]`
pub fn pixel_norm<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    let scale = x
        .clone()
        .square()
        .mean_dim(1)
        .add_scalar(1e-8)
        .sqrt()
        .recip();
    x * scale
}

/// Nearest-neighbour up-sampling by 2 (`Upscale2d`): every pixel repeated into a 2×2 block.
///
/// # Shapes
/// - input: `[batch, channels, height, width]`
/// - output: `[batch, channels, 2·height, 2·width]`
pub fn upscale2d<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [batch, channels, height, width] = x.dims();
    x.reshape([batch, channels, height, 1, width, 1])
        .expand([batch, channels, height, 2, width, 2])
        .reshape([batch, channels, height * 2, width * 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    type B = Flex;

    #[test]
    fn upscale_repeats_pixels() {
        let device = Default::default();
        let x = Tensor::<B, 4>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [1, 1, 2, 2]),
            &device,
        );
        let y = upscale2d(x).into_data().to_vec::<f32>().unwrap();
        #[rustfmt::skip]
        let expected = vec![
            1.0, 1.0, 2.0, 2.0,
            1.0, 1.0, 2.0, 2.0,
            3.0, 3.0, 4.0, 4.0,
            3.0, 3.0, 4.0, 4.0,
        ];
        assert_eq!(y, expected);
    }

    #[test]
    fn pixel_norm_gives_unit_rms_per_position() {
        let device = Default::default();
        let x = Tensor::<B, 4>::random(
            [2, 5, 3, 3],
            burn::tensor::Distribution::Normal(0.0, 4.0),
            &device,
        );
        let rms = pixel_norm(x)
            .square()
            .mean_dim(1)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        assert!(rms.iter().all(|v| (v - 1.0).abs() < 1e-4), "{rms:?}");
    }

    #[test]
    fn equalized_layers_scale_their_output_bias_included() {
        let device = Default::default();
        let conv = EqualizedConv2d::<B>::new([2, 3], 3, true, false, &device);
        assert!((conv.scale - (2.0f64 / 18.0).sqrt()).abs() < 1e-12);
        let x = Tensor::<B, 4>::zeros([1, 2, 4, 4], &device);
        // A zero input leaves only the bias, scaled.
        let bias = conv
            .module
            .bias
            .as_ref()
            .unwrap()
            .val()
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        let out = conv.forward(x).into_data().to_vec::<f32>().unwrap();
        for (c, b) in bias.iter().enumerate() {
            let expected = b * conv.scale as f32;
            assert!((out[c * 16] - expected).abs() < 1e-6);
        }

        let linear = EqualizedLinear::<B>::new([8, 4], true, true, &device);
        assert!((linear.scale - 0.5).abs() < 1e-12);
        let zero = linear.forward(Tensor::zeros([2, 8], &device));
        assert_eq!(
            zero.abs().max().into_scalar(),
            0.0,
            "bias initialised to zero"
        );
        let plain = EqualizedLinear::<B>::new([8, 4], false, true, &device);
        assert_eq!(plain.scale, 1.0);
    }
}
