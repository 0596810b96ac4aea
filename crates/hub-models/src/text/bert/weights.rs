//! `transformers` state-dict keys → burn module paths for BERT.
//!
//! Checkpoints come in several dialects, all handled here:
//! - task checkpoints (`BertForMaskedLM`, ...) prefix the encoder with `bert.`; `BertModel`
//!   checkpoints (e.g. sentence-transformers) do not. Either loads into either kind of model:
//!   the prefix is removed for [`Head::Base`] and added for every task model;
//! - TF-era conversions name LayerNorm parameters `gamma`/`beta` instead of `weight`/`bias`;
//! - the masked-LM decoder is tied to the word embeddings: `cls.predictions.decoder.weight` is
//!   a copy (present in `torch.save` files, dropped from safetensors) and is not loaded, and
//!   `cls.predictions.decoder.bias` is the same tensor as `cls.predictions.bias`;
//! - buffers (`embeddings.position_ids`, `embeddings.token_type_ids`) are not parameters.

use crate::import::ImportOptions;

/// Which model the checkpoint is loaded into: decides the `bert.` prefix and which tensors of
/// other heads may be present without being used (as `transformers` ignores them when loading,
/// e.g. a `BertForPreTraining` checkpoint into `BertForMaskedLM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Head {
    /// `BertModel`: keys without `bert.`; every head's tensors are ignored.
    Base,
    /// `BertForMaskedLM`: no pooler; the next-sentence head is ignored.
    MaskedLm,
    /// `BertForNextSentencePrediction`: the masked-LM head is ignored.
    NextSentence,
    /// `BertForPreTraining`.
    PreTraining,
    /// `BertForSequenceClassification`, `BertForMultipleChoice`, `BertForTokenClassification`:
    /// the pre-training heads are ignored (and the pooler, which the token classifier lacks).
    Classifier,
    /// `BertForQuestionAnswering`: no pooler; the pre-training heads are ignored.
    QuestionAnswering,
}

/// Renames common to every BERT model, applied in order.
const COMMON: &[(&str, &str)] = &[
    // Old (TF-converted) LayerNorm parameter names.
    (r"LayerNorm\.gamma$", "LayerNorm.weight"),
    (r"LayerNorm\.beta$", "LayerNorm.bias"),
    // Our field names: `layer_norm` (snake case) and `self_attention` (`self` is a keyword).
    (r"(^|\.)LayerNorm\.", "${1}layer_norm."),
    (r"\.attention\.self\.", ".attention.self_attention."),
    // The decoder bias is `cls.predictions.bias` under another name (tied in transformers):
    // whichever of the two a file holds, it loads into `cls.predictions.bias`.
    (r"^cls\.predictions\.decoder\.bias$", "cls.predictions.bias"),
];

/// Regex `(pattern, replacement)` remaps from `transformers` keys to the paths of a model of
/// kind `head`.
pub fn remaps(head: Head) -> Vec<(&'static str, &'static str)> {
    let mut remaps = COMMON.to_vec();
    match head {
        Head::Base => remaps.push((r"^bert\.", "")),
        _ => remaps.push((r"^(embeddings|encoder|pooler)\.", "bert.$1.")),
    }
    remaps
}

/// Regex patterns of checkpoint keys (after remapping) that a model of kind `head` may leave
/// unused.
pub fn ignored(head: Head) -> Vec<&'static str> {
    let mut ignored = vec![r"(^|\.)embeddings\.(position_ids|token_type_ids)$"];
    let tied_decoder = r"^cls\.predictions\.decoder\.weight$";
    let lm_head = r"^cls\.predictions\.";
    let nsp_head = r"^cls\.seq_relationship\.";
    let pooler = r"^bert\.pooler\.";
    match head {
        Head::Base => ignored.extend([r"^cls\.", r"^classifier\.", r"^qa_outputs\."]),
        Head::MaskedLm => ignored.extend([tied_decoder, nsp_head, pooler]),
        Head::NextSentence => ignored.push(lm_head),
        Head::PreTraining => ignored.push(tied_decoder),
        Head::Classifier => ignored.extend([r"^cls\.", pooler]),
        Head::QuestionAnswering => ignored.extend([r"^cls\.", pooler]),
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

#[cfg(test)]
mod tests {
    use super::*;
    use burn_store::KeyRemapper;

    fn remap(head: Head, key: &str) -> String {
        let mut remapper = KeyRemapper::new();
        for (from, to) in remaps(head) {
            remapper = remapper.add_pattern(from, to).unwrap();
        }
        let snapshot = burn_store::TensorSnapshot::from_data(
            burn::tensor::TensorData::new(vec![0f32], [1]),
            key.split('.').map(str::to_string).collect(),
            vec![],
            Default::default(),
        );
        remapper.remap(vec![snapshot]).0[0].full_path()
    }

    #[test]
    fn every_dialect_maps_to_the_module_paths() {
        assert_eq!(
            remap(Head::MaskedLm, "bert.embeddings.LayerNorm.gamma"),
            "bert.embeddings.layer_norm.weight"
        );
        assert_eq!(
            remap(Head::MaskedLm, "embeddings.LayerNorm.beta"),
            "bert.embeddings.layer_norm.bias"
        );
        assert_eq!(
            remap(
                Head::Base,
                "bert.encoder.layer.3.attention.self.query.weight"
            ),
            "encoder.layer.3.attention.self_attention.query.weight"
        );
        assert_eq!(
            remap(
                Head::Classifier,
                "encoder.layer.0.attention.output.LayerNorm.weight"
            ),
            "bert.encoder.layer.0.attention.output.layer_norm.weight"
        );
        assert_eq!(
            remap(
                Head::PreTraining,
                "cls.predictions.transform.LayerNorm.gamma"
            ),
            "cls.predictions.transform.layer_norm.weight"
        );
        assert_eq!(
            remap(Head::PreTraining, "cls.predictions.decoder.bias"),
            "cls.predictions.bias"
        );
        assert_eq!(remap(Head::Base, "pooler.dense.bias"), "pooler.dense.bias");
        assert_eq!(
            remap(Head::Classifier, "classifier.weight"),
            "classifier.weight"
        );
    }
}
