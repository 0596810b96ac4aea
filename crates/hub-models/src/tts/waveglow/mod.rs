//! WaveGlow ("WaveGlow: A Flow-based Generative Network for Speech Synthesis", Prenger et al.,
//! 2018, <https://arxiv.org/abs/1811.00002>), as NVIDIA ships it for torch.hub
//! (NVIDIA/DeepLearningExamples, branch `torchhub`, `PyTorch/SpeechSynthesis/Tacotron2/
//! waveglow/model.py`, entry point `nvidia_waveglow`).
//!
//! Inference runs the flow backwards: the mel spectrogram is upsampled to the audio rate
//! (`ConvTranspose1d`, kernel 1024, stride 256) and folded into groups of `n_group` samples;
//! Gaussian noise (scaled by `sigma`) goes through the `n_flows` steps in reverse — affine
//! coupling undone (`(x₁ − b) / exp(log s)`, with `b` and `log s` from a WN network conditioned
//! on the mel), then the inverse of the 1×1 mixing convolution — and every `n_early_every` flows
//! `n_early_size` fresh noise channels are prepended.

pub mod block;
pub mod weights;

use burn::nn::conv::{ConvTranspose1d, ConvTranspose1dConfig};
use burn::prelude::*;

pub use block::{Invertible1x1Conv, Wn, WnConfig, WnConv1d};
pub use weights::{has_weight_norm, import_options, load, remaps};

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &["nvidia_waveglow"];

/// Audio samples per mel frame (the upsampling stride; NVIDIA's STFT hop length).
pub const HOP_LENGTH: usize = 256;
/// Kernel of the upsampling transposed convolution.
pub const UPSAMPLE_KERNEL: usize = 1024;

/// WaveGlow hyper-parameters with NVIDIA's names; the defaults are the published model's
/// (`nvidia_waveglow`: 80 mels, 12 flows, group 8, early every 4 flows 2 channels, WN 8 layers,
/// kernel 3, 512 channels).
#[derive(Config, Debug)]
pub struct WaveGlowConfig {
    /// Mel channels.
    #[config(default = 80)]
    pub n_mel_channels: usize,
    /// Flow steps.
    #[config(default = 12)]
    pub n_flows: usize,
    /// Audio samples per group (even).
    #[config(default = 8)]
    pub n_group: usize,
    /// Channels are output early every this many flows.
    #[config(default = 4)]
    pub n_early_every: usize,
    /// Channels output early each time.
    #[config(default = 2)]
    pub n_early_size: usize,
    /// The coupling networks.
    #[config(default = "WnConfig::new()")]
    pub wn_config: WnConfig,
    /// Whether the WN convolutions hold `weight_g`/`weight_v` (checkpoint saved with weight
    /// norm, like NVIDIA's) or a plain `weight` (after `remove_weightnorm`).
    #[config(default = true)]
    pub weight_norm: bool,
}

/// The variant table lookup.
pub fn config(id: &str) -> Option<WaveGlowConfig> {
    (id == "nvidia_waveglow").then(WaveGlowConfig::new)
}

impl WaveGlowConfig {
    /// Builds a randomly initialised model (load weights with [`load`]).
    pub fn init<B: Backend>(&self, device: &B::Device) -> WaveGlow<B> {
        let mut n_half = self.n_group / 2;
        let mut remaining = self.n_group;
        let mut wn = Vec::with_capacity(self.n_flows);
        let mut convinv = Vec::with_capacity(self.n_flows);
        for k in 0..self.n_flows {
            if k > 0 && k % self.n_early_every == 0 {
                n_half -= self.n_early_size / 2;
                remaining -= self.n_early_size;
            }
            convinv.push(Invertible1x1Conv::new(remaining, device));
            wn.push(self.wn_config.init(
                n_half,
                self.n_mel_channels * self.n_group,
                self.weight_norm,
                device,
            ));
        }
        WaveGlow {
            upsample: ConvTranspose1dConfig::new(
                [self.n_mel_channels, self.n_mel_channels],
                UPSAMPLE_KERNEL,
            )
            .with_stride(HOP_LENGTH)
            .init(device),
            wn,
            convinv,
            n_group: self.n_group,
            n_early_every: self.n_early_every,
            n_early_size: self.n_early_size,
            n_remaining_channels: remaining,
        }
    }
}

/// A source of standard-normal noise for WaveGlow's latent variables.
///
/// [`crate::gan::NoiseRng`] gives a seeded, portable stream (not `torch.randn`'s numbers).
pub trait GaussianNoise<B: Backend> {
    /// A `shape` tensor of N(0, 1) samples.
    fn sample(&mut self, shape: [usize; 3], device: &B::Device) -> Tensor<B, 3>;
}

