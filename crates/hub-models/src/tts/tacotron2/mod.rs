//! Tacotron2 ("Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions",
//! Shen et al., 2018, <https://arxiv.org/abs/1712.05884>), as NVIDIA ships it for torch.hub
//! (NVIDIA/DeepLearningExamples, branch `torchhub`, `PyTorch/SpeechSynthesis/Tacotron2/
//! tacotron2/model.py`, entry point `nvidia_tacotron2`).
//!
//! Characters → embedding → encoder (3 × conv-BN-ReLU, bidirectional LSTM) → autoregressive
//! decoder (prenet with dropout kept on, attention LSTM, location-sensitive attention, decoder
//! LSTM, mel projection and stop gate) → postnet residual. Inference only, whole sequences
//! (a batch must hold sequences of one length: no padding mask, as NVIDIA's batch-1 inference).

pub mod block;
pub mod weights;

use burn::nn::{Embedding, EmbeddingConfig};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;

pub use block::{Attention, BiLstm, ConvBn, DropoutMasks, LinearNorm, LstmCell, Postnet, Prenet};
pub use weights::{import_options, load};

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &["nvidia_tacotron2"];

/// Tacotron2 hyper-parameters, with NVIDIA's names and defaults (`tacotron2/arg_parser.py`; the
/// published checkpoint's `config` holds the same values).
#[derive(Config, Debug)]
pub struct Tacotron2Config {
    /// Mel channels per frame.
    #[config(default = 80)]
    pub n_mel_channels: usize,
    /// Size of the symbol table ([`crate::tts::text::N_SYMBOLS`]: 148).
    #[config(default = 148)]
    pub n_symbols: usize,
    /// Symbol embedding width.
    #[config(default = 512)]
    pub symbols_embedding_dim: usize,
    /// Encoder convolution kernel.
    #[config(default = 5)]
    pub encoder_kernel_size: usize,
    /// Encoder convolutions.
    #[config(default = 3)]
    pub encoder_n_convolutions: usize,
    /// Encoder output width (the BiLSTM has half of it per direction).
    #[config(default = 512)]
    pub encoder_embedding_dim: usize,
    /// Attention LSTM width.
    #[config(default = 1024)]
    pub attention_rnn_dim: usize,
    /// Attention projection width.
    #[config(default = 128)]
    pub attention_dim: usize,
    /// Location-feature filters.
    #[config(default = 32)]
    pub attention_location_n_filters: usize,
    /// Location-feature kernel.
    #[config(default = 31)]
    pub attention_location_kernel_size: usize,
    /// Mel frames per decoder step.
    #[config(default = 1)]
    pub n_frames_per_step: usize,
    /// Decoder LSTM width.
    #[config(default = 1024)]
    pub decoder_rnn_dim: usize,
    /// Prenet width.
    #[config(default = 256)]
    pub prenet_dim: usize,
    /// Decoding stops after this many steps if the gate never fires.
    #[config(default = 2000)]
    pub max_decoder_steps: usize,
    /// Decoding stops when `sigmoid(gate)` exceeds this.
    #[config(default = 0.5)]
    pub gate_threshold: f64,
    /// Postnet channels.
    #[config(default = 512)]
    pub postnet_embedding_dim: usize,
    /// Postnet kernel.
    #[config(default = 5)]
    pub postnet_kernel_size: usize,
    /// Postnet convolutions.
    #[config(default = 5)]
    pub postnet_n_convolutions: usize,
}

/// The variant table lookup.
pub fn config(id: &str) -> Option<Tacotron2Config> {
    (id == "nvidia_tacotron2").then(Tacotron2Config::new)
}

