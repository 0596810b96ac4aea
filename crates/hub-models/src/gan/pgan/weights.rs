//! Pretrained progressive GAN generators (torch.hub `PGAN(pretrained=True, model_name=...)`)
//! and the key remaps that load them.
//!
//! The GAN zoo's state dict names the layers `formatLayer.module.*`, `groupScale0.0.module.*`,
//! `scaleLayers.{scale}.{0,1}.module.*` and `toRGBLayers.{scale}.module.*`; the [`Pgan`] fields
//! have the same structure in snake case. Older checkpoints without the `module.` level
//! (`formatLayer.weight`), which the zoo's `loadStateDictCompatible` accepts, load too.

use std::path::Path;

use burn::prelude::*;

use super::{Pgan, PganConfig};
use crate::import::{load_pytorch, ImportError, ImportOptions, ImportReport};

/// Regex `(pattern, replacement)` remaps from the GAN zoo's keys to the [`Pgan`] module paths.
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"^formatLayer\.", "format_layer."),
        (r"^groupScale0\.", "group_scale0."),
        (r"^scaleLayers\.", "scale_layers."),
        (r"^toRGBLayers\.", "to_rgb_layers."),
        // `loadStateDictCompatible`: `x.weight` stands for `x.module.weight`.
        (
            r"^(format_layer|group_scale0\.\d+|scale_layers\.\d+\.\d+|to_rgb_layers\.\d+)\.(weight|bias)$",
            "$1.module.$2",
        ),
    ]
}

/// A published progressive GAN checkpoint and the architecture it needs.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct PganWeights {
    /// torch.hub's `model_name`.
    pub model_name: &'static str,
    /// Download URL.
    pub url: &'static str,
    /// The SHA-256 prefix the file name carries (torch.hub's `check_hash`).
    pub sha256: &'static str,
    /// The dictionary entry that holds the generator's state dict.
    pub top_level_key: &'static str,
    /// Channels per scale, scale 0 (4×4) first: the checkpoint's `depthScale0` followed by its
    /// `depthOtherScales`.
    pub depth_scales: &'static [usize],
    /// Width of the latent vector (`dimLatentVector`).
    pub dim_latent: usize,
    /// License of the weights.
    pub license: &'static str,
}

impl PganWeights {
    /// The architecture this checkpoint loads into (fully grown: `alpha = 0`).
    pub fn config(&self) -> PganConfig {
        PganConfig::new()
            .with_depth_scales(self.depth_scales.to_vec())
            .with_dim_latent(self.dim_latent)
    }

    /// Side of the generated images in pixels.
    pub fn resolution(&self) -> usize {
        4 << (self.depth_scales.len() - 1)
    }
}

/// The default channels per scale of the GAN zoo's progressive GAN trainer
/// (`models/trainer/standard_configurations/pgan_config.py`, `depthScales`).
#[cfg(test)]
const DEPTH_SCALES: [usize; 9] = [512, 512, 512, 512, 256, 128, 64, 32, 16];

/// torch.hub's `model_name`s, the default first.
pub const MODEL_NAMES: &[&str] = &["celebAHQ-256", "celebAHQ-512", "DTD", "celeba"];

/// The published checkpoints (URLs from the `hub` branch's `hubconf.py`).
///
/// The number of scales follows from the file names (`_s6_` is scale 6 of 0-based scales, so
/// 7 scales, 4·2⁶ = 256 pixels) and agrees with the resolutions torch.hub documents
/// (celebAHQ: 256 and 512; the DTD and celeba models generate 128×128). The channels per scale
/// are the trainer's default `depthScales`, the latent width its default 512 (torch.hub
/// documents `(N, 512)` inputs); the checkpoints' own `config` could not be read here, and the
/// zoo's `datasets.py` trains DTD class-conditioned, which would widen its latent vector. A
/// checkpoint that differs fails to load with the mismatched keys and shapes named.
pub const WEIGHTS: &[PganWeights] = &[
    PganWeights {
        model_name: "celebAHQ-256",
        url: "https://dl.fbaipublicfiles.com/gan_zoo/PGAN/celebaHQ_s6_i80000-6196db68.pth",
        sha256: "6196db68",
        top_level_key: "netG",
        depth_scales: &[512, 512, 512, 512, 256, 128, 64],
        dim_latent: 512,
        license: "BSD-3-Clause",
    },
    PganWeights {
        model_name: "celebAHQ-512",
        url:
            "https://dl.fbaipublicfiles.com/gan_zoo/PGAN/celebaHQ16_december_s7_i96000-9c72988c.pth",
        sha256: "9c72988c",
        top_level_key: "netG",
        depth_scales: &[512, 512, 512, 512, 256, 128, 64, 32],
        dim_latent: 512,
        license: "BSD-3-Clause",
    },
    PganWeights {
        model_name: "DTD",
        url: "https://dl.fbaipublicfiles.com/gan_zoo/PGAN/testDTD_s5_i96000-04efa39f.pth",
        sha256: "04efa39f",
        top_level_key: "netG",
        depth_scales: &[512, 512, 512, 512, 256, 128],
        dim_latent: 512,
        license: "BSD-3-Clause",
    },
    PganWeights {
        model_name: "celeba",
        url: "https://dl.fbaipublicfiles.com/gan_zoo/PGAN/celebaCropped_s5_i83000-2b0acc76.pth",
        sha256: "2b0acc76",
        top_level_key: "netG",
        depth_scales: &[512, 512, 512, 512, 256, 128],
        dim_latent: 512,
        license: "BSD-3-Clause",
    },
];

/// The checkpoint torch.hub loads for `model_name`.
pub fn weights(model_name: &str) -> Option<&'static PganWeights> {
    WEIGHTS.iter().find(|w| w.model_name == model_name)
}

/// Import options reading the generator under `top_level_key` (`netG`, or `avgG` for the
/// moving-average generator).
pub fn import_options(top_level_key: &str) -> ImportOptions {
    ImportOptions::new()
        .with_top_level_key(top_level_key)
        .with_remaps(remaps())
}

/// Loads the generator under `top_level_key` of a GAN zoo checkpoint into `model`, strictly.
pub fn load<B: Backend>(
    model: Pgan<B>,
    path: impl AsRef<Path>,
    top_level_key: &str,
) -> Result<(Pgan<B>, ImportReport), ImportError> {
    load_pytorch(model, path, &import_options(top_level_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_resolutions() {
        let sides: Vec<usize> = MODEL_NAMES
            .iter()
            .map(|name| weights(name).unwrap().resolution())
            .collect();
        assert_eq!(sides, [256, 512, 128, 128]);
        assert!(weights("cifar10").is_none());
        for w in WEIGHTS {
            assert!(w.url.contains(w.sha256), "{}", w.url);
            assert!(DEPTH_SCALES.starts_with(w.depth_scales), "{}", w.model_name);
        }
    }
}
