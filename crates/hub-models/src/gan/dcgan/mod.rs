//! DCGAN generators ("Unsupervised Representation Learning with Deep Convolutional Generative
//! Adversarial Networks", Radford et al., 2015, <https://arxiv.org/abs/1511.06434>).
//!
//! Two published generators share this architecture:
//!
//! - `gan_zoo_dcgan`: the GAN zoo's `DCGAN` (facebookresearch/pytorch_GAN_zoo, branch `hub`:
//!   `models/DCGAN.py`, `models/networks/DCGAN_nets.py`), torch.hub entry point `DCGAN`, trained
//!   on fashionGen. Its `test(noise)` runs the generator in training mode, so batch
//!   normalisation uses the batch's statistics ([`BatchNormMode::BatchStatistics`]).
//! - `dcgan_faces`: the PyTorch DCGAN tutorial's generator as shipped, with weights trained on
//!   DigiFace1M, by the `gan-face-generate` 1.1.1 package (`gan_face_generate/models.py`), run
//!   in eval mode as its `inference.py` does.
//!
//! The generator turns a latent vector into a 4×4 map with a transposed convolution, doubles
//! the resolution `depth` times (transposed convolution 4×4 stride 2, batch norm, ReLU, halving
//! the channels each time), and a last transposed convolution gives the image at
//! `2^(depth+3)` pixels a side: 64×64 for `depth = 3`.

pub mod block;
pub mod weights;

use burn::nn::conv::ConvTranspose2dConfig;
use burn::nn::{BatchNormConfig, Initializer, Relu};
use burn::prelude::*;

pub use block::{BatchNormMode, Layer};
pub use weights::{DcganWeights, KeyLayout};

use super::noise::{build_noise_data, NoiseRng};
use super::OutputActivation;

/// One row of the variant table.
struct Variant {
    id: &'static str,
    /// Gaussian part of the latent vector.
    noise_dim: usize,
    /// Channels of the last hidden layer (the GAN zoo's `dimG`, the tutorial's `ngf`).
    base_channels: usize,
    depth: usize,
    out_channels: usize,
    activation: OutputActivation,
    batch_norm: BatchNormMode,
}

/// The variant table.
///
/// `gan_zoo_dcgan`: the latent width 120 is the one torch.hub documents for this checkpoint
/// ("a noise vector of shape `(N, 120)`"); 64×64 RGB output too. `dimG = 64`, `depth = 3` and the
/// `tanh` output (the `DCGAN` loss) are the GAN zoo's DCGAN defaults
/// (`standard_configurations/dcgan_config.py`); the checkpoint's own `config` could not be read
/// here. The zoo trains fashionGen as an AC-GAN, so part of those 120 values is probably a
/// one-hot class code whose layout is unknown: [`Dcgan::build_noise_data`] draws all 120 from
/// N(0, 1) (set [`DcganConfig::categories`] to add one-hot blocks).
///
/// `dcgan_faces`: `nz = 100`, `ngf = 64`, `nc = 3`, `tanh`, from `gan_face_generate/models.py`
/// and `inference.py`, and checked against the checkpoint's tensor shapes.
const TABLE: &[Variant] = &[
    Variant {
        id: "gan_zoo_dcgan",
        noise_dim: 120,
        base_channels: 64,
        depth: 3,
        out_channels: 3,
        activation: OutputActivation::Tanh,
        batch_norm: BatchNormMode::BatchStatistics,
    },
    Variant {
        id: "dcgan_faces",
        noise_dim: 100,
        base_channels: 64,
        depth: 3,
        out_channels: 3,
        activation: OutputActivation::Tanh,
        batch_norm: BatchNormMode::RunningStatistics,
    },
];

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &["gan_zoo_dcgan", "dcgan_faces"];

/// The configuration of a variant, or `None` for an unknown id.
pub fn config(id: &str) -> Option<DcganConfig> {
    TABLE.iter().find(|row| row.id == id).map(|row| {
        DcganConfig::new(row.noise_dim)
            .with_base_channels(row.base_channels)
            .with_depth(row.depth)
            .with_out_channels(row.out_channels)
            .with_activation(row.activation)
            .with_batch_norm(row.batch_norm)
    })
}

