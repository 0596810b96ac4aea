//! The one registry of architectures: the CLI, the built-in manifests, the docs and the tests all
//! read it.
//!
//! A family declares itself in its own folder — `pub const FAMILY: FamilySpec` (variants, task,
//! reference, input size, key renames, how it is configured) and `config(id)` or a `build`
//! function — and is named once, in the `families!` list (`registry/families.rs`). The `Family`
//! enum, [`ImageClassifier`], [`Model`] and every dispatch over families are generated from that
//! list, so each `match` is exhaustive: adding a family is a folder and a row
//! (docs/adding-a-model.md).

pub mod config;
mod dispatch;
mod families;
mod model;
pub mod spec;
pub mod task;
mod text;

pub use config::{limits, ClassifierConfig};
pub use families::{architectures, find, provides, Architecture, Family, ImageClassifier, Model};
pub use model::{Generator, TextModel};
pub use spec::{ConfiguredBy, FamilySpec};
pub use task::Task;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_findable() {
        let mut seen = HashSet::new();
        for a in architectures() {
            assert!(seen.insert(a.id), "duplicate id {}", a.id);
            assert_eq!(find(a.id), Some(a));
        }
        assert!(seen.len() >= 40, "{}", seen.len());
        assert!(find("resnet51").is_none());
    }

    #[test]
    fn random_weights_are_stable_across_forward_passes() {
        use burn::tensor::{Distribution, Tensor};
        type B = burn::backend::Flex;
        let device = Default::default();
        let model = find("squeezenet1_1").unwrap().build::<B>(&ClassifierConfig::default(), &device).unwrap();
        let x = Tensor::<B, 4>::random([1, 3, 64, 64], Distribution::Normal(0.0, 1.0), &device);
        let a: Vec<f32> = model.forward(x.clone()).into_data().to_vec().unwrap();
        let b: Vec<f32> = model.forward(x).into_data().to_vec().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn text_architectures_follow_the_model_type() {
        let seq = find("bert_sequence_classification").unwrap();
        assert_eq!(seq.task, Task::TextClassification);
        assert_eq!(seq.for_model_type("e", None).unwrap(), seq);
        assert_eq!(seq.for_model_type("e", Some("bert")).unwrap(), seq);
        assert_eq!(seq.for_model_type("e", Some("gpt2")).unwrap().id, "gpt2_sequence_classification");
        assert_eq!(find("bert").unwrap().for_model_type("e", Some("gpt2")).unwrap().id, "gpt2");
        let e = find("bert_question_answering").unwrap().for_model_type("e", Some("gpt2")).unwrap_err().to_string();
        assert!(e.contains("no question-answering head for gpt2") && e.contains("text-generation"), "{e}");
        let e = seq.for_model_type("e", Some("t5")).unwrap_err().to_string();
        assert!(e.contains("\"t5\""), "{e}");
        // Every text head that may be missing from a checkpoint names a real architecture.
        for family in Family::ALL {
            let spec = family.spec();
            let ids = spec.optional_params.iter().map(|(id, _)| *id).chain(spec.variant_tasks.iter().map(|(id, _)| *id));
            for id in ids {
                assert!(spec.variants.contains(&id), "{} declares {id}, which is not one of its variants", spec.name);
            }
        }
    }

    #[test]
    fn config_tables_are_checked() {
        let t: toml::Table = toml::from_str("num_classes = 10\naux_logits = true").unwrap();
        let c = ClassifierConfig::from_table("x", &t).unwrap();
        assert_eq!((c.num_classes, c.aux_logits), (10, Some(true)));
        for bad in ["num_classes = 0", "num_classes = \"ten\"", "colour = 1", "aux_logits = 1"] {
            let t: toml::Table = toml::from_str(bad).unwrap();
            let e = ClassifierConfig::from_table("x", &t).unwrap_err().to_string();
            assert!(e.contains("x") && e.contains(bad.split(' ').next().unwrap()), "{e}");
        }
    }
}
