//! Generative adversarial networks: image generators that map latent vectors to images.
//!
//! - [`dcgan`]: DCGAN generators ("Unsupervised Representation Learning with Deep Convolutional
//!   Generative Adversarial Networks", Radford et al., 2015, <https://arxiv.org/abs/1511.06434>):
//!   the GAN zoo's `DCGAN` (facebookresearch/pytorch_GAN_zoo, branch `hub`,
//!   `models/networks/DCGAN_nets.py`) and the PyTorch-tutorial generator shipped with the
//!   `gan-face-generate` package.
//! - [`pgan`]: the GAN zoo's progressive GAN ("Progressive Growing of GANs for Improved Quality,
//!   Stability, and Variation", Karras et al., 2017, <https://arxiv.org/abs/1710.10196>;
//!   `models/networks/progressive_conv_net.py`).
//!
//! Both follow the GAN zoo's model API: `build_noise_data(n, rng)` draws latent vectors
//! (`buildNoiseData(n)`), `test(noise)` generates images (`test(noise)`), `[batch, channels,
//! height, width]`, nominally in `[-1, 1]`. [`save_grid`] writes a batch of them as one PNG.
//!
//! Latent vectors come from our own seeded generator, [`NoiseRng`] (xoshiro256++ and
//! Box–Muller): the same seed gives the same vectors on every platform and backend, but not the
//! numbers `torch.randn` would draw. To reproduce a PyTorch sample exactly, feed PyTorch's
//! latent tensor to `test`.

pub mod dcgan;
mod grid;
mod noise;
pub mod pgan;

use burn::prelude::*;

pub use grid::{grid_image, save_grid, GridError};
pub use noise::{build_noise_data, NoiseRng};

/// The activation applied to a generator's last layer.
///
/// The GAN zoo takes it from the training loss (`lossCriterion.generationActivation`): `tanh`
/// for the `DCGAN` and `MSE` losses, none for `WGANGP` and `Logistic`.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum OutputActivation {
    /// No activation: the raw output of the last layer (values mostly, not strictly, in
    /// `[-1, 1]`; clamp before display, as the GAN zoo's examples do).
    Identity,
    /// `tanh`: values in `[-1, 1]`.
    Tanh,
}

impl OutputActivation {
    /// Applies the activation.
    ///
    /// # Shapes
    /// - input and output: `[batch, channels, height, width]`
    pub fn forward<B: Backend>(self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            Self::Identity => x,
            Self::Tanh => x.tanh(),
        }
    }
}
