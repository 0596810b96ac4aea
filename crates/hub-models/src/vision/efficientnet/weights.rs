//! PyTorch state-dict key remaps for EfficientNet and EfficientNet-Lite.

/// torchvision's EfficientNet (B0–B7, V2): `features.N`, the stages' blocks
/// (`features.S.J`) and their `block.K` sequences are `Vec`s in burn, so indices carry over.
/// `Conv2dNormActivation` (`0` = conv, `1` = norm) has named fields in burn, and the classifier
/// (`Dropout, Linear`) is a single `Linear`.
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![
        // Stem and last convolution: `features.0.0.weight`, `features.8.1.running_var`.
        (r"^features\.(\d+)\.0\.(\w+)$", "features.${1}.conv.${2}"),
        (r"^features\.(\d+)\.1\.(\w+)$", "features.${1}.bn.${2}"),
        // Inside blocks: `features.S.J.block.K.{0,1}.*`; SE keeps `block.K.fc1.*`.
        (r"\.block\.(\d+)\.0\.(\w+)$", ".block.${1}.conv.${2}"),
        (r"\.block\.(\d+)\.1\.(\w+)$", ".block.${1}.bn.${2}"),
        (r"^classifier\.1\.", "classifier."),
    ]
}

/// EfficientNet-Lite (lukemelas-style names): the burn fields are the PyTorch names without
/// their leading underscore (`_blocks.3._bn1.weight` → `blocks.3.bn1.weight`).
pub fn lite_remaps() -> Vec<(&'static str, &'static str)> {
    vec![(r"(^|\.)_", "${1}")]
}
