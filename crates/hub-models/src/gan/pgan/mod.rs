//! Progressive GAN generator ("Progressive Growing of GANs for Improved Quality, Stability, and
//! Variation", Karras et al., 2017, <https://arxiv.org/abs/1710.10196>); a port of the GAN zoo's
//! `GNet` (facebookresearch/pytorch_GAN_zoo, branch `hub`,
//! `models/networks/progressive_conv_net.py`, `custom_layers.py`, `models/progressive_gan.py`).
//!
//! The latent vector is pixel-normalised, mapped by an equalized linear layer to a 4×4 map
//! (scale 0), refined by a 3×3 convolution, then every further scale doubles the resolution
//! (nearest neighbour) and applies two 3×3 convolutions; a 1×1 `toRGB` convolution of the last
//! scale gives the image. Every convolution is followed by a leaky ReLU and pixel
//! normalisation; all layers use the equalized learning rate (He's constant applied at run
//! time). While a new scale fades in (`alpha > 0`) the output blends in the up-sampled
//! `toRGB` image of the previous scale: `alpha · previous + (1 - alpha) · new`.

pub mod block;
pub mod weights;

use burn::prelude::*;
use burn::tensor::activation::leaky_relu;

pub use block::{pixel_norm, upscale2d, EqualizedConv2d, EqualizedLinear};
pub use weights::{PganWeights, MODEL_NAMES};

use super::noise::{build_noise_data, NoiseRng};
use super::OutputActivation;

/// The entry ids this family builds: one architecture, whose size each pretrained checkpoint
/// fixes (see [`weights::WEIGHTS`] and [`config_for_model_name`]).
pub const VARIANTS: &[&str] = &["pgan"];

/// The configuration of a variant, or `None` for an unknown id: `pgan` is the architecture of
/// torch.hub's default checkpoint, `celebAHQ-256`.
pub fn config(id: &str) -> Option<PganConfig> {
    (id == "pgan")
        .then(|| weights::weights(MODEL_NAMES[0]))
        .flatten()
        .map(PganWeights::config)
}

/// The architecture of torch.hub's `PGAN(model_name=...)` checkpoint (`celebAHQ-256`,
/// `celebAHQ-512`, `DTD`, `celeba`), or `None` for an unknown name.
pub fn config_for_model_name(model_name: &str) -> Option<PganConfig> {
    weights::weights(model_name).map(PganWeights::config)
}

/// Errors of [`Pgan::set_alpha`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PganError {
    /// `alpha` must lie in `[0, 1]`.
    #[error("alpha must be in [0, 1], got {alpha}")]
    AlphaOutOfRange {
        /// The value given.
        alpha: f64,
    },
    /// Blending needs a previous scale to blend with.
    #[error("alpha = {alpha} > 0 needs at least two scales; this generator has only scale 0")]
    NothingToBlend {
        /// The value given.
        alpha: f64,
    },
}

/// Hyper-parameters of a [`Pgan`] generator, named after the GAN zoo's configuration.
#[derive(Config, Debug)]
pub struct PganConfig {
    /// Channels of each scale, scale 0 (4×4) first: the GAN zoo's `depthScale0` followed by
    /// its `depthOtherScales` (the trainer's `depthScales`, cut at the trained scale). The
    /// output is `4 · 2^(len - 1)` pixels a side.
    #[config(default = "vec![512]")]
    pub depth_scales: Vec<usize>,
    /// Number of N(0, 1) values of the latent vector (`dimLatentVector`).
    #[config(default = 512)]
    pub dim_latent: usize,
    /// AC-GAN conditioning: the number of classes of each attribute, coded one-hot after the
    /// noise (`attribKeysOrder`); empty for an unconditional model.
    #[config(default = "Vec::new()")]
    pub categories: Vec<usize>,
    /// Negative slope of the leaky ReLUs (`leakyness`).
    #[config(default = 0.2)]
    pub leakyness: f64,
    /// Pixel normalisation of the latent vector and after every convolution
    /// (`perChannelNormalization`).
    #[config(default = true)]
    pub normalization: bool,
    /// Activation of the output (`generationActivation`, from the loss: none for `WGANGP`).
    #[config(default = "OutputActivation::Identity")]
    pub generation_activation: OutputActivation,
    /// Image channels (`dimOutput`).
    #[config(default = 3)]
    pub dim_output: usize,
    /// Equalized learning rate: weights stored N(0, 1)-scaled, He's constant applied at run
    /// time (`equalizedlR`).
    #[config(default = true)]
    pub equalized_lr: bool,
    /// Initialise biases to zero (`initBiasToZero`; only affects untrained models).
    #[config(default = true)]
    pub init_bias_to_zero: bool,
    /// Blending factor of the newest scale (`alpha`): 0 for a fully grown model. Must be in
    /// `[0, 1]`, and 0 when there is a single scale.
    #[config(default = 0.0)]
    pub alpha: f64,
}

