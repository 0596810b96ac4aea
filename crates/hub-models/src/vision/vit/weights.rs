//! PyTorch state-dict key remaps for ViT.
//!
//! torchvision's names are kept (`conv_proj`, `class_token`, `encoder.pos_embedding`,
//! `encoder.ln`, `heads.head`, and in a block `ln_1`, `self_attention.in_proj_weight`,
//! `self_attention.out_proj`, `ln_2`) except two: the blocks of `encoder.layers` are named
//! `encoder_layer_N` (an `OrderedDict`), ours are a `Vec` indexed `N`, and the MLP's `Sequential`
//! indices `mlp.0`/`mlp.3` are our [`super::block::Mlp`]'s `fc1`/`fc2` (Swin shares the MLP and
//! `mlp_remaps`).

/// The MLP's renames: `mlp.0` → `mlp.fc1`, `mlp.3` → `mlp.fc2`.
pub(crate) fn mlp_remaps() -> [(&'static str, &'static str); 2] {
    [(r"\.mlp\.0\.", ".mlp.fc1."), (r"\.mlp\.3\.", ".mlp.fc2.")]
}

/// Regex `(pattern, replacement)` remaps from torchvision's keys to the burn module paths.
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    let mut remaps = vec![(r"^encoder\.layers\.encoder_layer_(\d+)\.", "encoder.layers.$1.")];
    remaps.extend(mlp_remaps());
    remaps
}
