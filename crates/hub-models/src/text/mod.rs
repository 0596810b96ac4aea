//! Text models: BERT and GPT-2 (ports of the Hugging Face `transformers` implementations), their
//! tokenizers ([`tokenizer`], through the Hugging Face `tokenizers` crate) and autoregressive
//! decoding for GPT-2 ([`generation`]).
//!
//! Configurations are read from the Hugging Face `config.json` of a model ([`bert::BertConfig`],
//! [`gpt2::Gpt2Config`]); weights load from `model.safetensors` or `pytorch_model.bin` with the
//! Hugging Face key names through [`HfModule::load_weights`], which goes through
//! [`crate::import`] (burn-store, strict key matching).

pub mod bert;
pub mod generation;
pub mod gpt2;
pub mod tokenizer;

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use burn::tensor::activation;
use serde::{Deserialize, Serialize};

use crate::import::{self, ImportError, ImportOptions, ImportReport};

/// The activation functions Hugging Face configurations name (`hidden_act`,
/// `activation_function`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Activation {
    /// Exact GELU, `x·Φ(x)` with the error function (`"gelu"`).
    #[serde(rename = "gelu")]
    Gelu,
    /// The tanh approximation of GELU used by GPT-2 and BERT's original code (`"gelu_new"`,
    /// `"gelu_pytorch_tanh"`, `"gelu_fast"`: the same function).
    #[serde(rename = "gelu_new", alias = "gelu_pytorch_tanh", alias = "gelu_fast")]
    GeluNew,
    /// `x·sigmoid(1.702·x)` (`"quick_gelu"`).
    #[serde(rename = "quick_gelu")]
    QuickGelu,
    /// `max(x, 0)` (`"relu"`).
    #[serde(rename = "relu")]
    Relu,
    /// `x·sigmoid(x)` (`"silu"`, `"swish"`).
    #[serde(rename = "silu", alias = "swish")]
    Silu,
    /// `tanh(x)` (`"tanh"`).
    #[serde(rename = "tanh")]
    Tanh,
}

impl Activation {
    /// Applies the activation element-wise (any shape).
    pub fn forward<B: Backend, const D: usize>(self, x: Tensor<B, D>) -> Tensor<B, D> {
        match self {
            Self::Gelu => activation::gelu(x),
            Self::GeluNew => activation::gelu_approximate(x),
            Self::QuickGelu => x.clone() * activation::sigmoid(x * 1.702),
            Self::Relu => activation::relu(x),
            Self::Silu => activation::silu(x),
            Self::Tanh => activation::tanh(x),
        }
    }
}

impl Activation {
    /// The same function among hub's kernel activations, when it is one.
    fn kernel(self) -> Option<crate::kernels::Activation> {
        use crate::kernels::Activation as K;
        match self {
            Self::Gelu => Some(K::Gelu),
            Self::GeluNew => Some(K::GeluTanh),
            Self::Relu => Some(K::Relu),
            Self::Silu => Some(K::Silu),
            Self::Tanh => Some(K::Tanh),
            Self::QuickGelu => None,
        }
    }

    /// `act(layer(x))` with the activation fused into the layer where the kernels have it.
    ///
    /// # Shapes
    /// - x: `[..., d_in]`; output: `[..., d_out]`
    pub(crate) fn dense<B: Backend, const D: usize>(self, layer: &burn::nn::Linear<B>, x: Tensor<B, D>) -> Tensor<B, D> {
        self.dense_parts(crate::kernels::Dense::of(layer), x)
    }

    /// [`Self::dense`] for a weight stored `[in, out]` and its bias.
    pub(crate) fn dense_parts<B: Backend, const D: usize>(self, part: crate::kernels::Dense<B>, x: Tensor<B, D>) -> Tensor<B, D> {
        match self.kernel() {
            Some(a) => crate::kernels::dense(&[part], x, None, a),
            None => self.forward(crate::kernels::dense(&[part], x, None, crate::kernels::Activation::None)),
        }
    }
}

/// Errors reading a Hugging Face `config.json`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read model configuration {}", path.display())]
    Read {
        /// The configuration file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid configuration of this model family.
    #[error("invalid model configuration {}", path.display())]
    Parse {
        /// The configuration file.
        path: PathBuf,
        /// serde's error (names the field and the line).
        #[source]
        source: serde_json::Error,
    },
    /// The configuration asks for something this port does not implement.
    #[error("unsupported configuration: {field} = {value} ({reason})")]
    Unsupported {
        /// The configuration field.
        field: &'static str,
        /// Its value.
        value: String,
        /// What is supported instead.
        reason: &'static str,
    },
}

/// Reads and parses a `config.json`.
pub(crate) fn read_config<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| ConfigError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// A model whose weights load from Hugging Face checkpoints (`model.safetensors`,
/// `pytorch_model.bin`) with the `transformers` key names.
pub trait HfModule<B: Backend>: Module<B> + Sized {
    /// How the checkpoint keys map onto this module: key remaps (prefix, legacy names) and the
    /// tensors that may be present without being used (buffers, tied copies, other heads).
    fn import_options() -> ImportOptions;

    /// Loads weights from `path`: safetensors when the file name ends in `.safetensors`, a
    /// PyTorch checkpoint (zip or legacy pickle, read by burn-store without running code)
    /// otherwise. Strict: a missing, unexpected or mis-shaped tensor is an error naming it.
    fn load_weights(self, path: impl AsRef<Path>) -> Result<(Self, ImportReport), ImportError> {
        self.load_weights_with(path, &Self::import_options())
    }

