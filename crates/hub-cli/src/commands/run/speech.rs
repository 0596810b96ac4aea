//! `hub run` for speech: Tacotron2 turns text into a mel spectrogram, a WaveGlow vocoder of the
//! same repo turns that into a WAV file.

use std::fmt;
use std::path::PathBuf;

use burn::tensor::backend::Backend;
use hub_models::Loaded;
use serde::Serialize;

use super::text::TextArgs;
use super::OutputArgs;

/// The vocoder and the synthesis.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Speech (text with --text, the WAV with --out)")]
pub struct SpeechArgs {
    /// The vocoder entrypoint of the same repo.
    #[arg(long, default_value = "nvidia_waveglow")]
    pub(super) vocoder: String,
    /// WaveGlow's noise scale.
    #[arg(long, default_value_t = hub_models::tts::DEFAULT_SIGMA)]
    sigma: f32,
    /// Stop Tacotron2 after this many decoder steps if its gate never fires.
    #[arg(long)]
    pub(super) max_decoder_steps: Option<usize>,
}

/// The WAV file written.
#[derive(Serialize, Debug)]
pub struct Spoken {
    vocoder: String,
    out: PathBuf,
    sample_rate: u32,
    samples: usize,
    /// Length of the audio.
    seconds: f64,
    /// Seconds of audio per second of computing.
    real_time_factor: f64,
    seed: u64,
    /// Seconds of computing.
    #[serde(skip)]
    computed: f64,
}

pub fn speak<B: Backend>(model: &Loaded<B>, vocoder: &Loaded<B>, text: &TextArgs, args: &SpeechArgs, out: &OutputArgs, seed: u64) -> anyhow::Result<Spoken> {
    let [text] = text.texts() else { anyhow::bail!("{} speaks one text: give --text \"...\" and --out FILE.wav", model.entry) };
    let Some(wav) = &out.out else { anyhow::bail!("{} writes speech: give --out FILE.wav", model.entry) };
    let started = std::time::Instant::now();
    let (samples, sample_rate) = model.speak(vocoder, text, seed, args.sigma)?;
    let computed = started.elapsed().as_secs_f64();
    hub_models::tts::write_wav(&samples, sample_rate, wav)?;
    let seconds = samples.len() as f64 / sample_rate as f64;
    Ok(Spoken {
        vocoder: vocoder.entry.clone(),
        out: wav.clone(),
        sample_rate,
        samples: samples.len(),
        seconds,
        real_time_factor: seconds / computed,
        seed,
        computed,
    })
}

impl fmt::Display for Spoken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "wrote {} ({:.2} s of audio at {} Hz, computed in {:.2} s: {:.2}x real time)",
            self.out.display(),
            self.seconds,
            self.sample_rate,
            self.computed,
            self.real_time_factor
        )
    }
}
