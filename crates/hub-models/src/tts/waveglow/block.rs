//! WaveGlow building blocks: weight-normalised convolutions, the WN coupling network and the
//! invertible 1×1 convolution (DeepLearningExamples `waveglow/model.py`).

use burn::module::Param;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::Initializer;
use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use burn::tensor::module::conv1d;
use burn::tensor::ops::ConvOptions;

/// A 1-d convolution that is either plain (`weight`) or weight-normalised
/// (`torch.nn.utils.weight_norm`: `weight = weight_g · weight_v / ‖weight_v‖`, the norm taken
/// per output channel), so that checkpoints saved before and after `remove_weightnorm` both
/// load. NVIDIA's published WaveGlow checkpoint keeps `weight_g`/`weight_v`.
#[derive(Module, Debug)]
pub struct WnConv1d<B: Backend> {
    /// Plain weight `[out, in, kernel]` (weight norm removed).
    pub weight: Option<Param<Tensor<B, 3>>>,
    /// Weight-norm magnitude `[out, 1, 1]`.
    pub weight_g: Option<Param<Tensor<B, 3>>>,
    /// Weight-norm direction `[out, in, kernel]`.
    pub weight_v: Option<Param<Tensor<B, 3>>>,
    /// Bias `[out]`.
    pub bias: Param<Tensor<B, 1>>,
    dilation: usize,
    padding: usize,
}

impl<B: Backend> WnConv1d<B> {
    /// A randomly initialised convolution, weight-normalised or plain.
    pub fn new(
        channels: [usize; 2],
        kernel: usize,
        dilation: usize,
        weight_norm: bool,
        device: &B::Device,
    ) -> Self {
        let [input, output] = channels;
        let fan_in = (input * kernel) as f64;
        let k = 1.0 / fan_in.sqrt();
        let init = Initializer::Uniform { min: -k, max: k };
        let shape = [output, input, kernel];
        let (weight, weight_g, weight_v) = if weight_norm {
            (
                None,
                Some(Initializer::Ones.init([output, 1, 1], device)),
                Some(init.init(shape, device)),
            )
        } else {
            (Some(init.init(shape, device)), None, None)
        };
        Self {
            weight,
            weight_g,
            weight_v,
            bias: init.init([output], device),
            dilation,
            padding: (kernel * dilation - dilation) / 2,
        }
    }