    /// [`Self::load_weights`] with explicit options (e.g. lenient, or extra remaps).
    fn load_weights_with(
        self,
        path: impl AsRef<Path>,
        options: &ImportOptions,
    ) -> Result<(Self, ImportReport), ImportError> {
        let path = path.as_ref();
        if is_safetensors(path) {
            import::load_safetensors(self, path, options)
        } else {
            import::load_pytorch(self, path, options)
        }
    }
}

/// `true` when `path` names a safetensors file (by its extension).
pub(crate) fn is_safetensors(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"))
}

/// `x @ weightᵀ` for a weight stored as `[out, in]` (a tied embedding matrix).
///
/// # Shapes
/// - x: `[batch, seq, in]`, weight: `[out, in]`
/// - output: `[batch, seq, out]`
pub(crate) fn project_tied<B: Backend>(x: Tensor<B, 3>, weight: Tensor<B, 2>) -> Tensor<B, 3> {
    let tied = crate::kernels::Dense { weight, bias: None, layout: crate::kernels::WeightLayout::OutIn };
    crate::kernels::dense(&[tied], x, None, crate::kernels::Activation::None)
}

/// Splits the last dimension into heads: `[batch, seq, heads·head_dim]` →
/// `[batch, heads, seq, head_dim]`.
pub(crate) fn split_heads<B: Backend>(x: Tensor<B, 3>, heads: usize) -> Tensor<B, 4> {
    let [batch, seq, d] = x.dims();
    x.reshape([batch, seq, heads, d / heads]).swap_dims(1, 2)
}

/// `[batch, k_len]` padding mask (1 = token, 0 = padding) → `[batch, 1, 1, k_len]`, `true` on
/// padding.
pub(crate) fn padding_mask<B: Backend>(attention_mask: Tensor<B, 2, Int>) -> Tensor<B, 4, Bool> {
    let [batch, k_len] = attention_mask.dims();
    attention_mask.equal_elem(0).reshape([batch, 1, 1, k_len])
}

/// The registry declaration of tokenizer entrypoints: a model id's tokenizer files alone, no model.
pub const TOKENIZER_FAMILY: crate::registry::spec::FamilySpec = crate::registry::spec::FamilySpec::of_task(
    "Tokenizer",
    crate::registry::task::Task::Tokenization,
    &["tokenizer"],
    "Hugging Face tokenizers (WordPiece, byte-level BPE); transformers AutoTokenizer",
)
.configured_by(crate::registry::spec::ConfiguredBy::TokenizerFiles);

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    type B = Flex;

    #[test]
    fn activations_parse_under_every_hf_name() {
        for (name, act) in [
            ("gelu", Activation::Gelu),
            ("gelu_new", Activation::GeluNew),
            ("gelu_pytorch_tanh", Activation::GeluNew),
            ("gelu_fast", Activation::GeluNew),
            ("quick_gelu", Activation::QuickGelu),
            ("relu", Activation::Relu),
            ("swish", Activation::Silu),
            ("silu", Activation::Silu),
            ("tanh", Activation::Tanh),
        ] {
            let parsed: Activation = serde_json::from_str(&format!("\"{name}\"")).unwrap();
            assert_eq!(parsed, act, "{name}");
        }
        assert!(serde_json::from_str::<Activation>("\"mish\"").is_err());
    }

    #[test]
    fn gelu_variants_differ_as_expected() {
        let device = Default::default();
        let x = Tensor::<B, 1>::from_floats([-3.0, -1.0, 0.0, 0.5, 2.0], &device);
        let exact = Activation::Gelu
            .forward(x.clone())
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        let tanh = Activation::GeluNew
            .forward(x)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        // GELU(x) = x Φ(x); Φ(1) = 0.841344746, Φ(-3) = 0.001349898.
        assert!((exact[3] - 0.5 * 0.691_462_5).abs() < 1e-5, "{exact:?}");
        assert!((exact[0] + 3.0 * 0.001_349_898).abs() < 1e-5, "{exact:?}");
        assert!((exact[1] + 1.0 - 0.841_344_7).abs() < 1e-5, "{exact:?}");
        // The tanh approximation is close but not equal.
        let diff: f32 = exact.iter().zip(&tanh).map(|(a, b)| (a - b).abs()).sum();
        assert!(diff > 1e-5 && diff < 1e-2, "{diff}");
    }

    #[test]
    fn attention_ignores_masked_keys() {
        let device = Default::default();
        let q = Tensor::<B, 4>::random([1, 2, 3, 4], burn::tensor::Distribution::Default, &device);
        let k = Tensor::<B, 4>::random([1, 2, 3, 4], burn::tensor::Distribution::Default, &device);
        let v = Tensor::<B, 4>::random([1, 2, 3, 4], burn::tensor::Distribution::Default, &device);
        let mask = padding_mask(Tensor::<B, 2, Int>::from_ints([[1, 1, 0]], &device));
        let masked = crate::kernels::attention(q.clone(), k.clone(), v.clone(), Some(mask));
        let truncated = crate::kernels::attention(q, k.narrow(2, 0, 2), v.narrow(2, 0, 2), None);
        let diff = (masked - truncated).abs().max().into_scalar();
        assert!(diff < 1e-6, "{diff}");
    }
}
