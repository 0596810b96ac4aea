//! Text to speech: NVIDIA's Tacotron2 + WaveGlow pair from torch.hub
//! (NVIDIA/DeepLearningExamples, branch `torchhub`, `PyTorch/SpeechSynthesis/Tacotron2`;
//! entry points `nvidia_tacotron2`, `nvidia_waveglow`, `nvidia_tts_utils`).
//!
//! - [`text`]: `nvidia_tts_utils`' text processing: English cleaners and the symbol table
//!   ([`text::text_to_sequence`]).
//! - [`tacotron2`]: characters → mel spectrogram.
//! - [`waveglow`]: mel spectrogram → 22 050 Hz waveform.
//! - [`synthesize`] runs the three, [`write_wav`] saves 16-bit PCM.
//!
//! Randomness: Tacotron2 keeps its prenet dropout on at inference and WaveGlow samples Gaussian
//! noise; both are drawn from our seeded [`NoiseRng`], so one seed gives
//! one waveform on every platform (not the numbers PyTorch's generator would draw).

pub mod tacotron2;
pub mod text;
pub mod waveglow;

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use burn::prelude::*;

use crate::gan::NoiseRng;
use tacotron2::Tacotron2;
use waveglow::WaveGlow;

/// The sample rate of NVIDIA's models (LJ Speech).
pub const SAMPLE_RATE: u32 = 22_050;

/// WaveGlow's noise scale in [`synthesize`]: `infer`'s default, as in the torch.hub example.
pub const DEFAULT_SIGMA: f32 = 1.0;

