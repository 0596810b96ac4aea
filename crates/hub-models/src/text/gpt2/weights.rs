//! `transformers` state-dict keys → burn module paths for GPT-2.
//!
//! Our fields mirror the `transformers` names, so only the `transformer.` prefix needs work:
//! the original `gpt2` checkpoints on the Hugging Face hub were saved from `GPT2Model` (keys
//! `h.0.attn.c_attn.weight`, `wte.weight`), the task models' own saves carry
//! `transformer.h.0...`. Either loads into either kind of model.
//!
//! Layout: `Conv1D` weights are stored `[in, out]` and load unchanged into our
//! [`super::block::Conv1D`] (burn-store's PyTorch adapter transposes only `Linear` weights); the
//! multiple-choice head's `summary` and the sequence classifier's `score` are `nn.Linear`s and
//! are transposed as usual.
//!
//! Skipped tensors: the causal-mask buffers `attn.bias` / `attn.masked_bias` of older
//! checkpoints, and `lm_head.weight`, a copy of `wte.weight` (the head is tied).

use crate::import::ImportOptions;

/// Which model the checkpoint is loaded into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Head {
    /// `GPT2Model`: keys without `transformer.`; the heads' tensors are ignored.
    Base,
    /// `GPT2LMHeadModel`.
    LmHead,
    /// `GPT2DoubleHeadsModel`.
    DoubleHeads,
    /// `GPT2ForSequenceClassification` (`score.weight`, an `nn.Linear` without bias).
    SequenceClassification,
}

/// Regex `(pattern, replacement)` remaps from `transformers` keys to the paths of a model of
/// kind `head`.
pub fn remaps(head: Head) -> Vec<(&'static str, &'static str)> {
    match head {
        Head::Base => vec![(r"^transformer\.", "")],
        Head::LmHead | Head::DoubleHeads | Head::SequenceClassification => {
            vec![(r"^(wte|wpe|h|ln_f)\.", "transformer.$1.")]
        }
    }
}

/// Regex patterns of checkpoint keys (after remapping) that a model of kind `head` may leave
/// unused.
pub fn ignored(head: Head) -> Vec<&'static str> {
    let mut ignored = vec![r"(^|\.)attn\.(bias|masked_bias)$", r"^lm_head\.weight$"];
    if head == Head::Base {
        ignored.extend([r"^multiple_choice_head\.", r"^score\."]);
    }
    ignored
}

/// Strict import options for a model of kind `head`.
pub fn import_options(head: Head) -> ImportOptions {
    let mut options = ImportOptions::new().with_remaps(remaps(head));
    for pattern in ignored(head) {
        options = options.with_ignored(pattern);
    }
    options
}
