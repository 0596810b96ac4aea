//! PyTorch state-dict key remaps for Inception v3.
//!
//! torchvision names the top-level modules in CamelCase after the original TensorFlow graph
//! (`Conv2d_1a_3x3`, `Mixed_5b`, `AuxLogits`); the Rust fields are snake_case.

/// Regex `(pattern, replacement)` remaps from torchvision's keys to the burn module paths.
pub fn remaps() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"^Conv2d_", "conv2d_"),
        (r"^Mixed_", "mixed_"),
        (r"^AuxLogits\.", "aux_logits."),
    ]
}
