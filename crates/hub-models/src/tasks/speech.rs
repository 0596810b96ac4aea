//! Speech: Tacotron2 with a WaveGlow vocoder.

use burn::tensor::backend::Backend;

use crate::error::{Error, Result};
use super::loaded::Loaded;
use crate::registry::Model;

impl<B: Backend> Loaded<B> {
    /// Speech from text with a WaveGlow `vocoder` (Tacotron2 models): 22.05 kHz samples. The
    /// prenet dropout masks and WaveGlow's noise come from `seed`.
    pub fn speak(&self, vocoder: &Loaded<B>, text: &str, seed: u64, sigma: f32) -> Result<(Vec<f32>, u32)> {
        let Model::Tacotron2(t) = &self.model else { return Err(self.wrong_task("speech synthesis")) };
        let Model::WaveGlow(w) = &vocoder.model else { return Err(vocoder.wrong_task("vocoding")) };
        crate::tts::synthesize_with_sigma(t, w, text, seed, sigma).map_err(|e| Error::BadInput { entry: self.entry.clone(), message: e.to_string() })
    }
}
