//! The model enums: a module of any task, and the load dispatch over them (each `match` is
//! exhaustive; the classifier enum is generated from the family list in [`super`]).

use std::path::Path;

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use super::{Architecture, ImageClassifier};
use crate::error::{Error, Result};
use crate::gan::{dcgan, pgan, NoiseRng};
use crate::import::{self, ImportOptions, ImportReport};
use crate::segmentation;
use crate::text::bert::{self, BertForMaskedLm, BertModel};
use crate::text::gpt2::{self, Gpt2LmHeadModel, Gpt2Model};
use crate::text::HfModule;
use crate::tts::{tacotron2, waveglow};

/// A model of any task.
#[derive(Debug)]
#[non_exhaustive]
pub enum Model<B: Backend> {
    /// An image classifier.
    Classifier(ImageClassifier<B>),
    /// An image generator.
    Generator(Generator<B>),
    /// A text model.
    Text(TextModel<B>),
    /// A semantic segmentation model.
    Segmenter(Box<segmentation::Segmentation<B>>),
    /// Tacotron2 (text to mel spectrogram).
    Tacotron2(Box<tacotron2::Tacotron2<B>>),
    /// WaveGlow (mel spectrogram to audio).
    WaveGlow(Box<waveglow::WaveGlow<B>>),
    /// No module: a tokenizer entrypoint (the tokenizer is in `Loaded::tokenizer`).
    Tokenizer,
}

macro_rules! text_models {
    ($($variant:ident($($path:tt)+)),* $(,)?) => {
        /// A text model (BERT or GPT-2, with or without a head).
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum TextModel<B: Backend> {
            $(
                #[doc = concat!("A `", stringify!($($path)+), "`.")]
                $variant(Box<$($path)+<B>>),
            )*
        }

        impl<B: Backend> TextModel<B> {
            pub(crate) fn load_weights(self, architecture: &Architecture, path: &Path) -> Result<(Self, ImportReport)> {
                Ok(match self {
                    $(TextModel::$variant(m) => {
                        let options = super::text::import_options::<B, $($path)+<B>>(architecture);
                        let (m, r) = boxed(m, |m| Ok(m.load_weights_with(path, &options)?))?;
                        (TextModel::$variant(m), r)
                    })*
                })
            }
        }
    };
}

impl<B: Backend> TextModel<B> {
    /// The longest token sequence the model takes (its position embeddings).
    pub fn max_positions(&self) -> usize {
        match self {
            TextModel::Bert(m) => m.max_positions(),
            TextModel::BertMaskedLm(m) => m.bert.max_positions(),
            TextModel::BertNextSentence(m) => m.bert.max_positions(),
            TextModel::BertPreTraining(m) => m.bert.max_positions(),
            TextModel::BertSequenceClassification(m) => m.bert.max_positions(),
            TextModel::BertMultipleChoice(m) => m.bert.max_positions(),
            TextModel::BertQuestionAnswering(m) => m.bert.max_positions(),
            TextModel::BertTokenClassification(m) => m.bert.max_positions(),
            TextModel::Gpt2(m) => m.max_positions(),
            TextModel::Gpt2LmHead(m) => m.transformer.max_positions(),
            TextModel::Gpt2DoubleHeads(m) => m.transformer.max_positions(),
            TextModel::Gpt2SequenceClassification(m) => m.transformer.max_positions(),
        }
    }
}

text_models! {
    Bert(BertModel),
    BertMaskedLm(BertForMaskedLm),
    BertNextSentence(bert::BertForNextSentencePrediction),
    BertPreTraining(bert::BertForPreTraining),
    BertSequenceClassification(bert::BertForSequenceClassification),
    BertMultipleChoice(bert::BertForMultipleChoice),
    BertQuestionAnswering(bert::BertForQuestionAnswering),
    BertTokenClassification(bert::BertForTokenClassification),
    Gpt2(Gpt2Model),
    Gpt2LmHead(Gpt2LmHeadModel),
    Gpt2DoubleHeads(gpt2::Gpt2DoubleHeadsModel),
    Gpt2SequenceClassification(gpt2::Gpt2ForSequenceClassification),
}

/// An image generator (GAN).
#[derive(Debug)]
#[non_exhaustive]
pub enum Generator<B: Backend> {
    /// A DCGAN generator.
    Dcgan(Box<dcgan::Dcgan<B>>),
    /// A progressive GAN generator.
    Pgan(Box<pgan::Pgan<B>>),
}

impl<B: Backend> Generator<B> {
    /// The GAN zoo's `buildNoiseData(n)`, seeded.
    ///
    /// # Shapes
    /// - returns: `[n, latent_dim]`
    pub fn build_noise_data(&self, n: usize, seed: u64, device: &B::Device) -> Tensor<B, 2> {
        let mut rng = NoiseRng::seed_from_u64(seed);
        match self {
            Generator::Dcgan(m) => m.build_noise_data(n, &mut rng, device),
            Generator::Pgan(m) => m.build_noise_data(n, &mut rng, device),
        }
    }

