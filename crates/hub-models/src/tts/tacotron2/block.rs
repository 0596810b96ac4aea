//! Tacotron2 building blocks, named after DeepLearningExamples' modules (`tacotron2/model.py`,
//! `common/layers.py`) so that the state-dict keys need few remaps.

use burn::module::Param;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, Linear, LinearConfig, PaddingConfig1d};
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, softmax};

/// Uniform(-1/√hidden, 1/√hidden): PyTorch's LSTM initialisation (only used before loading).
fn lstm_init<B: Backend, const D: usize>(
    shape: [usize; D],
    hidden: usize,
    device: &B::Device,
) -> Param<Tensor<B, D>> {
    let k = 1.0 / (hidden as f64).sqrt();
    Initializer::Uniform { min: -k, max: k }.init(shape, device)
}

/// One LSTM step with PyTorch's packed parameter layout: gates `i, f, g, o` stacked along the
/// first dimension of `weight_ih` `[4·hidden, input]` and `weight_hh` `[4·hidden, hidden]`, two
/// biases `[4·hidden]`.
///
/// burn-nn's `Lstm` keeps one `Linear` per gate instead, which does not match PyTorch's keys;
/// this mirrors `nn.LSTMCell` (keys `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`).
#[derive(Module, Debug)]
pub struct LstmCell<B: Backend> {
    /// Input weights `[4·hidden, input]`.
    pub weight_ih: Param<Tensor<B, 2>>,
    /// Recurrent weights `[4·hidden, hidden]`.
    pub weight_hh: Param<Tensor<B, 2>>,
    /// Input bias `[4·hidden]`.
    pub bias_ih: Param<Tensor<B, 1>>,
    /// Recurrent bias `[4·hidden]`.
    pub bias_hh: Param<Tensor<B, 1>>,
}

impl<B: Backend> LstmCell<B> {
    /// A cell with PyTorch's default (random) initialisation.
    pub fn new(input: usize, hidden: usize, device: &B::Device) -> Self {
        Self {
            weight_ih: lstm_init([4 * hidden, input], hidden, device),
            weight_hh: lstm_init([4 * hidden, hidden], hidden, device),
            bias_ih: lstm_init([4 * hidden], hidden, device),
            bias_hh: lstm_init([4 * hidden], hidden, device),
        }
    }

    /// `x · W_ihᵀ + b_ih + b_hh` for a whole sequence at once.
    ///
    /// # Shapes
    /// - `x`: `[batch, time, input]` → `[batch, time, 4·hidden]`
    fn input_gates(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let bias = (self.bias_ih.val() + self.bias_hh.val()).unsqueeze_dims::<3>(&[0, 1]);
        x.matmul(self.weight_ih.val().transpose().unsqueeze_dim(0)) + bias
    }

    /// The recurrent update given the input part of the gates.
    fn update(
        &self,
        input_gates: Tensor<B, 2>,
        h: Tensor<B, 2>,
        c: Tensor<B, 2>,
    ) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let gates = input_gates + h.matmul(self.weight_hh.val().transpose());
        let mut parts = gates.chunk(4, 1).into_iter();
        let (Some(i), Some(f), Some(g), Some(o)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            unreachable!("chunk(4) of a [batch, 4·hidden] tensor gives four parts")
        };
        let c = sigmoid(f) * c + sigmoid(i) * g.tanh();
        let h = sigmoid(o) * c.clone().tanh();
        (h, c)
    }

    /// One step of `nn.LSTMCell`.
    ///
    /// # Shapes
    /// - `x`: `[batch, input]`; `h`, `c` and both outputs: `[batch, hidden]`
    pub fn forward(
        &self,
        x: Tensor<B, 2>,
        h: Tensor<B, 2>,
        c: Tensor<B, 2>,
    ) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let bias = (self.bias_ih.val() + self.bias_hh.val()).unsqueeze_dim(0);
        let input_gates = x.matmul(self.weight_ih.val().transpose()) + bias;
        self.update(input_gates, h, c)
    }
}

