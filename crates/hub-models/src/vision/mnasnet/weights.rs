//! PyTorch state-dict key remaps for MNASNet.
//!
//! torchvision's MNASNet is one flat `layers` `nn.Sequential`: `0`/`1`, `3`/`4`, `6`/`7` the
//! stem's three convolution + BatchNorm pairs (ReLUs at `2`, `5`), `8`–`13` the six stacks of
//! `_InvertedResidual`s (each with its own `layers` sequence, pairs at `0`/`1`, `3`/`4`,
//! `6`/`7`), `14`/`15` the last 1×1 convolution and its BatchNorm; then `classifier` =
//! `Dropout, Linear`. Ours groups each pair into a `ConvNormAct` (`conv`, `bn`): `stem[0..3]`,
//! `stacks[0..6]`, the blocks' `layers[0..3]`, `head`, and names the `Linear` `classifier`.

/// Regex `(pattern, replacement)` remaps from torchvision's keys to the burn module paths
/// (applied in order, each to the whole key; no replacement matches a later pattern).
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"^layers\.0\.", "stem.0.conv."),
        (r"^layers\.1\.", "stem.0.bn."),
        (r"^layers\.3\.", "stem.1.conv."),
        (r"^layers\.4\.", "stem.1.bn."),
        (r"^layers\.6\.", "stem.2.conv."),
        (r"^layers\.7\.", "stem.2.bn."),
        (r"^layers\.8\.", "stacks.0."),
        (r"^layers\.9\.", "stacks.1."),
        (r"^layers\.10\.", "stacks.2."),
        (r"^layers\.11\.", "stacks.3."),
        (r"^layers\.12\.", "stacks.4."),
        (r"^layers\.13\.", "stacks.5."),
        (r"^layers\.14\.", "head.conv."),
        (r"^layers\.15\.", "head.bn."),
        // Inside a block: `stacks.S.J.layers.{0,1,3,4,6,7}.*`.
        (r"\.layers\.0\.", ".layers.0.conv."),
        (r"\.layers\.1\.", ".layers.0.bn."),
        (r"\.layers\.3\.", ".layers.1.conv."),
        (r"\.layers\.4\.", ".layers.1.bn."),
        (r"\.layers\.6\.", ".layers.2.conv."),
        (r"\.layers\.7\.", ".layers.2.bn."),
        (r"^classifier\.1\.", "classifier."),
    ]
}
