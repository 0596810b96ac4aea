//! PyTorch state-dict key remaps for SqueezeNet.
//!
//! None: `features.N.*` and `classifier.N.*` load as they are (one layer-vector entry per torch
//! `nn.Sequential` index).

/// Regex `(pattern, replacement)` remaps from torchvision's keys to the burn module paths.
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    Vec::new()
}