/// Hyper-parameters of a [`Dcgan`] generator.
#[derive(Config, Debug)]
pub struct DcganConfig {
    /// Number of N(0, 1) values of the latent vector (the GAN zoo's `dimLatentVector`, the
    /// tutorial's `nz`).
    pub noise_dim: usize,
    /// AC-GAN conditioning: the number of classes of each attribute, each coded one-hot after
    /// the noise (the GAN zoo's `attribKeysOrder`); empty for an unconditional model.
    #[config(default = "Vec::new()")]
    pub categories: Vec<usize>,
    /// Channels of the last hidden layer (`dimG` / `ngf`); the first has
    /// `base_channels · 2^depth`.
    #[config(default = 64)]
    pub base_channels: usize,
    /// Number of intermediate up-sampling blocks (the GAN zoo's `depth`); the output is
    /// `2^(depth+3)` pixels a side.
    #[config(default = 3)]
    pub depth: usize,
    /// Image channels (`dimOutput` / `nc`).
    #[config(default = 3)]
    pub out_channels: usize,
    /// Activation of the output layer.
    #[config(default = "OutputActivation::Tanh")]
    pub activation: OutputActivation,
    /// Statistics used by the batch normalisation layers.
    #[config(default = "BatchNormMode::RunningStatistics")]
    pub batch_norm: BatchNormMode,
}

impl DcganConfig {
    /// Width of the generator's input: `noise_dim` plus the one-hot class codes.
    pub fn latent_dim(&self) -> usize {
        self.noise_dim + self.categories.iter().sum::<usize>()
    }

    /// Builds the generator. Parameters are initialised as the GAN zoo's `weights_init` does
    /// (convolutions N(0, 0.02), batch-norm scales N(1, 0.02), shifts 0), lazily.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Dcgan<B> {
        let conv = |channels: [usize; 2], stride: usize, padding: usize| {
            Layer::ConvTranspose(
                ConvTranspose2dConfig::new(channels, [4, 4])
                    .with_stride([stride, stride])
                    .with_padding([padding, padding])
                    .with_bias(false)
                    .with_initializer(Initializer::Normal {
                        mean: 0.0,
                        std: 0.02,
                    })
                    .init(device),
            )
        };
        let norm = |channels: usize| {
            let mut bn = BatchNormConfig::new(channels).init(device);
            bn.gamma = Initializer::Normal {
                mean: 1.0,
                std: 0.02,
            }
            .init([channels], device);
            Layer::BatchNorm(bn)
        };

        let mut channels = self.base_channels << self.depth;
        let mut main = vec![
            conv([self.latent_dim(), channels], 1, 0),
            norm(channels),
            Layer::Relu(Relu::new()),
        ];
        for _ in 0..self.depth {
            let next = channels / 2;
            main.push(conv([channels, next], 2, 1));
            main.push(norm(next));
            main.push(Layer::Relu(Relu::new()));
            channels = next;
        }
        main.push(conv([channels, self.out_channels], 2, 1));
        Dcgan {
            main,
            activation: self.activation,
            batch_norm: self.batch_norm,
            noise_dim: self.noise_dim,
            categories: self.categories.clone(),
            depth: self.depth,
        }
    }
}

/// A DCGAN generator. `main` holds one entry per position of the generator's `nn.Sequential`
/// (see [`weights`] for how the GAN zoo's names map onto it).
#[derive(Module, Debug)]
pub struct Dcgan<B: Backend> {
    /// Transposed convolutions, batch norms and ReLUs, in order.
    pub main: Vec<Layer<B>>,
    activation: OutputActivation,
    batch_norm: BatchNormMode,
    noise_dim: usize,
    categories: Vec<usize>,
    depth: usize,
}

impl<B: Backend> Dcgan<B> {
    /// Generates images from latent vectors.
    ///
    /// # Shapes
    /// - input: `[batch, latent_dim]`
    /// - output: `[batch, out_channels, 2^(depth+3), 2^(depth+3)]`
    pub fn forward(&self, latent: Tensor<B, 2>) -> Tensor<B, 4> {
        let [batch, width] = latent.dims();
        let x = latent.reshape([batch, width, 1, 1]);
        let x = self
            .main
            .iter()
            .fold(x, |x, layer| layer.forward(x, self.batch_norm));
        self.activation.forward(x)
    }

    /// The GAN zoo's `test(noise)`: [`Self::forward`].
    ///
    /// # Shapes
    /// - input: `[batch, latent_dim]`
    /// - output: `[batch, out_channels, 2^(depth+3), 2^(depth+3)]`
    pub fn test(&self, noise: Tensor<B, 2>) -> Tensor<B, 4> {
        self.forward(noise)
    }

    /// The GAN zoo's `buildNoiseData(n)`: `n` latent vectors drawn from `rng` (see
    /// [`build_noise_data`]).
    ///
    /// # Shapes
    /// - output: `[n, latent_dim]`
    pub fn build_noise_data(
        &self,
        n: usize,
        rng: &mut NoiseRng,
        device: &B::Device,
    ) -> Tensor<B, 2> {
        build_noise_data(n, self.noise_dim, &self.categories, rng, device)
    }

