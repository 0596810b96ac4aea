//! The layers of a DCGAN generator's `nn.Sequential` stack, and batch normalisation with
//! batch statistics.

use burn::nn::conv::ConvTranspose2d;
use burn::nn::{BatchNorm, Relu};
use burn::prelude::*;
use burn::tensor::activation::relu;

/// Which statistics the generator's batch normalisation layers normalise with.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum BatchNormMode {
    /// The stored running mean and variance: PyTorch's eval mode (`netG.eval()`).
    RunningStatistics,
    /// The mean and (biased) variance of the current batch, per channel: PyTorch's training
    /// mode. The GAN zoo's `test(noise)` runs its generator this way (it never calls
    /// `eval()`), so its images depend on the other samples of the batch.
    BatchStatistics,
}

/// One entry of the generator's `nn.Sequential` (`[batch, channels, height, width]` in and out).
#[derive(Module, Debug)]
pub enum Layer<B: Backend> {
    /// `nn.ConvTranspose2d` (no bias).
    ConvTranspose(ConvTranspose2d<B>),
    /// `nn.BatchNorm2d`.
    BatchNorm(BatchNorm<B>),
    /// `nn.ReLU`.
    Relu(Relu),
}

impl<B: Backend> Layer<B> {
    /// Applies the layer, normalising batch-norm layers as `mode` says.
    ///
    /// # Shapes
    /// - input: `[batch, channels_in, height, width]`
    /// - output: `[batch, channels_out, height_out, width_out]`
    pub fn forward(&self, x: Tensor<B, 4>, mode: BatchNormMode) -> Tensor<B, 4> {
        match self {
            Self::ConvTranspose(conv) => conv.forward(x),
            Self::BatchNorm(bn) => match mode {
                BatchNormMode::RunningStatistics => bn.forward(x),
                BatchNormMode::BatchStatistics => batch_norm_batch_statistics(bn, x),
            },
            Self::Relu(_) => relu(x),
        }
    }
}

/// `bn` applied with the batch's own per-channel mean and biased variance (PyTorch's
/// training-mode `BatchNorm2d` output; the running statistics are neither used nor updated).
///
/// # Shapes
/// - input and output: `[batch, channels, height, width]`
pub fn batch_norm_batch_statistics<B: Backend>(bn: &BatchNorm<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let channels = x.dims()[1];
    let mean = x.clone().mean_dims(&[0, 2, 3]);
    let centered = x - mean;
    let var = centered.clone().square().mean_dims(&[0, 2, 3]);
    let gamma = bn.gamma.val().reshape([1, channels, 1, 1]);
    let beta = bn.beta.val().reshape([1, channels, 1, 1]);
    centered * var.add_scalar(bn.epsilon).sqrt().recip() * gamma + beta
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::nn::BatchNormConfig;
    use burn::tensor::Distribution;

    #[test]
    fn batch_statistics_normalise_each_channel() {
        let device = Default::default();
        let bn = BatchNormConfig::new(3).init::<Flex>(&device);
        let x = Tensor::<Flex, 4>::random([4, 3, 5, 5], Distribution::Normal(2.0, 3.0), &device);
        let y = batch_norm_batch_statistics(&bn, x);
        let mean = y
            .clone()
            .mean_dims(&[0, 2, 3])
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        let var = y
            .square()
            .mean_dims(&[0, 2, 3])
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        assert!(mean.iter().all(|m| m.abs() < 1e-5), "{mean:?}");
        assert!(var.iter().all(|v| (v - 1.0).abs() < 1e-3), "{var:?}");
    }
}