impl Tacotron2Config {
    /// Builds a randomly initialised model (load weights with [`load`]).
    pub fn init<B: Backend>(&self, device: &B::Device) -> Tacotron2<B> {
        let frame = self.n_mel_channels * self.n_frames_per_step;
        let enc = self.encoder_embedding_dim;
        let encoder = Encoder {
            convolutions: (0..self.encoder_n_convolutions)
                .map(|i| {
                    let input = if i == 0 {
                        self.symbols_embedding_dim
                    } else {
                        enc
                    };
                    ConvBn::new([input, enc], self.encoder_kernel_size, device)
                })
                .collect(),
            lstm: BiLstm::new(enc, enc / 2, device),
        };
        let decoder = Decoder {
            prenet: Prenet {
                layers: vec![
                    LinearNorm::new(frame, self.prenet_dim, false, device),
                    LinearNorm::new(self.prenet_dim, self.prenet_dim, false, device),
                ],
            },
            attention_rnn: LstmCell::new(self.prenet_dim + enc, self.attention_rnn_dim, device),
            attention_layer: Attention::new(
                self.attention_rnn_dim,
                enc,
                self.attention_dim,
                self.attention_location_n_filters,
                self.attention_location_kernel_size,
                device,
            ),
            decoder_rnn: LstmCell::new(self.attention_rnn_dim + enc, self.decoder_rnn_dim, device),
            linear_projection: LinearNorm::new(self.decoder_rnn_dim + enc, frame, true, device),
            gate_layer: LinearNorm::new(self.decoder_rnn_dim + enc, 1, true, device),
            n_mel_channels: self.n_mel_channels,
            n_frames_per_step: self.n_frames_per_step,
            attention_rnn_dim: self.attention_rnn_dim,
            decoder_rnn_dim: self.decoder_rnn_dim,
            max_decoder_steps: self.max_decoder_steps,
            gate_threshold: self.gate_threshold,
        };
        let n = self.postnet_n_convolutions;
        let postnet = Postnet {
            convolutions: (0..n)
                .map(|i| {
                    let input = if i == 0 {
                        self.n_mel_channels
                    } else {
                        self.postnet_embedding_dim
                    };
                    let output = if i + 1 == n {
                        self.n_mel_channels
                    } else {
                        self.postnet_embedding_dim
                    };
                    ConvBn::new([input, output], self.postnet_kernel_size, device)
                })
                .collect(),
        };
        Tacotron2 {
            embedding: EmbeddingConfig::new(self.n_symbols, self.symbols_embedding_dim)
                .init(device),
            encoder,
            decoder,
            postnet,
        }
    }
}

/// The encoder: convolutions over the embedded characters, then a bidirectional LSTM.
#[derive(Module, Debug)]
pub struct Encoder<B: Backend> {
    /// Conv-BN blocks (ReLU after each).
    pub convolutions: Vec<ConvBn<B>>,
    /// The bidirectional LSTM.
    pub lstm: BiLstm<B>,
}

impl<B: Backend> Encoder<B> {
    /// # Shapes
    /// - `x`: `[batch, embedding, time]` → `[batch, time, encoder_embedding_dim]`
    pub fn forward(&self, mut x: Tensor<B, 3>) -> Tensor<B, 3> {
        for conv in &self.convolutions {
            x = burn::tensor::activation::relu(conv.forward(x));
        }
        self.lstm.forward(x.swap_dims(1, 2))
    }
}

/// The autoregressive decoder.
#[derive(Module, Debug)]
pub struct Decoder<B: Backend> {
    /// The prenet (dropout on at inference).
    pub prenet: Prenet<B>,
    /// The attention LSTM cell.
    pub attention_rnn: LstmCell<B>,
    /// Location-sensitive attention.
    pub attention_layer: Attention<B>,
    /// The decoder LSTM cell.
    pub decoder_rnn: LstmCell<B>,
    /// Projection to mel frames.
    pub linear_projection: LinearNorm<B>,
    /// The stop gate.
    pub gate_layer: LinearNorm<B>,
    n_mel_channels: usize,
    n_frames_per_step: usize,
    attention_rnn_dim: usize,
    decoder_rnn_dim: usize,
    max_decoder_steps: usize,
    gate_threshold: f64,
}

