//! PyTorch state-dict key remaps for GoogLeNet.
//!
//! torchvision's `branch4` is `nn.Sequential(MaxPool2d, BasicConv2d)`, so its convolution is
//! `branch4.1`; ours keeps the pool in a separate field and the convolution in `branch4`.

/// Regex `(pattern, replacement)` remaps from torchvision's keys to the burn module paths.
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![(r"\.branch4\.1\.", ".branch4.")]
}