/// Errors of the text-to-speech pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TtsError {
    /// Nothing of the text is in the symbol table after cleaning.
    #[error("no speakable symbol in {text:?} after cleaning")]
    EmptyText {
        /// The input text.
        text: String,
    },
    /// The WAV file could not be written.
    #[error("cannot write WAV file {}", path.display())]
    WriteWav {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Text to waveform: cleans `text`, runs Tacotron2 (prenet dropout masks from `seed`) and
/// WaveGlow (noise from the same stream, `sigma` = [`DEFAULT_SIGMA`]).
///
/// Returns the samples (nominally in `[-1, 1]`) and the sample rate.
pub fn synthesize<B: Backend>(
    tacotron2: &Tacotron2<B>,
    waveglow: &WaveGlow<B>,
    text: &str,
    seed: u64,
) -> Result<(Vec<f32>, u32), TtsError> {
    synthesize_with_sigma(tacotron2, waveglow, text, seed, DEFAULT_SIGMA)
}

/// [`synthesize`] with WaveGlow's noise scale (NVIDIA's `inference.py` uses 0.9; lower values
/// give cleaner, flatter audio).
pub fn synthesize_with_sigma<B: Backend>(
    tacotron2: &Tacotron2<B>,
    waveglow: &WaveGlow<B>,
    text: &str,
    seed: u64,
    sigma: f32,
) -> Result<(Vec<f32>, u32), TtsError> {
    let ids = text::text_to_sequence(text);
    if ids.is_empty() {
        return Err(TtsError::EmptyText {
            text: text.to_string(),
        });
    }
    let device = tacotron2.embedding.weight.device();
    let length = ids.len();
    let ids: Vec<i64> = ids.into_iter().map(i64::from).collect();
    let sequence = Tensor::<B, 2, Int>::from_data(TensorData::new(ids, [1, length]), &device);
    let mut rng = NoiseRng::seed_from_u64(seed);
    let mel = tacotron2.infer(sequence, &mut rng).mel_postnet;
    let audio = waveglow.infer(mel, sigma, &mut rng);
    let samples = audio
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .unwrap_or_default();
    Ok((samples, SAMPLE_RATE))
}

/// Writes mono 16-bit PCM WAV (with the `hound` crate): samples in `[-1, 1]` (clamped, NaN as
/// silence) scaled by 32767 and rounded.
pub fn write_wav(
    samples: &[f32],
    sample_rate: u32,
    path: impl AsRef<Path>,
) -> Result<(), TtsError> {
    let path = path.as_ref();
    let error = |source| TtsError::WriteWav {
        path: path.to_path_buf(),
        source,
    };
    let file = File::create(path).map_err(error)?;
    write_wav_to(samples, sample_rate, BufWriter::new(file)).map_err(|e| {
        error(match e {
            hound::Error::IoError(e) => e,
            // Too many samples for a WAV file's 32-bit sizes, say.
            other => io::Error::other(other),
        })
    })
}

/// [`write_wav`] into a seekable writer (the chunk sizes are filled in at the end).
fn write_wav_to<W: Write + Seek>(
    samples: &[f32],
    sample_rate: u32,
    out: W,
) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::new(out, spec)?;
    for &s in samples {
        let s = if s.is_nan() { 0.0 } else { s.clamp(-1.0, 1.0) };
        writer.write_sample((s * 32767.0).round() as i16)?;
    }
    writer.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_header_and_samples() {
        let mut out = std::io::Cursor::new(Vec::new());
        write_wav_to(&[0.0, 1.0, -1.0, 2.0, 0.5, f32::NAN], 22_050, &mut out).unwrap();
        let bytes = out.into_inner();
        // The 44-byte header of a PCM `fmt ` chunk, then the samples.
        assert_eq!(bytes.len(), 44 + 12);
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), 36 + 12);
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        assert_eq!(u16::from_le_bytes([bytes[20], bytes[21]]), 1, "PCM");
        assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 1, "mono");
        assert_eq!(
            u32::from_le_bytes(bytes[24..28].try_into().unwrap()),
            22_050
        );
        assert_eq!(
            u32::from_le_bytes(bytes[28..32].try_into().unwrap()),
            44_100
        );
        assert_eq!(u16::from_le_bytes([bytes[34], bytes[35]]), 16, "bits per sample");
        assert_eq!(&bytes[36..40], b"data");
        assert_eq!(u32::from_le_bytes(bytes[40..44].try_into().unwrap()), 12);
        let samples: Vec<i16> = bytes[44..]
            .chunks(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(samples, vec![0, 32767, -32767, 32767, 16384, 0]);
    }

    #[test]
    fn written_files_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        write_wav(&[0.25, -0.5, 1.5], SAMPLE_RATE, &path).unwrap();
        let mut reader = hound::WavReader::open(&path).unwrap();
        let spec = reader.spec();
        assert_eq!((spec.channels, spec.sample_rate, spec.bits_per_sample), (1, SAMPLE_RATE, 16));
        let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(samples, vec![8192, -16384, 32767]);
    }

    #[test]
    fn write_wav_reports_the_path() {
        let err = write_wav(&[0.0], 22_050, "/nonexistent-dir/x.wav").unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir/x.wav"));
    }

    #[test]
    fn synthesize_runs_a_tiny_random_pair() {
        type B = burn::backend::Flex;
        let device = Default::default();
        let config = tacotron2::Tacotron2Config::new()
            .with_symbols_embedding_dim(16)
            .with_encoder_embedding_dim(16)
            .with_attention_rnn_dim(16)
            .with_decoder_rnn_dim(16)
            .with_prenet_dim(8)
            .with_attention_dim(8)
            .with_postnet_embedding_dim(8)
            .with_max_decoder_steps(3);
        // Random, lazily initialised parameters: the same values on every call.
        let t2 = config.init::<B>(&device);
        let wg = waveglow::WaveGlowConfig::new()
            .with_n_flows(4)
            .with_wn_config(
                waveglow::WnConfig::new()
                    .with_n_channels(8)
                    .with_n_layers(2),
            )
            .init::<B>(&device);
        let (a, rate) = synthesize(&t2, &wg, "Hi there.", 7).unwrap();
        let (b, _) = synthesize(&t2, &wg, "Hi there.", 7).unwrap();
        assert_eq!(rate, SAMPLE_RATE);
        // Up to three decoder steps of 256 samples each, all finite.
        assert!(
            !a.is_empty() && a.len() % 256 == 0 && a.len() <= 3 * 256,
            "{}",
            a.len()
        );
        assert_eq!(a.len(), b.len());
        assert!(a.iter().chain(&b).all(|x| x.is_finite()));
        // The seed fixes Tacotron2's prenet dropout: the same seed gives the same mel
        // spectrogram. (The audio of an untrained WaveGlow is not
        // compared: its random invertible 1x1 convolutions are ill-conditioned and amplify
        // last-bit differences of the multi-threaded CPU kernels without bound.)
        let ids: Vec<i64> = text::text_to_sequence("Hi there.").into_iter().map(i64::from).collect();
        let len = ids.len();
        let sequence = Tensor::<B, 2, Int>::from_data(TensorData::new(ids, [1, len]), &device);
        let mel = |seed: u64| -> Vec<f32> {
            let mut rng = NoiseRng::seed_from_u64(seed);
            t2.infer(sequence.clone(), &mut rng).mel_postnet.into_data().convert::<f32>().to_vec().unwrap()
        };
        let (m7, m7b) = (mel(7), mel(7));
        let scale = m7.iter().fold(0f32, |m, x| m.max(x.abs()));
        let diff = |x: &[f32], y: &[f32]| x.iter().zip(y).fold(0f32, |m, (p, q)| m.max((p - q).abs()));
        assert_eq!(m7.len(), m7b.len());
        assert!(diff(&m7, &m7b) <= 1e-4 * scale, "{} vs {scale}", diff(&m7, &m7b));
        assert!(matches!(
            synthesize(&t2, &wg, "{}", 7),
            Err(TtsError::EmptyText { .. })
        ));
    }
}