/// What the decoder produced.
#[derive(Debug, Clone)]
pub struct DecoderOutput<B: Backend> {
    /// Mel frames before the postnet, `[batch, n_mel, steps · n_frames_per_step]`.
    pub mel: Tensor<B, 3>,
    /// Gate logits, `[batch, steps]`.
    pub gate: Tensor<B, 2>,
    /// Attention weights, `[batch, steps, time]`.
    pub alignments: Tensor<B, 3>,
    /// Per sequence, the number of steps before its gate fired (NVIDIA's `mel_lengths`).
    pub lengths: Vec<usize>,
}

impl<B: Backend> Decoder<B> {
    /// Sets the stop threshold and step limit.
    pub fn with_stopping(mut self, gate_threshold: f64, max_decoder_steps: usize) -> Self {
        self.gate_threshold = gate_threshold;
        self.max_decoder_steps = max_decoder_steps;
        self
    }

    /// Autoregressive inference from a zero "go" frame until every sequence's gate fired
    /// (`sigmoid(gate) > gate_threshold`, that frame included) or `max_decoder_steps`.
    ///
    /// # Shapes
    /// - `memory`: `[batch, time, encoder_embedding_dim]` (encoder outputs)
    pub fn infer(&self, memory: Tensor<B, 3>, masks: &mut dyn DropoutMasks) -> DecoderOutput<B> {
        let [batch, time, enc] = memory.dims();
        let device = memory.device();
        let zeros = |n: usize| Tensor::<B, 2>::zeros([batch, n], &device);
        let frame_width = self.n_mel_channels * self.n_frames_per_step;
        let (mut ah, mut ac) = (zeros(self.attention_rnn_dim), zeros(self.attention_rnn_dim));
        let (mut dh, mut dc) = (zeros(self.decoder_rnn_dim), zeros(self.decoder_rnn_dim));
        let (mut weights, mut cumulative) = (zeros(time), zeros(time));
        let mut context = zeros(enc);
        let processed = self.attention_layer.memory_layer.forward(memory.clone());
        let mut frame = zeros(frame_width);
        let (mut mels, mut gates, mut aligns) = (Vec::new(), Vec::new(), Vec::new());
        let mut lengths = vec![0usize; batch];
        let mut finished = vec![false; batch];
        loop {
            let x = self.prenet.forward(frame, masks);
            (ah, ac) = self
                .attention_rnn
                .forward(Tensor::cat(vec![x, context], 1), ah, ac);
            let weights_cat = Tensor::stack::<3>(vec![weights, cumulative.clone()], 1);
            (context, weights) = self.attention_layer.forward(
                ah.clone(),
                memory.clone(),
                processed.clone(),
                weights_cat,
            );
            cumulative = cumulative + weights.clone();
            (dh, dc) =
                self.decoder_rnn
                    .forward(Tensor::cat(vec![ah.clone(), context.clone()], 1), dh, dc);
            let hidden_context = Tensor::cat(vec![dh.clone(), context.clone()], 1);
            let mel = self.linear_projection.forward(hidden_context.clone());
            let gate = self.gate_layer.forward(hidden_context);
            let probabilities = sigmoid(gate.clone())
                .into_data()
                .convert::<f64>()
                .to_vec::<f64>()
                .unwrap_or_default();
            for (b, p) in probabilities.iter().enumerate() {
                if *p > self.gate_threshold {
                    finished[b] = true;
                }
                if !finished[b] {
                    lengths[b] += 1;
                }
            }
            mels.push(mel.clone());
            gates.push(gate);
            aligns.push(weights.clone());
            if finished.iter().all(|&f| f) || mels.len() >= self.max_decoder_steps {
                break;
            }
            frame = mel;
        }
        let steps = mels.len();
        let mel = Tensor::stack::<3>(mels, 1)
            .reshape([batch, steps * self.n_frames_per_step, self.n_mel_channels])
            .swap_dims(1, 2);
        DecoderOutput {
            mel,
            gate: Tensor::cat(gates, 1),
            alignments: Tensor::stack(aligns, 1),
            lengths,
        }
    }
}

