//! Loading weights into a built model: one exhaustive `match` over the model enum.

use std::path::Path;

use burn::tensor::backend::Backend;

use super::families::{Architecture, Model};
use super::model::{boxed, Generator};
use crate::error::{Error, Result};
use crate::gan::{dcgan, pgan};
use crate::import::{self, ImportOptions, ImportReport};
use crate::tts::{tacotron2, waveglow};

impl<B: Backend> Model<B> {
    /// Every parameter and buffer of the module as PyTorch names and shapes them (empty for a
    /// tokenizer, which has no module).
    pub fn state_dict_shapes(&self) -> Vec<(String, Vec<usize>)> {
        match self {
            Model::Classifier(m) => m.state_dict_shapes(),
            Model::Generator(g) => g.state_dict_shapes(),
            Model::Text(m) => m.state_dict_shapes(),
            Model::Segmenter(m) => import::state_dict_shapes::<B, _>(m.as_ref()),
            Model::Tacotron2(m) => import::state_dict_shapes::<B, _>(m.as_ref()),
            Model::WaveGlow(m) => import::state_dict_shapes::<B, _>(m.as_ref()),
            Model::Tokenizer => Vec::new(),
        }
    }

    /// Number of parameters, as PyTorch counts them (0 for a tokenizer).
    pub fn num_params(&self) -> usize {
        match self {
            Model::Classifier(m) => m.num_params(),
            Model::Generator(g) => g.num_params(),
            Model::Text(m) => m.num_params(),
            Model::Segmenter(m) => import::parameter_count::<B, _>(m.as_ref()),
            Model::Tacotron2(m) => import::parameter_count::<B, _>(m.as_ref()),
            Model::WaveGlow(m) => import::parameter_count::<B, _>(m.as_ref()),
            Model::Tokenizer => 0,
        }
    }

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
                let (m, r) = m.load_weights(&optional_params(architecture), path)?;
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
            Model::Text(m) => m.load_weights(&optional_params(architecture), path).map(|(m, r)| (Model::Text(m), r)),
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

/// The parameters `architecture`'s checkpoints may lack (a task head on a pre-trained encoder).
fn optional_params(architecture: &Architecture) -> Vec<&'static str> {
    let spec = architecture.family.spec();
    spec.optional_params.iter().filter(|(id, _)| *id == architecture.id).flat_map(|(_, p)| p.iter().copied()).collect()
}

