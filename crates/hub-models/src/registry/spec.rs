//! What a family declares about itself, in its own folder: the data the registry reads.

use super::task::Task;

/// How a family's architectures are configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfiguredBy {
    /// By the manifest's `config` tables (and the weights' fixed values).
    Manifest,
    /// By a Hugging Face `config.json` whose `model_type` is this.
    ConfigJson {
        /// The `model_type` value of the family's configs (`bert`).
        model_type: &'static str,
    },
    /// By the files of a model id alone (a tokenizer: there is no model).
    TokenizerFiles,
}

/// One family's declaration (`pub const FAMILY: FamilySpec` in the family's `mod.rs`).
#[derive(Debug, Clone, Copy)]
pub struct FamilySpec {
    /// Display name (`ResNet`).
    pub name: &'static str,
    /// The architecture ids the family builds (the ids manifests use).
    pub variants: &'static [&'static str],
    /// The task of its architectures, unless [`variant_tasks`](Self::variant_tasks) names one.
    pub task: Task,
    /// Architectures whose task differs from [`task`](Self::task) (the heads of a text family).
    pub variant_tasks: &'static [(&'static str, Task)],
    /// The paper and reference implementation.
    pub reference: &'static str,
    /// The input side length the weights were trained at (image families).
    pub input_size: Option<usize>,
    /// Key renames (regex, replacement) from PyTorch state-dict names to the module's paths;
    /// families whose renames depend on the variant apply them when loading instead.
    pub remaps: fn() -> Vec<(&'static str, &'static str)>,
    /// Where the configuration comes from.
    pub configured_by: ConfiguredBy,
    /// Per architecture, the parameters (regexes over module paths) a checkpoint may lack — a
    /// task head on a pre-trained encoder: they keep their random initialisation, as
    /// `transformers` does, and the load reports them.
    pub optional_params: &'static [(&'static str, &'static [&'static str])],
    /// The smallest square input side an architecture takes (torchvision's `min_size` of its
    /// weights; below it the convolutions and poolings fail or pool empty feature maps).
    pub min_input: fn(&str) -> usize,
}

fn no_remaps() -> Vec<(&'static str, &'static str)> {
    Vec::new()
}

impl FamilySpec {
    /// An image-classification family at 224×224, configured by the manifest.
    pub const fn classifier(name: &'static str, variants: &'static [&'static str], reference: &'static str, remaps: fn() -> Vec<(&'static str, &'static str)>) -> Self {
        FamilySpec { name, variants, task: Task::ImageClassification, variant_tasks: &[], reference, input_size: Some(224), remaps, configured_by: ConfiguredBy::Manifest, optional_params: &[], min_input: |_| 1 }
    }

    /// A family of another task, configured by the manifest, without renames or input size.
    pub const fn of_task(name: &'static str, task: Task, variants: &'static [&'static str], reference: &'static str) -> Self {
        FamilySpec { name, variants, task, variant_tasks: &[], reference, input_size: None, remaps: no_remaps, configured_by: ConfiguredBy::Manifest, optional_params: &[], min_input: |_| 1 }
    }

    /// The same with this training input size.
    pub const fn with_input_size(mut self, size: usize) -> Self {
        self.input_size = Some(size);
        self
    }

    /// The same with these key renames.
    pub const fn with_remaps(mut self, remaps: fn() -> Vec<(&'static str, &'static str)>) -> Self {
        self.remaps = remaps;
        self
    }

    /// The same with per-architecture tasks.
    pub const fn with_variant_tasks(mut self, tasks: &'static [(&'static str, Task)]) -> Self {
        self.variant_tasks = tasks;
        self
    }

    /// The same, configured another way.
    pub const fn configured_by(mut self, by: ConfiguredBy) -> Self {
        self.configured_by = by;
        self
    }

    /// The same with parameters a checkpoint may lack, per architecture.
    pub const fn with_optional_params(mut self, params: &'static [(&'static str, &'static [&'static str])]) -> Self {
        self.optional_params = params;
        self
    }

    /// The same with this smallest input side (per architecture id).
    pub const fn with_min_input(mut self, min_input: fn(&str) -> usize) -> Self {
        self.min_input = min_input;
        self
    }

    /// The task of the architecture `id`.
    pub fn task_of(&self, id: &str) -> Task {
        self.variant_tasks.iter().find(|(a, _)| *a == id).map_or(self.task, |(_, t)| *t)
    }
}
