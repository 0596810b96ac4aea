//! The built-in manifests of the seed repos, which publish only a `hubconf.py`.

use hub_core::{Hub, HubOptions};

/// `(spec, manifest)` of every built-in repo.
pub const MANIFESTS: &[(&str, &str)] = &[
    ("pytorch/vision", include_str!("../manifests/pytorch_vision.toml")),
    ("facebookresearch/pytorch_GAN_zoo:hub", include_str!("../manifests/facebookresearch_pytorch_GAN_zoo.toml")),
    ("NVIDIA/DeepLearningExamples:torchhub", include_str!("../manifests/NVIDIA_DeepLearningExamples.toml")),
    ("huggingface/pytorch-transformers", include_str!("../manifests/huggingface_pytorch-transformers.toml")),
];

/// A [`Hub`] with these options and the built-in manifests registered.
pub fn hub(options: HubOptions) -> Result<Hub, hub_core::Error> {
    let mut hub = Hub::new(options)?;
    for (spec, src) in MANIFESTS {
        hub.add_builtin(spec, src)?;
    }
    Ok(hub)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;

    #[test]
    fn builtin_manifests_parse_and_vision_weights_are_complete() {
        let dir = tempfile::tempdir().unwrap();
        let hub = hub(HubOptions::with_root(dir.path())).unwrap();
        let vision = hub.repo(&"pytorch/vision".parse().unwrap()).unwrap().manifest;
        assert!(vision.entrypoints.len() >= 48);
        // The architectures and tasks of every built-in entrypoint: tests/conformance.rs.
        for (name, entry) in &vision.entrypoints {
            let (_, w) = entry.weights(name, None).unwrap().unwrap();
            assert!(w.artifact.url.starts_with("https://download.pytorch.org/models/"), "{name}");
            assert!(matches!(w.artifact.expected_hash(), hub_core::ExpectedHash::Prefix(_)), "{name}: every torchvision file name carries a hash prefix");
            let metric = if entry.task == "semantic-segmentation" { "miou" } else { "acc@1" };
            assert!(w.license.is_some() && w.params.is_some() && w.metrics.contains_key(metric), "{name}");
            assert!(entry.preprocessing_for(Some(w)).is_some(), "{name}");
        }
    }

    #[test]
    fn transformers_entrypoints_cover_the_seed_hubconf() {
        let dir = tempfile::tempdir().unwrap();
        let hub = hub(HubOptions::with_root(dir.path())).unwrap();
        let m = hub.repo(&"huggingface/pytorch-transformers".parse().unwrap()).unwrap().manifest;
        // transformers' hubconf.py names and the 2019 ones.
        for name in [
            "tokenizer", "model", "modelForMaskedLM", "modelForCausalLM", "modelForSequenceClassification", "modelForQuestionAnswering",
            "bertTokenizer", "bertModel", "bertForMaskedLM", "bertForNextSentencePrediction", "bertForPreTraining",
            "bertForSequenceClassification", "bertForMultipleChoice", "bertForQuestionAnswering", "bertForTokenClassification",
            "gpt2Tokenizer", "gpt2Model", "gpt2LMHeadModel", "gpt2DoubleHeadsModel",
        ] {
            let (_, entry) = m.entry(name).unwrap();
            let ids = entry.model_ids.as_ref().unwrap_or_else(|| panic!("{name} takes any model id"));
            let arch = registry::find(&entry.architecture).unwrap();
            assert!(arch.family.is_text(), "{name}");
            assert_eq!(ids.weights.is_empty(), arch.family == registry::Family::Tokenizer, "{name}");
            // Any id, at any revision, resolves to Hugging Face URLs.
            let choice = entry.choose_weights(name, Some("acme/some-model@v1.0"), None).unwrap().unwrap();
            let hub_core::WeightsChoice::Model(t, r) = choice else { panic!("{name}") };
            assert_eq!(t.artifact(&r, "config.json").url, "https://huggingface.co/acme/some-model/resolve/v1.0/config.json");
        }
    }
}
