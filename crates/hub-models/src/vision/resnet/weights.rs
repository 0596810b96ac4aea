//! PyTorch state-dict key remaps for ResNet.
//!
//! torchvision's projection shortcut is an `nn.Sequential(conv1x1, BatchNorm2d)`; ours is the
//! named struct [`super::block::Downsample`].

/// Regex `(pattern, replacement)` remaps from torchvision's keys to the burn module paths.
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"\.downsample\.0\.", ".downsample.conv."),
        (r"\.downsample\.1\.", ".downsample.bn."),
    ]
}