impl<B: Backend> GaussianNoise<B> for crate::gan::NoiseRng {
    fn sample(&mut self, shape: [usize; 3], device: &B::Device) -> Tensor<B, 3> {
        let n = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|_| self.standard_normal()).collect();
        Tensor::from_data(TensorData::new(values, shape), device)
    }
}

/// WaveGlow: mel spectrogram to waveform.
#[derive(Module, Debug)]
pub struct WaveGlow<B: Backend> {
    /// Mel upsampling to the audio rate.
    pub upsample: ConvTranspose1d<B>,
    /// One coupling network per flow (`WN.k.*` in PyTorch).
    pub wn: Vec<Wn<B>>,
    /// One invertible 1×1 convolution per flow.
    pub convinv: Vec<Invertible1x1Conv<B>>,
    n_group: usize,
    n_early_every: usize,
    n_early_size: usize,
    n_remaining_channels: usize,
}

impl<B: Backend> WaveGlow<B> {
    /// Upsamples the mel spectrogram and folds it into groups (the flows' conditioning).
    ///
    /// # Shapes
    /// - `mel`: `[batch, n_mel, frames]` → `[batch, n_mel · n_group, frames · 256 / n_group]`
    pub fn conditioning(&self, mel: Tensor<B, 3>) -> Tensor<B, 3> {
        let spect = self.upsample.forward(mel);
        let [batch, channels, length] = spect.dims();
        // Trim the transposed convolution's tail (NVIDIA: kernel − stride samples).
        let length = length - (UPSAMPLE_KERNEL - HOP_LENGTH);
        let groups = length / self.n_group;
        spect
            .narrow(2, 0, groups * self.n_group)
            .reshape([batch, channels, groups, self.n_group])
            .swap_dims(1, 2)
            .reshape([batch, groups, channels * self.n_group])
            .swap_dims(1, 2)
    }

    /// Generates audio (NVIDIA's `infer(spect, sigma)`), drawing the latent noise from `noise`
    /// in PyTorch's order: first `[batch, n_remaining_channels, groups]`, then one
    /// `[batch, n_early_size, groups]` block per early output, last flow first.
    ///
    /// # Shapes
    /// - `mel`: `[batch, n_mel, frames]` → `[batch, frames · 256]` samples, nominally in
    ///   `[-1, 1]`
    pub fn infer(
        &self,
        mel: Tensor<B, 3>,
        sigma: f32,
        noise: &mut dyn GaussianNoise<B>,
    ) -> Tensor<B, 2> {
        let spect = self.conditioning(mel);
        let [batch, _, groups] = spect.dims();
        let device = spect.device();
        let mut audio = noise.sample([batch, self.n_remaining_channels, groups], &device) * sigma;
        for k in (0..self.wn.len()).rev() {
            let n_half = audio.dims()[1] / 2;
            let a0 = audio.clone().narrow(1, 0, n_half);
            let a1 = audio.narrow(1, n_half, n_half);
            let output = self.wn[k].forward(a0.clone(), spect.clone());
            let log_s = output.clone().narrow(1, n_half, n_half);
            let b = output.narrow(1, 0, n_half);
            let a1 = (a1 - b) / log_s.exp();
            audio = self.convinv[k].reverse(Tensor::cat(vec![a0, a1], 1));
            if k > 0 && k % self.n_early_every == 0 {
                let z = noise.sample([batch, self.n_early_size, groups], &device) * sigma;
                audio = Tensor::cat(vec![z, audio], 1);
            }
        }
        audio
            .swap_dims(1, 2)
            .reshape([batch, groups * self.n_group])
    }
}

/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec = crate::registry::spec::FamilySpec::of_task(
    "WaveGlow",
    crate::registry::task::Task::SpectrogramToAudio,
    VARIANTS,
    "Prenger et al. 2018, https://arxiv.org/abs/1811.00002; NVIDIA/DeepLearningExamples PyTorch/SpeechSynthesis/Tacotron2/waveglow",
)
.with_remaps(weights::remaps);

/// Builds the vocoder `id` with random weights; the manifest config must be empty. With the
/// checkpoint it will load, the checkpoint decides whether the WN convolutions carry weight
/// norm (read from its keys, before anything is built).
pub fn build<B: Backend>(id: &str, entry: &str, config: &toml::Table, checkpoint: Option<&std::path::Path>, device: &B::Device) -> crate::Result<WaveGlow<B>> {
    crate::registry::config::reject_keys(entry, config, &[])?;
    let mut c = self::config(id).ok_or_else(|| crate::error::Error::UnknownArchitecture { architecture: id.to_owned() })?;
    if let Some(path) = checkpoint {
        c = c.with_weight_norm(weights::has_weight_norm(path, &weights::import_options())?);
    }
    Ok(c.init(device))
}
