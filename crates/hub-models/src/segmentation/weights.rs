//! PyTorch state-dict key remaps for the segmentation models.
//!
//! The heads mirror torchvision's `nn.Sequential` indices (see [`super::block`]) and need no
//! renaming. The backbones do, as in their own families:
//!
//! - ResNet: the projection shortcut `downsample.{0,1}` is the named struct
//!   [`crate::vision::resnet::block::Downsample`] (`downsample.conv` / `downsample.bn`).
//! - MobileNetV3: torchvision's `IntermediateLayerGetter` over `mobilenet.features` gives keys
//!   `backbone.N.*`; ours sit in a `features` field (`backbone.features.N.*`). Then, as in
//!   [`crate::vision::mobilenet::weights`], each `Conv2dNormActivation` (itself an
//!   `nn.Sequential`: `0` = conv, `1` = norm) has named fields.

/// Regex `(pattern, replacement)` remaps from torchvision's keys to the burn module paths,
/// applied in order, each to the whole key.
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![
        // ResNet backbones: `backbone.layer3.0.downsample.0.weight`.
        (r"\.downsample\.0\.", ".downsample.conv."),
        (r"\.downsample\.1\.", ".downsample.bn."),
        // MobileNetV3 backbones: `backbone.4.block.1.0.weight` → `backbone.features.4...`.
        (r"^backbone\.(\d+)\.", "backbone.features.${1}."),
        // Stem and last convolution: `backbone.features.0.0.weight`.
        (
            r"^backbone\.features\.(\d+)\.0\.(\w+)$",
            "backbone.features.${1}.conv.${2}",
        ),
        (
            r"^backbone\.features\.(\d+)\.1\.(\w+)$",
            "backbone.features.${1}.bn.${2}",
        ),
        // Inverted residual blocks: `backbone.features.4.block.K.{0,1}.*`; the SE layer
        // (`block.K.fc1.*`) keeps its names.
        (r"\.block\.(\d+)\.0\.(\w+)$", ".block.${1}.conv.${2}"),
        (r"\.block\.(\d+)\.1\.(\w+)$", ".block.${1}.bn.${2}"),
    ]
}