/// A one-layer bidirectional `nn.LSTM(batch_first=True)`, keys `weight_ih_l0`, …,
/// `bias_hh_l0_reverse`.
#[derive(Module, Debug)]
pub struct BiLstm<B: Backend> {
    /// Forward direction, input weights.
    pub weight_ih_l0: Param<Tensor<B, 2>>,
    /// Forward direction, recurrent weights.
    pub weight_hh_l0: Param<Tensor<B, 2>>,
    /// Forward direction, input bias.
    pub bias_ih_l0: Param<Tensor<B, 1>>,
    /// Forward direction, recurrent bias.
    pub bias_hh_l0: Param<Tensor<B, 1>>,
    /// Backward direction, input weights.
    pub weight_ih_l0_reverse: Param<Tensor<B, 2>>,
    /// Backward direction, recurrent weights.
    pub weight_hh_l0_reverse: Param<Tensor<B, 2>>,
    /// Backward direction, input bias.
    pub bias_ih_l0_reverse: Param<Tensor<B, 1>>,
    /// Backward direction, recurrent bias.
    pub bias_hh_l0_reverse: Param<Tensor<B, 1>>,
    hidden: usize,
}

impl<B: Backend> BiLstm<B> {
    /// A bidirectional LSTM with PyTorch's default (random) initialisation.
    pub fn new(input: usize, hidden: usize, device: &B::Device) -> Self {
        Self {
            weight_ih_l0: lstm_init([4 * hidden, input], hidden, device),
            weight_hh_l0: lstm_init([4 * hidden, hidden], hidden, device),
            bias_ih_l0: lstm_init([4 * hidden], hidden, device),
            bias_hh_l0: lstm_init([4 * hidden], hidden, device),
            weight_ih_l0_reverse: lstm_init([4 * hidden, input], hidden, device),
            weight_hh_l0_reverse: lstm_init([4 * hidden, hidden], hidden, device),
            bias_ih_l0_reverse: lstm_init([4 * hidden], hidden, device),
            bias_hh_l0_reverse: lstm_init([4 * hidden], hidden, device),
            hidden,
        }
    }

    fn direction(&self, reverse: bool) -> LstmCell<B> {
        let (w_ih, w_hh, b_ih, b_hh) = if reverse {
            (
                &self.weight_ih_l0_reverse,
                &self.weight_hh_l0_reverse,
                &self.bias_ih_l0_reverse,
                &self.bias_hh_l0_reverse,
            )
        } else {
            (
                &self.weight_ih_l0,
                &self.weight_hh_l0,
                &self.bias_ih_l0,
                &self.bias_hh_l0,
            )
        };
        // The values, not clones of the parameters: a clone of a lazily initialised random
        // parameter initialises itself again, with new random values, on every call.
        LstmCell {
            weight_ih: Param::from_tensor(w_ih.val()),
            weight_hh: Param::from_tensor(w_hh.val()),
            bias_ih: Param::from_tensor(b_ih.val()),
            bias_hh: Param::from_tensor(b_hh.val()),
        }
    }

    /// Runs both directions over whole (unpadded) sequences from zero states.
    ///
    /// # Shapes
    /// - `x`: `[batch, time, input]` → `[batch, time, 2·hidden]` (forward half first)
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let [batch, time, _] = x.dims();
        let device = x.device();
        let mut halves = Vec::with_capacity(2);
        for reverse in [false, true] {
            let cell = self.direction(reverse);
            let gates = cell.input_gates(x.clone());
            let mut h = Tensor::zeros([batch, self.hidden], &device);
            let mut c = Tensor::zeros([batch, self.hidden], &device);
            let mut outputs = vec![None; time];
            let order: Vec<usize> = if reverse {
                (0..time).rev().collect()
            } else {
                (0..time).collect()
            };
            for t in order {
                let step = gates
                    .clone()
                    .narrow(1, t, 1)
                    .reshape([batch, 4 * self.hidden]);
                (h, c) = cell.update(step, h, c);
                outputs[t] = Some(h.clone());
            }
            let outputs: Vec<Tensor<B, 2>> = outputs.into_iter().flatten().collect();
            halves.push(Tensor::stack(outputs, 1));
        }
        Tensor::cat(halves, 2)
    }
}