    /// Number of intermediate up-sampling blocks.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Width of the latent vectors the generator takes.
    pub fn latent_dim(&self) -> usize {
        self.noise_dim + self.categories.iter().sum::<usize>()
    }

    /// Which statistics batch normalisation uses.
    pub fn batch_norm_mode(&self) -> BatchNormMode {
        self.batch_norm
    }

    /// Switches between batch statistics (the GAN zoo's `test`) and running statistics (eval
    /// mode).
    pub fn set_batch_norm_mode(&mut self, mode: BatchNormMode) {
        self.batch_norm = mode;
    }
}


/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec = crate::registry::spec::FamilySpec::of_task(
    "DCGAN",
    crate::registry::task::Task::ImageGeneration,
    VARIANTS,
    "Radford et al. 2015, https://arxiv.org/abs/1511.06434; pytorch_GAN_zoo models/networks/DCGAN_nets.py, PyTorch DCGAN tutorial",
);

/// Builds the generator `id` with random weights; the manifest config must be empty.
pub fn build<B: Backend>(id: &str, entry: &str, config: &toml::Table, _checkpoint: Option<&std::path::Path>, device: &B::Device) -> crate::Result<Dcgan<B>> {
    crate::registry::config::reject_keys(entry, config, &[])?;
    Ok(self::config(id).ok_or_else(|| crate::error::Error::UnknownArchitecture { architecture: id.to_owned() })?.init(device))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::state_dict_shapes;
    use burn::backend::Flex;

    type B = Flex;

    #[test]
    fn variants_have_configs() {
        for id in VARIANTS {
            let config = config(id).unwrap();
            assert!(weights::weights(id).is_some(), "{id} has no weights");
            assert_eq!(config.depth, 3);
        }
        assert_eq!(config("gan_zoo_dcgan").unwrap().latent_dim(), 120);
    }

    #[test]
    fn tutorial_keys_and_shapes() {
        let device = Default::default();
        let model = config("dcgan_faces").unwrap().init::<B>(&device);
        let shapes = state_dict_shapes(&model);
        let get = |key: &str| {
            shapes
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, s)| s.clone())
        };
        assert_eq!(get("main.0.weight"), Some(vec![100, 512, 4, 4]));
        assert_eq!(get("main.4.running_var"), Some(vec![256]));
        assert_eq!(get("main.12.weight"), Some(vec![64, 3, 4, 4]));
        // 5 transposed convolutions and 4 batch norms (weight, bias, running mean and variance).
        assert_eq!(shapes.len(), 5 + 4 * 4);
    }

    #[test]
    fn forward_shapes_and_range() {
        let device = Default::default();
        let cfg = DcganConfig::new(10)
            .with_categories(vec![3])
            .with_base_channels(4)
            .with_depth(2);
        for mode in [
            BatchNormMode::BatchStatistics,
            BatchNormMode::RunningStatistics,
        ] {
            let model = cfg.clone().with_batch_norm(mode).init::<B>(&device);
            let mut rng = NoiseRng::seed_from_u64(0);
            let noise = model.build_noise_data(3, &mut rng, &device);
            assert_eq!(noise.dims(), [3, 13]);
            let images = model.test(noise);
            assert_eq!(images.dims(), [3, 3, 32, 32]);
            let max = images.abs().max().into_scalar();
            assert!(max <= 1.0 && max > 0.0, "{max}");
        }
    }

    #[test]
    fn batch_statistics_make_samples_depend_on_the_batch() {
        let device = Default::default();
        let mut model = DcganConfig::new(8)
            .with_base_channels(2)
            .with_depth(1)
            .init::<B>(&device);
        let mut rng = NoiseRng::seed_from_u64(5);
        let noise = model.build_noise_data(4, &mut rng, &device);
        let first = |x: Tensor<B, 4>| x.narrow(0, 0, 1).into_data().to_vec::<f32>().unwrap();

        let alone = first(model.test(noise.clone().narrow(0, 0, 1)));
        let together = first(model.test(noise.clone()));
        assert_eq!(
            alone, together,
            "running statistics: samples are independent"
        );

        model.set_batch_norm_mode(BatchNormMode::BatchStatistics);
        let alone = first(model.test(noise.clone().narrow(0, 0, 1)));
        let together = first(model.test(noise));
        assert_ne!(alone, together, "batch statistics: samples interact");
    }
}
