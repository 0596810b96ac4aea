//! PyTorch state-dict key remaps for RegNet.
//!
//! torchvision's keys: `stem.{0,1}` (a `Conv2dNormActivation`), `trunk_output.blockS.blockS-J`
//! (stage `S` counted from 1, block `J` from 0; each a `ResBottleneckBlock` with `proj` and
//! `f.{a,b,se,c}`), `fc`. Ours: `stem`, `trunk_output[S - 1][J]`, the same block field names,
//! and `conv`/`bn` for the two halves of every `Conv2dNormActivation`.

/// Regex `(pattern, replacement)` remaps from torchvision's keys to the burn module paths
/// (applied in order, each to the whole key). Every torchvision RegNet has four stages; the
/// table names eight, for designs of our own with more.
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"^stem\.0\.", "stem.conv."),
        (r"^stem\.1\.", "stem.bn."),
        // `trunk_output.block2.block2-5.` → `trunk_output.1.5.` (a regex cannot subtract one).
        (r"^trunk_output\.block1\.block1-(\d+)\.", "trunk_output.0.${1}."),
        (r"^trunk_output\.block2\.block2-(\d+)\.", "trunk_output.1.${1}."),
        (r"^trunk_output\.block3\.block3-(\d+)\.", "trunk_output.2.${1}."),
        (r"^trunk_output\.block4\.block4-(\d+)\.", "trunk_output.3.${1}."),
        (r"^trunk_output\.block5\.block5-(\d+)\.", "trunk_output.4.${1}."),
        (r"^trunk_output\.block6\.block6-(\d+)\.", "trunk_output.5.${1}."),
        (r"^trunk_output\.block7\.block7-(\d+)\.", "trunk_output.6.${1}."),
        (r"^trunk_output\.block8\.block8-(\d+)\.", "trunk_output.7.${1}."),
        // `proj.0.weight`, `f.b.1.running_var`; the SE layer keeps `f.se.fc1.*`.
        (r"\.(proj|a|b|c)\.0\.(\w+)$", ".${1}.conv.${2}"),
        (r"\.(proj|a|b|c)\.1\.(\w+)$", ".${1}.bn.${2}"),
    ]
}