    /// The GAN zoo's `test(noise)`: images in [-1, 1].
    ///
    /// # Shapes
    /// - noise: `[n, latent_dim]`
    /// - returns: `[n, channels, size, size]`
    pub fn test(&self, noise: Tensor<B, 2>) -> Tensor<B, 4> {
        match self {
            Generator::Dcgan(m) => m.test(noise),
            Generator::Pgan(m) => m.test(noise),
        }
    }
}

impl<B: Backend> Model<B> {
    /// Loads a PyTorch checkpoint, reading the state dict under `key` when given.
    pub fn load_pytorch(self, architecture: &Architecture, path: &Path, key: Option<&str>) -> Result<(Self, ImportReport)> {
        Ok(match self {
            Model::Classifier(m) => {
                let mut options = ImportOptions::new().with_remaps(architecture.family.remaps());
                if let Some(k) = key {
                    options = options.with_top_level_key(k);
                }
                let (m, r) = m.load_pytorch(path, &options)?;
                (Model::Classifier(m), r)
            }
            Model::Generator(Generator::Dcgan(m)) => {
                let layout = if architecture.id == "dcgan_faces" { dcgan::weights::KeyLayout::Sequential } else { dcgan::weights::KeyLayout::GanZoo };
                let default_key = dcgan::weights::weights(architecture.id).map_or("netG", |w| w.top_level_key);
                let options = dcgan::weights::import_options(layout, m.depth(), key.unwrap_or(default_key));
                let (m, r) = boxed(m, |m| Ok(import::load_pytorch::<B, _>(m, path, &options)?))?;
                (Model::Generator(Generator::Dcgan(m)), r)
            }
            Model::Text(m) => {
                let (m, r) = m.load_weights(architecture, path)?;
                (Model::Text(m), r)
            }
            Model::Tokenizer => (Model::Tokenizer, ImportReport::default()),
            Model::Tacotron2(m) => {
                let (m, r) = boxed(m, |m| Ok(import::load_pytorch::<B, _>(m, path, &tacotron2::weights::import_options())?))?;
                (Model::Tacotron2(m), r)
            }
            Model::WaveGlow(m) => {
                // Built for this checkpoint (weight norm or not: see `waveglow::build`).
                let (m, r) = boxed(m, |m| Ok(import::load_pytorch::<B, _>(m, path, &waveglow::weights::import_options())?))?;
                (Model::WaveGlow(m), r)
            }
            Model::Segmenter(m) => {
                let mut options = ImportOptions::new().with_remaps(architecture.family.remaps());
                if let Some(k) = key {
                    options = options.with_top_level_key(k);
                }
                let (m, r) = boxed(m, |m| Ok(import::load_pytorch::<B, _>(m, path, &options)?))?;
                (Model::Segmenter(m), r)
            }
            Model::Generator(Generator::Pgan(m)) => {
                let options = pgan::weights::import_options(key.unwrap_or("netG"));
                let (m, r) = boxed(m, |m| Ok(import::load_pytorch::<B, _>(m, path, &options)?))?;
                (Model::Generator(Generator::Pgan(m)), r)
            }
        })
    }

    /// Loads a safetensors file (classifiers and text models).
    pub fn load_safetensors(self, architecture: &Architecture, path: &Path) -> Result<(Self, ImportReport)> {
        match self {
            Model::Text(m) => m.load_weights(architecture, path).map(|(m, r)| (Model::Text(m), r)),
            Model::Classifier(m) => {
                let (m, r) = m.load_safetensors(path, &ImportOptions::new().with_remaps(architecture.family.remaps()))?;
                Ok((Model::Classifier(m), r))
            }
            Model::Segmenter(m) => {
                let options = ImportOptions::new().with_remaps(architecture.family.remaps());
                let (m, r) = boxed(m, |m| Ok(import::load_safetensors::<B, _>(m, path, &options)?))?;
                Ok((Model::Segmenter(m), r))
            }
            Model::Generator(_) | Model::Tacotron2(_) | Model::WaveGlow(_) | Model::Tokenizer => {
                Err(Error::WrongTask { entry: architecture.id.to_owned(), task: architecture.task.as_str().to_owned(), operation: "loading safetensors" })
            }
        }
    }
}

/// Runs `f` on a boxed module, keeping the module's bytes out of the caller's stack frame (a
/// `match` over many large modules would otherwise reserve room for all of them at once).
#[allow(clippy::boxed_local)]
pub(crate) fn boxed<B: Backend, M: burn::module::Module<B>>(
    m: Box<M>,
    f: impl FnOnce(M) -> Result<(M, ImportReport)>,
) -> Result<(Box<M>, ImportReport)> {
    let (m, report) = f(*m)?;
    Ok((Box::new(m), report))
}

