//! A loaded entrypoint, and the accessors the task methods reach the model through (an error
//! naming the task for a model of another one).

use std::path::PathBuf;

use burn::tensor::backend::Backend;
use hub_core::RepoSpec;

use crate::error::{Error, Result};
use crate::import::ImportReport;
use crate::preprocess::Preprocess;
use crate::registry::{Architecture, Generator, ImageClassifier, Model, TextModel};
use crate::text::tokenizer::TextTokenizer;

/// A loaded entrypoint: the model and everything needed to use it.
#[derive(Debug)]
pub struct Loaded<B: Backend> {
    /// The repo it came from.
    pub repo: RepoSpec,
    /// The entrypoint's name.
    pub entry: String,
    /// The weights loaded (`None`: random init or a local checkpoint).
    pub weights: Option<String>,
    /// The local checkpoint loaded, if any.
    pub checkpoint: Option<PathBuf>,
    /// The architecture.
    pub architecture: Architecture,
    /// The burn module.
    pub model: Model<B>,
    /// The input preparation the weights expect (image tasks; `None` for the others).
    pub preprocess: Option<Preprocess>,
    /// Category names, by class index (empty when the manifest names none that hub knows).
    pub categories: Vec<String>,
    /// What the import found (unused keys of a non-strict load).
    pub report: Option<ImportReport>,
    /// The tokenizer of a text model.
    pub tokenizer: Option<TextTokenizer>,
    /// The device the model lives on.
    pub device: B::Device,
}

impl<B: Backend> Loaded<B> {
    /// The image classifier, or an error for models of other tasks.
    pub fn classifier(&self) -> Result<&ImageClassifier<B>> {
        match &self.model {
            Model::Classifier(m) => Ok(m),
            _ => Err(self.wrong_task("classification")),
        }
    }

    /// The image generator, or an error for models of other tasks.
    pub fn generator(&self) -> Result<&Generator<B>> {
        match &self.model {
            Model::Generator(g) => Ok(g),
            _ => Err(self.wrong_task("image generation")),
        }
    }

    pub(crate) fn wrong_task(&self, operation: &'static str) -> Error {
        Error::WrongTask { entry: self.entry.clone(), task: self.architecture.task.as_str().to_owned(), operation }
    }

    /// The image preprocessing of an image model, or an error for models of other tasks.
    pub fn image_preprocess(&self) -> Result<&Preprocess> {
        self.preprocess.as_ref().ok_or_else(|| self.wrong_task("image preprocessing"))
    }

    /// An error unless `tokens` fit the text model's positions (longer inputs are refused, not
    /// silently truncated).
    pub(crate) fn check_length(&self, tokens: usize) -> Result<()> {
        match &self.model {
            Model::Text(m) if tokens > m.max_positions() => Err(Error::BadInput {
                entry: self.entry.clone(),
                message: format!("the input is {tokens} tokens long; {} takes at most {} (shorten the text)", self.architecture.id, m.max_positions()),
            }),
            _ => Ok(()),
        }
    }

    pub(crate) fn text(&self, operation: &'static str) -> Result<(&TextModel<B>, &TextTokenizer)> {
        match (&self.model, &self.tokenizer) {
            (Model::Text(m), Some(t)) => Ok((m, t)),
            _ => Err(self.wrong_task(operation)),
        }
    }

    /// The tokenizer of a text model (or of a tokenizer entrypoint).
    pub fn tokenizer(&self) -> Result<&TextTokenizer> {
        self.tokenizer.as_ref().ok_or_else(|| self.wrong_task("tokenization"))
    }
}