impl PganConfig {
    /// Width of the generator's input: `dim_latent` plus the one-hot class codes.
    pub fn latent_dim(&self) -> usize {
        self.dim_latent + self.categories.iter().sum::<usize>()
    }

    /// Side of the generated images in pixels.
    pub fn resolution(&self) -> usize {
        4 << self.depth_scales.len().saturating_sub(1)
    }

    /// Checks `alpha` against the number of scales (what [`Self::init`] requires).
    pub fn validate(&self) -> Result<(), PganError> {
        check_alpha(self.alpha, self.depth_scales.len())
    }

    /// Builds the generator (equalized weights N(0, 1), lazily initialised).
    ///
    /// # Panics
    /// If `depth_scales` is empty or [`Self::validate`] fails.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Pgan<B> {
        assert!(
            !self.depth_scales.is_empty(),
            "PganConfig::depth_scales is empty"
        );
        if let Err(err) = self.validate() {
            panic!("invalid PganConfig: {err}");
        }
        let (eq, zero) = (self.equalized_lr, self.init_bias_to_zero);
        let depth0 = self.depth_scales[0];
        let to_rgb = |channels: usize| {
            EqualizedConv2d::new([channels, self.dim_output], 1, eq, zero, device)
        };
        let mut scale_layers = Vec::new();
        let mut to_rgb_layers = vec![to_rgb(depth0)];
        for pair in self.depth_scales.windows(2) {
            let [last, new] = [pair[0], pair[1]];
            scale_layers.push(vec![
                EqualizedConv2d::new([last, new], 3, eq, zero, device),
                EqualizedConv2d::new([new, new], 3, eq, zero, device),
            ]);
            to_rgb_layers.push(to_rgb(new));
        }
        Pgan {
            format_layer: EqualizedLinear::new([self.latent_dim(), 16 * depth0], eq, zero, device),
            group_scale0: vec![EqualizedConv2d::new([depth0, depth0], 3, eq, zero, device)],
            scale_layers,
            to_rgb_layers,
            leakyness: self.leakyness,
            normalization: self.normalization,
            generation_activation: self.generation_activation,
            alpha: self.alpha,
            dim_latent: self.dim_latent,
            categories: self.categories.clone(),
        }
    }
}

fn check_alpha(alpha: f64, scales: usize) -> Result<(), PganError> {
    if !(0.0..=1.0).contains(&alpha) {
        return Err(PganError::AlphaOutOfRange { alpha });
    }
    if alpha > 0.0 && scales < 2 {
        return Err(PganError::NothingToBlend { alpha });
    }
    Ok(())
}

/// The progressive GAN generator. Field names follow the GAN zoo's state-dict keys in snake
/// case (see [`weights`]).
#[derive(Module, Debug)]
pub struct Pgan<B: Backend> {
    /// Latent vector → 4×4 map (`formatLayer`).
    pub format_layer: EqualizedLinear<B>,
    /// The 3×3 convolution of scale 0 (`groupScale0`).
    pub group_scale0: Vec<EqualizedConv2d<B>>,
    /// Two 3×3 convolutions per further scale (`scaleLayers`).
    pub scale_layers: Vec<Vec<EqualizedConv2d<B>>>,
    /// One 1×1 convolution to RGB per scale (`toRGBLayers`).
    pub to_rgb_layers: Vec<EqualizedConv2d<B>>,
    leakyness: f64,
    normalization: bool,
    generation_activation: OutputActivation,
    alpha: f64,
    dim_latent: usize,
    categories: Vec<usize>,
}

