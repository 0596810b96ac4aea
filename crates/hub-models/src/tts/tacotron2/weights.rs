//! Tacotron2 checkpoint keys → burn module paths.
//!
//! NVIDIA's checkpoints are `{'state_dict': ..., 'config': ...}` with keys that may carry
//! DistributedDataParallel's `module.` prefix (stripped by [`ImportOptions`]'s default). Our
//! fields mirror NVIDIA's module names; only the `nn.Sequential(ConvNorm, BatchNorm1d)` pairs
//! of the encoder and postnet need renaming (their indices `0`/`1` cannot be field names).

use std::path::Path;

use burn::prelude::*;

use super::{Tacotron2, Tacotron2Config};
use crate::import::{load_pytorch, ImportError, ImportOptions, ImportReport};

/// Regex remaps from NVIDIA's keys to our module paths.
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![
        // encoder.convolutions.0.0.conv.weight → encoder.convolutions.0.conv.weight
        (
            r"^(encoder|postnet)\.convolutions\.(\d+)\.0\.conv\.",
            "$1.convolutions.$2.conv.",
        ),
        // encoder.convolutions.0.1.running_mean → encoder.convolutions.0.bn.running_mean
        (
            r"^(encoder|postnet)\.convolutions\.(\d+)\.1\.",
            "$1.convolutions.$2.bn.",
        ),
    ]
}

/// How NVIDIA's Tacotron2 checkpoints are read: tensors under `state_dict`, `module.` prefix
/// stripped, strict.
pub fn import_options() -> ImportOptions {
    ImportOptions::new()
        .with_top_level_key("state_dict")
        .with_remaps(remaps())
}

/// Builds `config`'s model and loads an NVIDIA checkpoint into it (strict: every key must match).
pub fn load<B: Backend>(
    config: &Tacotron2Config,
    path: impl AsRef<Path>,
    device: &B::Device,
) -> Result<(Tacotron2<B>, ImportReport), ImportError> {
    load_pytorch(config.init::<B>(device), path, &import_options())
}