/// Tacotron2: characters to mel spectrogram.
#[derive(Module, Debug)]
pub struct Tacotron2<B: Backend> {
    /// Symbol embedding.
    pub embedding: Embedding<B>,
    /// The encoder.
    pub encoder: Encoder<B>,
    /// The decoder.
    pub decoder: Decoder<B>,
    /// The postnet.
    pub postnet: Postnet<B>,
}

/// What [`Tacotron2::infer`] produced.
#[derive(Debug, Clone)]
pub struct Tacotron2Output<B: Backend> {
    /// Decoder output `[batch, n_mel, frames]`.
    pub mel: Tensor<B, 3>,
    /// Decoder output plus the postnet residual, `[batch, n_mel, frames]`: WaveGlow's input.
    pub mel_postnet: Tensor<B, 3>,
    /// Gate logits `[batch, steps]`.
    pub gate: Tensor<B, 2>,
    /// Attention weights `[batch, steps, time]`.
    pub alignments: Tensor<B, 3>,
    /// Steps before each sequence's gate fired.
    pub lengths: Vec<usize>,
}

impl<B: Backend> Tacotron2<B> {
    /// The encoder's outputs for symbol ids.
    ///
    /// # Shapes
    /// - `sequence`: `[batch, time]` symbol ids → `[batch, time, encoder_embedding_dim]`
    pub fn encode(&self, sequence: Tensor<B, 2, Int>) -> Tensor<B, 3> {
        let embedded = self.embedding.forward(sequence).swap_dims(1, 2);
        self.encoder.forward(embedded)
    }

    /// Full inference (NVIDIA's `infer`): encode, decode with the prenet's dropout masks
    /// drawn from `masks`, add the postnet residual.
    ///
    /// # Shapes
    /// - `sequence`: `[batch, time]` symbol ids (sequences of equal length, no padding)
    pub fn infer(
        &self,
        sequence: Tensor<B, 2, Int>,
        masks: &mut dyn DropoutMasks,
    ) -> Tacotron2Output<B> {
        let memory = self.encode(sequence);
        let decoded = self.decoder.infer(memory, masks);
        let mel_postnet = decoded.mel.clone() + self.postnet.forward(decoded.mel.clone());
        Tacotron2Output {
            mel: decoded.mel,
            mel_postnet,
            gate: decoded.gate,
            alignments: decoded.alignments,
            lengths: decoded.lengths,
        }
    }
}

/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec = crate::registry::spec::FamilySpec::of_task(
    "Tacotron2",
    crate::registry::task::Task::TextToSpectrogram,
    VARIANTS,
    "Shen et al. 2017, https://arxiv.org/abs/1712.05884; NVIDIA/DeepLearningExamples PyTorch/SpeechSynthesis/Tacotron2/tacotron2",
)
.with_remaps(weights::remaps);

/// Builds the model `id` with random weights; the manifest config may set
/// `max_decoder_steps` and `gate_threshold`.
pub fn build<B: Backend>(id: &str, entry: &str, config: &toml::Table, _checkpoint: Option<&std::path::Path>, device: &B::Device) -> crate::Result<Tacotron2<B>> {
    let mut c = self::config(id).ok_or_else(|| crate::error::Error::UnknownArchitecture { architecture: id.to_owned() })?;
    for (key, value) in config {
        match key.as_str() {
            "max_decoder_steps" => c.max_decoder_steps = crate::registry::config::positive_at_most(entry, key, value, crate::registry::config::limits::MAX_DECODER_STEPS)?,
            "gate_threshold" => {
                c.gate_threshold = value.as_float().ok_or_else(|| crate::error::Error::Config { entry: entry.to_owned(), key: key.clone(), message: format!("expected a number, got {value}") })?
            }
            _ => return Err(crate::registry::config::unknown_key(entry, key, "Tacotron2", &["max_decoder_steps", "gate_threshold"])),
        }
    }
    Ok(c.init(device))
}
