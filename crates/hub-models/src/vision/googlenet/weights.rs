//! PyTorch state-dict key remaps for GoogLeNet.
//!
//! torchvision's `branch4` is `nn.Sequential(MaxPool2d, BasicConv2d)`, so its convolution is
//! `branch4.1`; ours keeps the pool in a separate field and the convolution in `branch4`.

/// Regex `(pattern, replacement)` remaps from torchvision's keys to the burn module paths.
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![(r"\.branch4\.1\.", ".branch4.")]
}

/// Whether a checkpoint holds the auxiliary classifiers (`aux1.*`, under any prefix such as
/// DataParallel's `module.`): torchvision's `googlenet()` builds them by default, so a
/// checkpoint saved from it carries them, and its keys decide `aux_logits` as the module it was
/// saved from did.
pub fn has_aux_heads(path: &std::path::Path) -> Result<bool, crate::import::ImportError> {
    let keys = crate::import::checkpoint_keys(path, &crate::import::ImportOptions::new())?;
    Ok(keys.iter().any(|k| k.split('.').any(|part| part == "aux1")))
}
