//! PyTorch state-dict key remaps for ShuffleNet v2.
//!
//! `stage{2,3,4}.N` are `Vec`s in burn, so their indices carry over. The `nn.Sequential`s inside
//! (`conv1`, `conv5`, `branch1`, `branch2`) have named fields in burn; their PyTorch indices skip
//! the parameter-free ReLUs (`branch2.2`, `branch2.7`, `branch1.4`).

/// Regex `(pattern, replacement)` pairs from PyTorch keys to burn module paths.
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"^(conv1|conv5)\.0\.", "${1}.conv."),
        (r"^(conv1|conv5)\.1\.", "${1}.bn."),
        (r"\.branch1\.0\.", ".branch1.dw_conv."),
        (r"\.branch1\.1\.", ".branch1.dw_bn."),
        (r"\.branch1\.2\.", ".branch1.pw_conv."),
        (r"\.branch1\.3\.", ".branch1.pw_bn."),
        (r"\.branch2\.0\.", ".branch2.pw1_conv."),
        (r"\.branch2\.1\.", ".branch2.pw1_bn."),
        (r"\.branch2\.3\.", ".branch2.dw_conv."),
        (r"\.branch2\.4\.", ".branch2.dw_bn."),
        (r"\.branch2\.5\.", ".branch2.pw2_conv."),
        (r"\.branch2\.6\.", ".branch2.pw2_bn."),
    ]
}
