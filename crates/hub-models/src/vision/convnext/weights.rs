//! PyTorch state-dict key remaps for ConvNeXt.
//!
//! torchvision's ConvNeXt is one `features` `nn.Sequential`: `0` the stem (itself a
//! `Conv2dNormActivation`: `0` conv, `1` LayerNorm2d), `1`, `3`, `5`, `7` the four stages (each a
//! `Sequential` of `CNBlock`s, whose own `block` is a `Sequential` with parameters at `0`, `2`,
//! `3`, `5`) and `2`, `4`, `6` the downsampling layers (`0` LayerNorm2d, `1` conv); then
//! `classifier` = `LayerNorm2d, Flatten, Linear`. Ours names all of these: [`super::ConvNext`]'s
//! `stem`, `stages[i].downsample` (the layer that enters stage `i`, `i ≥ 1`), `stages[i].blocks`
//! and `classifier`.

/// Regex `(pattern, replacement)` remaps from torchvision's keys to the burn module paths
/// (applied in order, each to the whole key; `layer_scale` keeps its name).
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![
        // Stem: `features.0.0.weight`, `features.0.1.bias`.
        (r"^features\.0\.0\.", "stem.conv."),
        (r"^features\.0\.1\.", "stem.norm."),
        // Blocks: `features.{1,3,5,7}.K.*` → `stages.{0,1,2,3}.blocks.K.*`.
        (r"^features\.1\.", "stages.0.blocks."),
        (r"^features\.3\.", "stages.1.blocks."),
        (r"^features\.5\.", "stages.2.blocks."),
        (r"^features\.7\.", "stages.3.blocks."),
        // Downsampling: `features.{2,4,6}.{0,1}.*` → `stages.{1,2,3}.downsample.{norm,conv}.*`.
        (r"^features\.2\.0\.", "stages.1.downsample.norm."),
        (r"^features\.2\.1\.", "stages.1.downsample.conv."),
        (r"^features\.4\.0\.", "stages.2.downsample.norm."),
        (r"^features\.4\.1\.", "stages.2.downsample.conv."),
        (r"^features\.6\.0\.", "stages.3.downsample.norm."),
        (r"^features\.6\.1\.", "stages.3.downsample.conv."),
        // Inside a block: `stages.S.blocks.K.block.{0,2,3,5}.*`.
        (r"\.block\.0\.", ".dwconv."),
        (r"\.block\.2\.", ".norm."),
        (r"\.block\.3\.", ".pwconv1."),
        (r"\.block\.5\.", ".pwconv2."),
        // Head: `classifier.0` (LayerNorm2d), `classifier.2` (Linear).
        (r"^classifier\.0\.", "classifier.norm."),
        (r"^classifier\.2\.", "classifier.fc."),
    ]
}
