//! Convolutions with their BatchNorm, residual and activation fused, and the convolutional
//! sequentials built from them.

use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, PaddingConfig2d};
use burn::prelude::*;

use super::flex::{flex_of, from_vec, slice};
use super::{activation, bn_affine, burn_activation, Activation};

/// `act(bn(conv(x)) + residual)`: a convolution with its inference BatchNorm, residual add and
/// activation fused into one pass on flex; each step with burn's ops elsewhere (under autodiff
/// the BatchNorm uses batch statistics, as burn's module does in training).
///
/// # Shapes
/// - x: `[batch, c_in, h, w]`; residual: the output's shape
/// - output: `[batch, c_out, h', w']` (the convolution's output)
pub fn conv2d<B: Backend>(
    conv: &Conv2d<B>,
    bn: Option<&BatchNorm<B>>,
    x: Tensor<B, 4>,
    residual: Option<Tensor<B, 4>>,
    a: Activation,
) -> Tensor<B, 4> {
    if let Some(y) = conv2d_flex(conv, bn, &x, residual.as_ref(), a) {
        return y;
    }
    let mut y = conv.forward(x);
    if let Some(bn) = bn {
        y = crate::kernels::burn_batch_norm(bn, y);
    }
    if let Some(r) = residual {
        y = y + r;
    }
    burn_activation(y, a)
}

fn conv2d_flex<B: Backend>(
    conv: &Conv2d<B>,
    bn: Option<&BatchNorm<B>>,
    x: &Tensor<B, 4>,
    residual: Option<&Tensor<B, 4>>,
    a: Activation,
) -> Option<Tensor<B, 4>> {
    let padding = match conv.padding {
        PaddingConfig2d::Valid => [0; 4],
        PaddingConfig2d::Explicit(t, l, b, r) => [t, l, b, r],
        // "Same" depends on the input size as burn computes it: leave it to burn.
        PaddingConfig2d::Same => return None,
    };
    let xf = flex_of(x)?;
    let weight = conv.weight.val();
    let wf = flex_of(&weight)?;
    let bias = match &conv.bias {
        Some(b) => Some(flex_of(&b.val())?),
        None => None,
    };
    let affine = match bn {
        Some(bn) => Some(bn_affine(bn)?),
        None => None,
    };
    let res = match residual {
        Some(r) => Some(flex_of(r)?),
        None => None,
    };
    let params = hub_kernels::Conv2dParams { stride: conv.stride, padding, dilation: conv.dilation, groups: conv.groups };
    let epilogue = hub_kernels::Epilogue {
        bias: match &bias {
            Some(b) => Some(slice(b)?),
            None => None,
        },
        affine: affine.as_ref().map(|(s, t)| (&s[..], &t[..])),
        residual: match &res {
            Some(r) => Some(slice(r)?),
            None => None,
        },
        activation: a,
    };
    let (out, shape) = hub_kernels::conv2d(slice(&xf)?, x.dims(), slice(&wf)?, weight.dims(), params, &epilogue).ok()?;
    from_vec::<B, 4>(out, shape)
}
/// What one layer of a convolutional `nn.Sequential` is, as [`forward_sequential`] sees it.
pub(crate) enum Step<'a, B: Backend> {
    /// A bare convolution.
    Conv(&'a Conv2d<B>),
    /// A BatchNorm (it fuses into the convolution before it).
    Norm(&'a BatchNorm<B>),
    /// An activation (it fuses into the convolution before it).
    Act(Activation),
    /// A convolution already grouped with its BatchNorm and activation.
    ConvNormAct(&'a Conv2d<B>, Option<&'a BatchNorm<B>>, Activation),
    /// Anything else (pooling, dropout, attention…): run with its own `forward`.
    Other,
}

/// A layer of a convolutional sequential that [`forward_sequential`] can run.
pub(crate) trait SequentialLayer<B: Backend> {
    /// What the layer is.
    fn step(&self) -> Step<'_, B>;
    /// Runs the layer alone.
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4>;
}

/// Runs `layers` in order, then adds `residual`: a convolution with the BatchNorm and the
/// activation after it runs as one [`conv2d`], and the residual joins the last such layer when
/// no activation follows it (`act(y) + r` is not `act(y + r)`).
///
/// # Shapes
/// - x: `[batch, c_in, h, w]`; residual: the output's shape
/// - output: the last layer's output
pub(crate) fn forward_sequential<B: Backend, L: SequentialLayer<B>>(layers: &[L], mut x: Tensor<B, 4>, mut residual: Option<Tensor<B, 4>>) -> Tensor<B, 4> {
    let mut i = 0;
    while i < layers.len() {
        let (conv, bn, act, next) = match layers[i].step() {
            Step::ConvNormAct(conv, bn, act) => (conv, bn, act, i + 1),
            Step::Conv(conv) => {
                let (bn, mut next) = match layers.get(i + 1).map(|l| l.step()) {
                    Some(Step::Norm(bn)) => (Some(bn), i + 2),
                    _ => (None, i + 1),
                };
                let act = match layers.get(next).map(|l| l.step()) {
                    Some(Step::Act(a)) => {
                        next += 1;
                        a
                    }
                    _ => Activation::None,
                };
                (conv, bn, act, next)
            }
            Step::Act(a) => {
                x = activation(x, a);
                i += 1;
                continue;
            }
            Step::Norm(_) | Step::Other => {
                x = layers[i].forward(x);
                i += 1;
                continue;
            }
        };
        let r = if next == layers.len() && act == Activation::None { residual.take() } else { None };
        x = conv2d(conv, bn, x, r, act);
        i = next;
    }
    match residual {
        Some(r) => x + r,
        None => x,
    }
}
