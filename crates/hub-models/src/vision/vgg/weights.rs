//! PyTorch state-dict key remaps for VGG.
//!
//! None: `features.N.*` and `classifier.N.*` load as they are, because [`super::block`]'s layer
//! vectors keep one entry per torch `nn.Sequential` index.

/// Regex `(pattern, replacement)` remaps from torchvision's keys to the burn module paths.
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    Vec::new()
}