impl<B: Backend> Pgan<B> {
    /// Generates images from latent vectors.
    ///
    /// # Shapes
    /// - input: `[batch, latent_dim]`
    /// - output: `[batch, dim_output, resolution, resolution]`
    pub fn forward(&self, latent: Tensor<B, 2>) -> Tensor<B, 4> {
        let leaky = |x| leaky_relu(x, self.leakyness);
        let norm = |x: Tensor<B, 4>| if self.normalization { pixel_norm(x) } else { x };
        let blending = self.alpha > 0.0;
        let scales = self.scale_layers.len();

        let latent = if self.normalization {
            pixel_norm(latent)
        } else {
            latent
        };
        let x: Tensor<B, 2> = leaky_relu(self.format_layer.forward(latent), self.leakyness);
        let [batch, width] = x.dims();
        let mut x = norm(x.reshape([batch, width / 16, 4, 4]));
        for conv in &self.group_scale0 {
            x = norm(leaky(conv.forward(x)));
        }

        // The up-sampled output of the previous scale's toRGB, for blending.
        let previous_rgb = |x: Tensor<B, 4>| upscale2d(self.to_rgb_layers[scales - 1].forward(x));
        let mut blend = None;
        if blending && scales == 1 {
            blend = Some(previous_rgb(x.clone()));
        }
        for (scale, group) in self.scale_layers.iter().enumerate() {
            x = upscale2d(x);
            for conv in group {
                x = norm(leaky(conv.forward(x)));
            }
            if blending && scales >= 2 && scale == scales - 2 {
                blend = Some(previous_rgb(x.clone()));
            }
        }

        let mut x = self.to_rgb_layers[scales].forward(x);
        if let Some(y) = blend {
            x = y.mul_scalar(self.alpha) + x.mul_scalar(1.0 - self.alpha);
        }
        self.generation_activation.forward(x)
    }

    /// The GAN zoo's `test(noise)`: [`Self::forward`].
    ///
    /// # Shapes
    /// - input: `[batch, latent_dim]`
    /// - output: `[batch, dim_output, resolution, resolution]`
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
        build_noise_data(n, self.dim_latent, &self.categories, rng, device)
    }

    /// Width of the latent vectors the generator takes.
    pub fn latent_dim(&self) -> usize {
        self.dim_latent + self.categories.iter().sum::<usize>()
    }

    /// Side of the generated images in pixels.
    pub fn resolution(&self) -> usize {
        4 << self.scale_layers.len()
    }

    /// The current blending factor.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The GAN zoo's `setNewAlpha`: blend the newest scale with the previous one's up-sampled
    /// output (`alpha` in `[0, 1]`; 0 means only the newest scale).
    pub fn set_alpha(&mut self, alpha: f64) -> Result<(), PganError> {
        check_alpha(alpha, self.to_rgb_layers.len())?;
        self.alpha = alpha;
        Ok(())
    }
}


/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec = crate::registry::spec::FamilySpec::of_task(
    "Progressive GAN",
    crate::registry::task::Task::ImageGeneration,
    VARIANTS,
    "Karras et al. 2017, https://arxiv.org/abs/1710.10196; pytorch_GAN_zoo models/networks/progressive_conv_net.py",
);

