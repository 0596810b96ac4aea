//! WaveGlow checkpoint keys → burn module paths.
//!
//! NVIDIA's checkpoint is `{'state_dict': ..., 'config': ...}`; keys may carry `module.` (or
//! `module.1.`, which NVIDIA's `unwrap_distributed` also strips). The coupling networks live
//! under `WN.k`, our field is `wn`. Weight-normalised convolutions keep `weight_g`/`weight_v`
//! unless the file was saved after `remove_weightnorm`: [`load`] looks at the keys and builds
//! the matching [`WnConv1d`](super::WnConv1d)s (the weight is recomputed from `g` and `v` at
//! each forward, exactly as `weight_norm` does).

use std::path::Path;

use burn::prelude::*;

use super::{WaveGlow, WaveGlowConfig};
use crate::import::{load_pytorch, ImportError, ImportOptions, ImportReport};

/// Regex remaps from NVIDIA's keys to our module paths (after `module.` is stripped).
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![
        // `module.1.` (a DDP wrapper around a Sequential) leaves `1.` behind.
        (r"^1\.", ""),
        (r"^WN\.", "wn."),
    ]
}

/// How NVIDIA's WaveGlow checkpoints are read: tensors under `state_dict`, `module.` stripped,
/// strict.
pub fn import_options() -> ImportOptions {
    ImportOptions::new()
        .with_top_level_key("state_dict")
        .with_remaps(remaps())
}

/// Whether the checkpoint's convolutions are weight-normalised (`weight_g`/`weight_v` keys).
pub fn has_weight_norm(
    path: impl AsRef<Path>,
    options: &ImportOptions,
) -> Result<bool, ImportError> {
    let keys = crate::import::checkpoint_keys(path, options)?;
    Ok(keys.iter().any(|k| k.ends_with(".weight_g")))
}

/// Builds `config`'s model (with `weight_norm` set from the file's keys) and loads an NVIDIA
/// checkpoint into it (strict: every key must match).
pub fn load<B: Backend>(
    config: &WaveGlowConfig,
    path: impl AsRef<Path>,
    device: &B::Device,
) -> Result<(WaveGlow<B>, ImportReport), ImportError> {
    let path = path.as_ref();
    let options = import_options();
    let config = config
        .clone()
        .with_weight_norm(has_weight_norm(path, &options)?);
    load_pytorch(config.init::<B>(device), path, &options)
}
