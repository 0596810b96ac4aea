//! The model enums: a module of any task, and the load dispatch over them (each `match` is
//! exhaustive; the classifier enum is generated from the family list in [`super`]).

use std::path::Path;

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::error::Result;
use crate::gan::{dcgan, pgan, NoiseRng};
use crate::import::ImportReport;
use crate::text::bert::{self, BertForMaskedLm, BertModel};
use crate::text::gpt2::{self, Gpt2LmHeadModel, Gpt2Model};
use crate::text::HfModule;

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
            /// Every parameter and buffer as PyTorch names and shapes them (the state dict).
            pub fn state_dict_shapes(&self) -> Vec<(String, Vec<usize>)> {
                match self {
                    $(TextModel::$variant(m) => crate::import::state_dict_shapes::<B, _>(m.as_ref()),)*
                }
            }

            /// Number of parameters, as PyTorch counts them.
            pub fn num_params(&self) -> usize {
                match self {
                    $(TextModel::$variant(m) => crate::import::parameter_count::<B, _>(m.as_ref()),)*
                }
            }

            /// Loads the model's checkpoint; `optional` are the parameters (regexes) it may lack
            /// ([`FamilySpec::optional_params`](super::FamilySpec::optional_params)).
            pub(crate) fn load_weights(self, optional: &[&str], path: &Path) -> Result<(Self, ImportReport)> {
                Ok(match self {
                    $(TextModel::$variant(m) => {
                        let options = optional.iter().fold(<$($path)+<B> as HfModule<B>>::import_options(), |o, p| o.with_optional(*p));
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

    /// Every parameter and buffer as PyTorch names and shapes them (the state dict).
    pub fn state_dict_shapes(&self) -> Vec<(String, Vec<usize>)> {
        match self {
            Generator::Dcgan(m) => crate::import::state_dict_shapes::<B, _>(m.as_ref()),
            Generator::Pgan(m) => crate::import::state_dict_shapes::<B, _>(m.as_ref()),
        }
    }

    /// Number of parameters, as PyTorch counts them.
    pub fn num_params(&self) -> usize {
        match self {
            Generator::Dcgan(m) => crate::import::parameter_count::<B, _>(m.as_ref()),
            Generator::Pgan(m) => crate::import::parameter_count::<B, _>(m.as_ref()),
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

