//! PyTorch state-dict key remaps for MobileNet v2/v3.
//!
//! The burn modules mirror torchvision's structure: `features.N` and the blocks' `conv.N` /
//! `block.N` sequences are `Vec`s, so their indices carry over unchanged. What differs:
//! `Conv2dNormActivation` is itself an `nn.Sequential` (`0` = conv, `1` = norm) where burn has
//! named fields, and the classifiers are named instead of indexed.

/// Regex `(pattern, replacement)` pairs from PyTorch keys to burn module paths (applied in
/// order, each to the whole key). One table serves v2 and v3: no pattern matches the other's keys.
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![
        // Stem and last convolution: `features.0.0.weight`, `features.18.1.running_mean`.
        (r"^features\.(\d+)\.0\.(\w+)$", "features.${1}.conv.${2}"),
        (r"^features\.(\d+)\.1\.(\w+)$", "features.${1}.bn.${2}"),
        // v2 blocks: `features.N.conv.K.{0,1}.*` are Conv2dNormActivation; the bare projection
        // conv and its norm (`features.N.conv.K.weight`) keep their index.
        (r"\.conv\.(\d+)\.0\.(\w+)$", ".conv.${1}.conv.${2}"),
        (r"\.conv\.(\d+)\.1\.(\w+)$", ".conv.${1}.bn.${2}"),
        // v3 blocks: `features.N.block.K.{0,1}.*`; the SE layer (`block.K.fc1.*`) keeps its names.
        (r"\.block\.(\d+)\.0\.(\w+)$", ".block.${1}.conv.${2}"),
        (r"\.block\.(\d+)\.1\.(\w+)$", ".block.${1}.bn.${2}"),
        // v2 classifier: `Dropout, Linear`.
        (r"^classifier\.1\.", "classifier."),
        // v3 classifier: `Linear, Hardswish, Dropout, Linear`.
        (r"^classifier\.0\.", "classifier.hidden."),
        (r"^classifier\.3\.", "classifier.logits."),
    ]
}
