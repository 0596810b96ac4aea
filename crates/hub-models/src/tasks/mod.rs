//! What a loaded model does, task by task: the methods of [`Loaded`] live here, one file per
//! kind of task, and reach the model through the accessors below (an error naming the task
//! for a model of another one).

mod speech;
mod text;
mod vision;

use burn::tensor::backend::Backend;

pub use text::{Answer, GeneratedText, TokenPrediction, TokenTag, MAX_ANSWER_TOKENS};
pub use vision::Prediction;

use crate::error::{Error, Result};
use crate::load::Loaded;
use crate::preprocess::Preprocess;
use crate::registry::{Generator, ImageClassifier, Model, TextModel};
use crate::text::tokenizer::TextTokenizer;

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