/// Builds the generator `id` with random weights; the manifest config may name the GAN zoo's
/// `model_name` (which fixes the output size).
pub fn build<B: Backend>(id: &str, entry: &str, config: &toml::Table, _checkpoint: Option<&std::path::Path>, device: &B::Device) -> crate::Result<Pgan<B>> {
    crate::registry::config::reject_keys(entry, config, &["model_name"])?;
    let c = match config.get("model_name") {
        None => self::config(id).ok_or_else(|| crate::error::Error::UnknownArchitecture { architecture: id.to_owned() })?,
        Some(v) => config_for_model_name(v.as_str().unwrap_or_default()).ok_or_else(|| crate::error::Error::Config {
            entry: entry.to_owned(),
            key: "model_name".into(),
            message: format!("{v} is not one of {MODEL_NAMES:?}"),
        })?,
    };
    Ok(c.init(device))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{parameter_count, state_dict_shapes};
    use burn::backend::Flex;

    type B = Flex;

    fn small() -> PganConfig {
        PganConfig::new()
            .with_depth_scales(vec![8, 8, 4])
            .with_dim_latent(6)
    }

    #[test]
    fn forward_shapes_for_every_scale_and_alpha() {
        let device = Default::default();
        for scales in 1..=3 {
            for alpha in [0.0, 0.5] {
                if scales == 1 && alpha > 0.0 {
                    continue;
                }
                let cfg = small()
                    .with_depth_scales(vec![8, 8, 4][..scales].to_vec())
                    .with_alpha(alpha);
                let model = cfg.init::<B>(&device);
                let mut rng = NoiseRng::seed_from_u64(1);
                let noise = model.build_noise_data(2, &mut rng, &device);
                let side = 4 << (scales - 1);
                assert_eq!(model.resolution(), side);
                assert_eq!(model.test(noise).dims(), [2, 3, side, side]);
            }
        }
    }

    #[test]
    fn alpha_is_validated() {
        let device = Default::default();
        let mut one_scale = PganConfig::new()
            .with_depth_scales(vec![4])
            .with_dim_latent(2)
            .init::<B>(&device);
        assert_eq!(
            one_scale.set_alpha(0.5),
            Err(PganError::NothingToBlend { alpha: 0.5 })
        );
        let mut model = small().init::<B>(&device);
        assert!(matches!(
            model.set_alpha(1.5),
            Err(PganError::AlphaOutOfRange { .. })
        ));
        model.set_alpha(1.0).unwrap();
        assert_eq!(model.alpha(), 1.0);
        assert!(small().with_alpha(-0.1).validate().is_err());
        assert!(one_scale.set_alpha(0.0).is_ok());
    }

    #[test]
    fn alpha_one_gives_the_upsampled_previous_scale() {
        let device = Default::default();
        let mut model = small().init::<B>(&device);
        let mut rng = NoiseRng::seed_from_u64(2);
        let noise = model.build_noise_data(1, &mut rng, &device);
        model.set_alpha(1.0).unwrap();
        let blended = model.test(noise.clone());
        // With alpha = 1 the image is the 8×8 scale's RGB, up-sampled: constant 2×2 blocks.
        let v = blended.into_data().to_vec::<f32>().unwrap();
        for c in 0..3 {
            for y in (0..16).step_by(2) {
                for x in (0..16).step_by(2) {
                    let at = |dy: usize, dx: usize| v[c * 256 + (y + dy) * 16 + x + dx];
                    assert_eq!([at(0, 0), at(0, 1), at(1, 0)], [at(1, 1); 3]);
                }
            }
        }
    }

    #[test]
    fn default_architecture_matches_celebahq_256() {
        let device = Default::default();
        let model = config("pgan").unwrap().init::<B>(&device);
        assert_eq!(model.resolution(), 256);
        assert_eq!(model.latent_dim(), 512);
        let shapes = state_dict_shapes(&model);
        let get = |key: &str| {
            shapes
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, s)| s.clone())
        };
        assert_eq!(get("format_layer.module.weight"), Some(vec![8192, 512]));
        assert_eq!(
            get("scale_layers.3.0.module.weight"),
            Some(vec![256, 512, 3, 3])
        );
        assert_eq!(
            get("to_rgb_layers.6.module.weight"),
            Some(vec![3, 64, 1, 1])
        );
        // 1 linear + 1 + 2·6 convolutions + 7 toRGB, each with a bias.
        assert_eq!(shapes.len(), 2 * (1 + 13 + 7));
        assert!(parameter_count(&model) > 20_000_000);
        assert_eq!(
            config_for_model_name("celebAHQ-512").unwrap().resolution(),
            512
        );
    }
}