/// `ConvNorm` + `BatchNorm1d` (an `nn.Sequential` in PyTorch: keys `N.0.conv.*`, `N.1.*`,
/// remapped to `N.conv.*`, `N.bn.*`).
#[derive(Module, Debug)]
pub struct ConvBn<B: Backend> {
    /// The convolution (`ConvNorm.conv`).
    pub conv: Conv1d<B>,
    /// Batch normalisation (eval mode: running statistics).
    pub bn: BatchNorm<B>,
}

impl<B: Backend> ConvBn<B> {
    /// A "same"-padded convolution (odd `kernel`) followed by batch norm.
    pub fn new(channels: [usize; 2], kernel: usize, device: &B::Device) -> Self {
        let pad = (kernel - 1) / 2;
        Self {
            conv: Conv1dConfig::new(channels[0], channels[1], kernel)
                .with_padding(PaddingConfig1d::Explicit(pad, pad))
                .init(device),
            bn: BatchNormConfig::new(channels[1]).init(device),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, in, time]` → `[batch, out, time]`
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        self.bn.forward(self.conv.forward(x))
    }
}

/// `LinearNorm`: a `Linear` under the field name `linear_layer`.
#[derive(Module, Debug)]
pub struct LinearNorm<B: Backend> {
    /// The linear layer.
    pub linear_layer: Linear<B>,
}

impl<B: Backend> LinearNorm<B> {
    /// A linear layer `input → output`.
    pub fn new(input: usize, output: usize, bias: bool, device: &B::Device) -> Self {
        Self {
            linear_layer: LinearConfig::new(input, output)
                .with_bias(bias)
                .init(device),
        }
    }

    /// # Shapes
    /// - `x`: `[..., input]` → `[..., output]`
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        self.linear_layer.forward(x)
    }
}

/// Location features: a convolution over the previous and cumulative attention weights.
#[derive(Module, Debug)]
pub struct LocationLayer<B: Backend> {
    /// `ConvNorm(2, filters, kernel, bias=False)`, key `location_conv.conv.weight`.
    pub location_conv: ConvNormNoBias<B>,
    /// `LinearNorm(filters, attention_dim, bias=False)`.
    pub location_dense: LinearNorm<B>,
}

/// A bias-free `ConvNorm` (field `conv`).
#[derive(Module, Debug)]
pub struct ConvNormNoBias<B: Backend> {
    /// The convolution.
    pub conv: Conv1d<B>,
}

/// Location-sensitive attention (Chorowski et al., 2015) as Tacotron2 uses it.
#[derive(Module, Debug)]
pub struct Attention<B: Backend> {
    /// Projects the attention RNN's state.
    pub query_layer: LinearNorm<B>,
    /// Projects the encoder outputs (once per utterance).
    pub memory_layer: LinearNorm<B>,
    /// Scores the combined projections.
    pub v: LinearNorm<B>,
    /// Location features.
    pub location_layer: LocationLayer<B>,
}

impl<B: Backend> Attention<B> {
    /// A randomly initialised attention block.
    pub fn new(
        rnn_dim: usize,
        embedding_dim: usize,
        attention_dim: usize,
        filters: usize,
        kernel: usize,
        device: &B::Device,
    ) -> Self {
        let pad = (kernel - 1) / 2;
        Self {
            query_layer: LinearNorm::new(rnn_dim, attention_dim, false, device),
            memory_layer: LinearNorm::new(embedding_dim, attention_dim, false, device),
            v: LinearNorm::new(attention_dim, 1, false, device),
            location_layer: LocationLayer {
                location_conv: ConvNormNoBias {
                    conv: Conv1dConfig::new(2, filters, kernel)
                        .with_padding(PaddingConfig1d::Explicit(pad, pad))
                        .with_bias(false)
                        .init(device),
                },
                location_dense: LinearNorm::new(filters, attention_dim, false, device),
            },
        }
    }

    /// One attention step (no padding mask: whole sequences).
    ///
    /// # Shapes
    /// - `query`: `[batch, rnn_dim]`; `memory`: `[batch, time, embedding]`;
    ///   `processed_memory`: `[batch, time, attention_dim]`; `weights_cat`: `[batch, 2, time]`
    /// - returns the context `[batch, embedding]` and the weights `[batch, time]`
    pub fn forward(
        &self,
        query: Tensor<B, 2>,
        memory: Tensor<B, 3>,
        processed_memory: Tensor<B, 3>,
        weights_cat: Tensor<B, 3>,
    ) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let [batch, time, embedding] = memory.dims();
        let query = self.query_layer.forward(query).unsqueeze_dim::<3>(1);
        let location = self.location_layer.location_dense.forward(
            self.location_layer
                .location_conv
                .conv
                .forward(weights_cat)
                .swap_dims(1, 2),
        );
        let energies = self
            .v
            .forward((query + location + processed_memory).tanh())
            .reshape([batch, time]);
        let weights = softmax(energies, 1);
        let context = weights
            .clone()
            .unsqueeze_dim::<3>(1)
            .matmul(memory)
            .reshape([batch, embedding]);
        (context, weights)
    }
}

/// Where the prenet's dropout masks come from.
///
/// Tacotron2 keeps the prenet's dropout (p = 0.5) on at inference: NVIDIA's reference draws one
/// Bernoulli(0.5) keep-mask per layer and step, shared by the batch, and scales the kept units
/// by 2. Implementations decide the randomness; [`crate::gan::NoiseRng`] gives a seeded stream.
pub trait DropoutMasks {
    /// `len` keep (`true`) / drop (`false`) decisions.
    fn keep_mask(&mut self, len: usize) -> Vec<bool>;
}

impl DropoutMasks for crate::gan::NoiseRng {
    fn keep_mask(&mut self, len: usize) -> Vec<bool> {
        (0..len).map(|_| self.uniform() < 0.5).collect()
    }
}

/// The decoder's prenet: `Linear(bias=False) → ReLU → dropout(0.5)` twice.
#[derive(Module, Debug)]
pub struct Prenet<B: Backend> {
    /// The linear layers (`layers.N.linear_layer.weight`).
    pub layers: Vec<LinearNorm<B>>,
}

impl<B: Backend> Prenet<B> {
    /// # Shapes
    /// - `x`: `[batch, in]` → `[batch, prenet_dim]`
    pub fn forward(&self, mut x: Tensor<B, 2>, masks: &mut dyn DropoutMasks) -> Tensor<B, 2> {
        for linear in &self.layers {
            x = burn::tensor::activation::relu(linear.forward(x));
            let width = x.dims()[1];
            let scale: Vec<f32> = masks
                .keep_mask(width)
                .into_iter()
                .map(|keep| if keep { 2.0 } else { 0.0 })
                .collect();
            let scale = Tensor::<B, 1>::from_data(TensorData::new(scale, [width]), &x.device());
            x = x * scale.unsqueeze_dim(0);
        }
        x
    }
}

/// The postnet: five convolutions with batch norm, `tanh` after all but the last.
#[derive(Module, Debug)]
pub struct Postnet<B: Backend> {
    /// The convolutions (`convolutions.N.0.conv.*`, `convolutions.N.1.*` in PyTorch).
    pub convolutions: Vec<ConvBn<B>>,
}

impl<B: Backend> Postnet<B> {
    /// The residual the postnet predicts (add it to the decoder's mel frames).
    ///
    /// # Shapes
    /// - `x`: `[batch, n_mel, frames]` → `[batch, n_mel, frames]`
    pub fn forward(&self, mut x: Tensor<B, 3>) -> Tensor<B, 3> {
        let last = self.convolutions.len().saturating_sub(1);
        for (i, conv) in self.convolutions.iter().enumerate() {
            x = conv.forward(x);
            if i < last {
                x = x.tanh();
            }
        }
        x
    }
}