    /// The effective weight `[out, in, kernel]`.
    pub fn effective_weight(&self) -> Tensor<B, 3> {
        match (&self.weight, &self.weight_g, &self.weight_v) {
            (Some(weight), _, _) => weight.val(),
            (None, Some(g), Some(v)) => {
                let v = v.val();
                let norm = v.clone().powi_scalar(2).sum_dim(2).sum_dim(1).sqrt();
                v * (g.val() / norm)
            }
            _ => unreachable!("WnConv1d::new sets either weight or weight_g and weight_v"),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, in, time]` → `[batch, out, time]`
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        conv1d(
            x,
            self.effective_weight(),
            Some(self.bias.val()),
            ConvOptions::new([1], [self.padding], [self.dilation], 1),
        )
    }
}

/// The WaveNet-like network of an affine coupling layer: non-causal dilated convolutions
/// (dilation doubling every layer), gated `tanh · sigmoid` activations conditioned on the
/// upsampled mel spectrogram, residual and skip connections.
#[derive(Module, Debug)]
pub struct Wn<B: Backend> {
    /// Input projection (weight-normalised 1×1).
    pub start: WnConv1d<B>,
    /// Output projection to `2 · n_in` channels (plain 1×1).
    pub end: Conv1d<B>,
    /// Dilated convolutions to `2 · n_channels`.
    pub in_layers: Vec<WnConv1d<B>>,
    /// Conditioning 1×1 convolutions from the mel channels to `2 · n_channels`.
    pub cond_layers: Vec<WnConv1d<B>>,
    /// Residual + skip 1×1 convolutions (`2 · n_channels`, the last `n_channels`).
    pub res_skip_layers: Vec<WnConv1d<B>>,
    n_channels: usize,
}

/// WN hyper-parameters (NVIDIA's `WN_config`).
#[derive(Config, Debug)]
pub struct WnConfig {
    /// Dilated layers.
    #[config(default = 8)]
    pub n_layers: usize,
    /// Kernel of the dilated convolutions (odd).
    #[config(default = 3)]
    pub kernel_size: usize,
    /// Hidden channels (even).
    #[config(default = 512)]
    pub n_channels: usize,
}

impl WnConfig {
    /// A randomly initialised WN for `n_in` audio and `n_cond` conditioning channels.
    pub fn init<B: Backend>(
        &self,
        n_in: usize,
        n_cond: usize,
        weight_norm: bool,
        device: &B::Device,
    ) -> Wn<B> {
        let c = self.n_channels;
        Wn {
            start: WnConv1d::new([n_in, c], 1, 1, weight_norm, device),
            end: Conv1dConfig::new(c, 2 * n_in, 1).init(device),
            in_layers: (0..self.n_layers)
                .map(|i| WnConv1d::new([c, 2 * c], self.kernel_size, 1 << i, weight_norm, device))
                .collect(),
            cond_layers: (0..self.n_layers)
                .map(|_| WnConv1d::new([n_cond, 2 * c], 1, 1, weight_norm, device))
                .collect(),
            res_skip_layers: (0..self.n_layers)
                .map(|i| {
                    let out = if i + 1 < self.n_layers { 2 * c } else { c };
                    WnConv1d::new([c, out], 1, 1, weight_norm, device)
                })
                .collect(),
            n_channels: c,
        }
    }
}

impl<B: Backend> Wn<B> {
    /// # Shapes
    /// - `audio`: `[batch, n_in, groups]`; `spect`: `[batch, n_cond, groups]`
    /// - output: `[batch, 2 · n_in, groups]` (`b` first, then `log s`)
    pub fn forward(&self, audio: Tensor<B, 3>, spect: Tensor<B, 3>) -> Tensor<B, 3> {
        let n = self.n_channels;
        let mut audio = self.start.forward(audio);
        let mut output: Option<Tensor<B, 3>> = None;
        let layers = self.in_layers.len();
        for i in 0..layers {
            let a = self.in_layers[i].forward(audio.clone())
                + self.cond_layers[i].forward(spect.clone());
            let acts = a.clone().narrow(1, 0, n).tanh() * sigmoid(a.narrow(1, n, n));
            let res_skip = self.res_skip_layers[i].forward(acts);
            let skip = if i + 1 < layers {
                audio = res_skip.clone().narrow(1, 0, n) + audio;
                res_skip.narrow(1, n, n)
            } else {
                res_skip
            };
            output = Some(match output {
                Some(sum) => skip + sum,
                None => skip,
            });
        }
        let output = output.unwrap_or_else(|| audio.zeros_like());
        self.end.forward(output)
    }
}

/// The invertible 1×1 convolution mixing a flow's channels (bias-free, key `conv.weight`).
#[derive(Module, Debug)]
pub struct Invertible1x1Conv<B: Backend> {
    /// The convolution.
    pub conv: Conv1d<B>,
}

impl<B: Backend> Invertible1x1Conv<B> {
    /// A randomly initialised `channels × channels` mixing (not necessarily invertible until
    /// weights are loaded).
    pub fn new(channels: usize, device: &B::Device) -> Self {
        Self {
            conv: Conv1dConfig::new(channels, channels, 1)
                .with_bias(false)
                .init(device),
        }
    }

    /// The inverse mixing (inference direction): `W⁻¹ z`, with `W⁻¹` computed in f64 on the
    /// host (the matrix is at most `n_group × n_group`).
    ///
    /// # Shapes
    /// - `z`: `[batch, channels, groups]` → same
    pub fn reverse(&self, z: Tensor<B, 3>) -> Tensor<B, 3> {
        let [c, _, _] = self.conv.weight.dims();
        let data = self.conv.weight.val().into_data().convert::<f64>();
        let w = data.to_vec::<f64>().unwrap_or_default();
        let inverse = invert(&w, c);
        let inverse: Vec<f32> = inverse.into_iter().map(|x| x as f32).collect();
        let inverse = Tensor::<B, 2>::from_data(TensorData::new(inverse, [c, c]), &z.device());
        // A 1×1 convolution is a matrix product over the channel axis.
        inverse.unsqueeze_dim::<3>(0).matmul(z)
    }
}

/// The inverse of a row-major `n × n` matrix by Gauss–Jordan elimination with partial
/// pivoting. A singular matrix yields non-finite values (as `torch.inverse` would error, the
/// result is then unusable; trained WaveGlow matrices are orthogonal at initialisation and stay
/// well-conditioned).
fn invert(m: &[f64], n: usize) -> Vec<f64> {
    let mut a = m.to_vec();
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x * n + col].abs().total_cmp(&a[y * n + col].abs()))
            .unwrap_or(col);
        if pivot != col {
            for k in 0..n {
                a.swap(col * n + k, pivot * n + k);
                inv.swap(col * n + k, pivot * n + k);
            }
        }
        let p = a[col * n + col];
        for k in 0..n {
            a[col * n + k] /= p;
            inv[col * n + k] /= p;
        }
        for row in 0..n {
            if row != col {
                let f = a[row * n + col];
                if f != 0.0 {
                    for k in 0..n {
                        a[row * n + k] -= f * a[col * n + k];
                        inv[row * n + k] -= f * inv[col * n + k];
                    }
                }
            }
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::invert;

    #[test]
    fn invert_recovers_identity() {
        let m = [2.0, 1.0, 0.5, 0.0, 3.0, 1.0, 1.0, 0.0, 4.0];
        let inv = invert(&m, 3);
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| m[i * 3 + k] * inv[k * 3 + j]).sum();
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((s - expected).abs() < 1e-12, "({i},{j}) = {s}");
            }
        }
    }
}
