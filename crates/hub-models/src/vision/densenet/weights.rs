//! PyTorch state-dict key remaps for DenseNet.

/// Regex `(pattern, replacement)` remaps from torchvision's keys to the burn module paths, in
/// order:
///
/// 1. Legacy names. The checkpoints torchvision publishes predate PyTorch's ban on dots in module
///    names and say `denselayer1.norm.1.weight` where the module now says
///    `denselayer1.norm1.weight` (torchvision's `_load_state_dict` rewrites them the same way).
/// 2. `denselayerN` → `denselayer.N`: the dense layers are a vector in burn
///    ([`super::block::DenseBlock::denselayer`], indexed from 1 like torch's names).
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            r"(denselayer\d+\.(?:norm|relu|conv))\.([12])\.(weight|bias|running_mean|running_var|num_batches_tracked)$",
            "$1$2.$3",
        ),
        (r"\.denselayer(\d+)\.", ".denselayer.$1."),
    ]
}
