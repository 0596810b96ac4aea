//! The layers that take hub's own CPU kernels ([`hub_kernels`]) on burn's flex backend and burn's
//! ops everywhere else (wgpu, cuda, autodiff, other dtypes): one interface for the models, two
//! paths behind it, equal to parity tolerance (the parity suites run both).
//!
//! On flex the tensors' `f32` buffers are read in place (a safe `Any` downcast of the backend
//! primitive), the kernel writes one new buffer and the result is wrapped without a copy.
//! [`set_enabled`] (or `HUB_KERNELS=off`) forces the portable path; [`init_threads`] sets the
//! thread count of both the kernels and flex.

use std::any::Any;

use burn::nn::conv::Conv2d;
use burn::nn::pool::{AvgPool2d, MaxPool2d};
use burn::nn::{BatchNorm, Linear, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation as act;
use burn::tensor::{Bool, Bytes, DType, TensorPrimitive};
use burn_flex::{FlexTensor, Layout};

pub use hub_kernels::threads::MAX_THREADS;
pub use hub_kernels::{enabled, set_enabled, simd_level, Activation, Pool2dParams, WeightLayout};

/// Sets the thread count of hub's kernels and burn's flex backend for this process (`None`:
/// `HUB_NUM_THREADS`, else one per physical core) and returns the count in use. Call it before
/// the first forward pass; the count cannot change afterwards.
///
/// # Errors
/// When the pool already runs with another count.
pub fn init_threads(threads: Option<usize>) -> Result<usize, hub_kernels::KernelError> {
    hub_kernels::threads::init(threads)
}

/// The contiguous `f32` flex tensor behind `t`, when `B` is flex (else `None`).
fn flex_of<B: Backend, const D: usize>(t: &Tensor<B, D>) -> Option<FlexTensor> {
    flex_strided(t).map(|f| f.to_contiguous())
}

/// Wraps a kernel's output as a `Tensor<B, D>` (only called when `B` is flex).
fn from_vec<B: Backend, const D: usize>(data: Vec<f32>, shape: [usize; D]) -> Option<Tensor<B, D>> {
    let f = FlexTensor::new(Bytes::from_elems(data), Layout::contiguous(Shape::from(shape.to_vec())), DType::F32);
    let p = (Box::new(f) as Box<dyn Any>).downcast::<B::FloatTensorPrimitive>().ok()?;
    Some(Tensor::from_primitive(TensorPrimitive::Float(*p)))
}

fn slice(f: &FlexTensor) -> Option<&[f32]> {
    f.as_slice::<f32>()
}

/// `act` with burn's ops (the portable path, and MobileNet's own activations).
pub(crate) fn burn_activation<B: Backend, const D: usize>(x: Tensor<B, D>, a: Activation) -> Tensor<B, D> {
    match a {
        Activation::Relu => act::relu(x),
        Activation::Relu6 => x.clamp(0.0, 6.0),
        Activation::Silu => act::silu(x),
        Activation::HardSwish => act::hard_swish(x),
        Activation::HardSigmoid => act::hard_sigmoid(x, 1.0 / 6.0, 0.5),
        Activation::Sigmoid => act::sigmoid(x),
        Activation::Gelu => act::gelu(x),
        Activation::GeluTanh => act::gelu_approximate(x),
        Activation::Tanh => act::tanh(x),
        // `None` and any later addition without a burn counterpart here.
        _ => x,
    }
}

/// `x` as an owned flex tensor when `B` is flex and the kernels are on (else `x` back).
fn into_flex<B: Backend, const D: usize>(x: Tensor<B, D>) -> Result<FlexTensor, Tensor<B, D>> {
    if !hub_kernels::enabled() {
        return Err(x);
    }
    let TensorPrimitive::Float(p) = x.into_primitive() else { unreachable!("float tensors hold float primitives") };
    match (Box::new(p) as Box<dyn Any>).downcast::<FlexTensor>() {
        Ok(f) if f.dtype() == DType::F32 => Ok(*f),
        Ok(f) => Err(back::<B, D>(*f)),
        Err(p) => match p.downcast::<B::FloatTensorPrimitive>() {
            Ok(p) => Err(Tensor::from_primitive(TensorPrimitive::Float(*p))),
            Err(_) => unreachable!("the primitive was just boxed as B::FloatTensorPrimitive"),
        },
    }
}

/// A flex tensor back as `Tensor<B, D>` (only called when `B` is flex).
fn back<B: Backend, const D: usize>(f: FlexTensor) -> Tensor<B, D> {
    match (Box::new(f) as Box<dyn Any>).downcast::<B::FloatTensorPrimitive>() {
        Ok(p) => Tensor::from_primitive(TensorPrimitive::Float(*p)),
        Err(_) => unreachable!("only flex tensors come back"),
    }
}

/// Runs `f` on the values of `x`, in place when `x` owns its whole contiguous buffer, else on
/// a contiguous copy.
fn map_values<B: Backend, const D: usize>(mut f: FlexTensor, op: impl FnOnce(&mut [f32]) -> Result<(), hub_kernels::KernelError>, dims: [usize; D]) -> Option<Tensor<B, D>> {
    let n: usize = dims.iter().product();
    let whole = f.is_contiguous() && f.layout().start_offset() == 0 && f.bytes().len() == n * 4;
    if whole {
        if let Some(values) = f.try_storage_mut::<f32>() {
            op(values).ok()?;
            return Some(back::<B, D>(f));
        }
    }
    let mut values = f.to_contiguous().as_slice::<f32>()?.to_vec();
    op(&mut values).ok()?;
    from_vec::<B, D>(values, dims)
}

/// `act(x)` elementwise; on flex one vectorised pass (in place when `x` is not shared).
///
/// # Shapes
/// - x: any; output: the same
pub fn activation<B: Backend, const D: usize>(x: Tensor<B, D>, a: Activation) -> Tensor<B, D> {
    if a == Activation::None {
        return x;
    }
    let dims = x.dims();
    match into_flex(x) {
        Ok(f) => map_values(f, |v| {
            hub_kernels::act::apply(a, v);
            Ok(())
        }, dims)
        .unwrap_or_else(|| unreachable!("a contiguous f32 flex tensor maps in place or as a copy")),
        Err(x) => burn_activation(x, a),
    }
}

/// `act(bn(x))`: an inference BatchNorm and activation in one pass on flex (DenseNet's
/// pre-activation layers); with burn's ops elsewhere.
///
/// # Shapes
/// - x: `[batch, channels, ...]`; output: the same
pub fn batch_norm<B: Backend, const D: usize>(bn: &BatchNorm<B>, mut x: Tensor<B, D>, a: Activation) -> Tensor<B, D> {
    let dims = x.dims();
    if let Some((scale, shift)) = bn_affine(bn).filter(|(s, _)| D >= 2 && s.len() == dims[1]) {
        let plane: usize = dims[2..].iter().product();
        let e = hub_kernels::Epilogue { affine: Some((&scale, &shift)), activation: a, ..Default::default() };
        match into_flex(x) {
            Ok(f) => {
                return map_values(f, |v| hub_kernels::act::epilogue_nchw(v, dims[1], plane, &e), dims)
                    .unwrap_or_else(|| unreachable!("the channel count was checked"))
            }
            Err(not_flex) => x = not_flex,
        }
    }
    burn_activation(crate::vision::batch_norm(bn, x), a)
}

/// Folds an inference BatchNorm into per-channel `(scale, shift)` in PyTorch's order
/// (`scale = γ · 1/√(var+ε)`, `shift = β − mean·scale`).
fn bn_affine<B: Backend>(bn: &BatchNorm<B>) -> Option<(Vec<f32>, Vec<f32>)> {
    let get = |t: Tensor<B, 1>| flex_of(&t).and_then(|f| slice(&f).map(<[f32]>::to_vec));
    let (gamma, beta) = (get(bn.gamma.val())?, get(bn.beta.val())?);
    let (mean, var) = (get(bn.running_mean.value())?, get(bn.running_var.value())?);
    let eps = bn.epsilon as f32;
    let scale: Vec<f32> = var.iter().zip(&gamma).map(|(v, g)| (v + eps).sqrt().recip() * g).collect();
    let shift = beta.iter().zip(&mean).zip(&scale).map(|((b, m), s)| b - m * s).collect();
    Some((scale, shift))
}

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
        y = crate::vision::batch_norm(bn, y);
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

/// `act(linear(x))`: a fully connected layer with its bias and activation fused on flex.
///
/// # Shapes
/// - x: `[..., d_in]`; output: `[..., d_out]`
pub fn linear<B: Backend, const D: usize>(layer: &Linear<B>, x: Tensor<B, D>, a: Activation) -> Tensor<B, D> {
    dense(&[Dense::of(layer)], x, None, a)
}

/// One projection `x · weight + bias` of [`dense`]: a burn [`Linear`], a weight stored
/// `[in, out]` (GPT-2's `Conv1D`) or one stored `[out, in]` (a tied embedding matrix).
#[derive(Debug, Clone)]
pub struct Dense<B: Backend> {
    /// `[d_in, d_out]` or `[d_out, d_in]` by `layout`.
    pub weight: Tensor<B, 2>,
    /// `[d_out]`.
    pub bias: Option<Tensor<B, 1>>,
    /// How `weight` is laid out.
    pub layout: WeightLayout,
}

impl<B: Backend> Dense<B> {
    /// The weight and bias of a burn `Linear` (stored `[in, out]`).
    pub fn of(layer: &Linear<B>) -> Self {
        Self { weight: layer.weight.val(), bias: layer.bias.as_ref().map(|b| b.val()), layout: WeightLayout::InOut }
    }

    /// `[d_in, d_out]` as stored, when the layout is `[out, in]` (its transpose).
    fn in_out_dims(&self) -> [usize; 2] {
        let [a, b] = self.weight.dims();
        match self.layout {
            WeightLayout::InOut => [a, b],
            WeightLayout::OutIn => [b, a],
        }
    }
}

/// `act([x·W₁ + b₁ | x·W₂ + b₂ | …] + residual)`: several projections of the same input side by
/// side (a transformer's query, key and value as one), then the residual and the activation,
/// in one pass on flex; burn's `linear`, `cat`, add and activation elsewhere.
///
/// # Shapes
/// - x: `[..., d_in]`; each weight `[d_in, d_k]`; residual: the output's shape
/// - output: `[..., Σ d_k]`
pub fn dense<B: Backend, const D: usize>(parts: &[Dense<B>], x: Tensor<B, D>, residual: Option<Tensor<B, D>>, a: Activation) -> Tensor<B, D> {
    if let Some(y) = dense_flex(parts, &x, residual.as_ref(), a) {
        return y;
    }
    let in_out = |p: &Dense<B>| match p.layout {
        WeightLayout::InOut => p.weight.clone(),
        WeightLayout::OutIn => p.weight.clone().transpose(),
    };
    let mut ys: Vec<Tensor<B, D>> = parts.iter().map(|p| burn::tensor::module::linear(x.clone(), in_out(p), p.bias.clone())).collect();
    let mut y = if ys.len() == 1 { ys.remove(0) } else { Tensor::cat(ys, D - 1) };
    if let Some(r) = residual {
        y = y + r;
    }
    burn_activation(y, a)
}

fn dense_flex<B: Backend, const D: usize>(parts: &[Dense<B>], x: &Tensor<B, D>, residual: Option<&Tensor<B, D>>, a: Activation) -> Option<Tensor<B, D>> {
    let xf = flex_of(x)?;
    let dims = x.dims();
    let d_in = dims[D - 1];
    let weights: Vec<FlexTensor> = parts.iter().map(|p| flex_of(&p.weight)).collect::<Option<_>>()?;
    let biases: Vec<Option<FlexTensor>> = parts
        .iter()
        .map(|p| match &p.bias {
            Some(b) => flex_of(b).map(Some),
            None => Some(None),
        })
        .collect::<Option<_>>()?;
    let mut kparts = Vec::with_capacity(parts.len());
    for ((p, w), b) in parts.iter().zip(&weights).zip(&biases) {
        let [w_in, d_out] = p.in_out_dims();
        if w_in != d_in {
            return None;
        }
        let bias = match b {
            Some(b) => Some(slice(b)?),
            None => None,
        };
        kparts.push(hub_kernels::LinearPart { weight: slice(w)?, d_out, layout: p.layout, bias });
    }
    let res = match residual {
        Some(r) => Some(flex_of(r)?),
        None => None,
    };
    let res_slice = match &res {
        Some(r) => Some(slice(r)?),
        None => None,
    };
    let rows = dims[..D - 1].iter().product();
    let out = hub_kernels::linear_fused(slice(&xf)?, rows, d_in, &kparts, res_slice, a).ok()?;
    let mut shape = dims;
    shape[D - 1] = kparts.iter().map(|p| p.d_out).sum();
    from_vec::<B, D>(out, shape)
}

/// `softmax(q·kᵀ/√head_dim, masked)·v` with the heads merged: on flex one kernel that reads `q`,
/// `k` and `v` in place whatever their strides (heads split from a fused projection, a key/value
/// cache) with masked scores at `f32::MIN` as `transformers` sets them; burn's ops elsewhere.
///
/// # Shapes
/// - q: `[batch, heads, q_len, head_dim]`, k and v: `[batch, heads, k_len, head_dim]`
/// - mask: `[batch, 1, q_len or 1, k_len]`, `true` where attention is *not* allowed
/// - output: `[batch, q_len, heads·head_dim]`
pub fn attention<B: Backend>(q: Tensor<B, 4>, k: Tensor<B, 4>, v: Tensor<B, 4>, mask: Option<Tensor<B, 4, Bool>>) -> Tensor<B, 3> {
    if let Some(y) = attention_flex(&q, &k, &v, mask.as_ref()) {
        return y;
    }
    crate::text::merge_heads(crate::text::attention(q, k, v, mask))
}

/// The flex tensor behind `t` as it is (any strides), when `B` is flex and `f32` and the kernels
/// are on.
fn flex_strided<B: Backend, const D: usize>(t: &Tensor<B, D>) -> Option<FlexTensor> {
    if !hub_kernels::enabled() {
        return None;
    }
    let TensorPrimitive::Float(p) = t.clone().into_primitive() else { return None };
    let f = (&p as &dyn Any).downcast_ref::<FlexTensor>()?;
    (f.dtype() == DType::F32).then(|| f.clone())
}

fn heads_of(f: &FlexTensor) -> Option<hub_kernels::Heads<'_>> {
    let l = f.layout();
    let dims: [usize; 4] = l.shape().to_vec().try_into().ok()?;
    let strides: Vec<usize> = l.strides().iter().map(|&s| usize::try_from(s).ok()).collect::<Option<_>>()?;
    Some(hub_kernels::Heads { data: f.storage::<f32>(), offset: l.start_offset(), dims, strides: strides.try_into().ok()? })
}

fn attention_flex<B: Backend>(q: &Tensor<B, 4>, k: &Tensor<B, 4>, v: &Tensor<B, 4>, mask: Option<&Tensor<B, 4, Bool>>) -> Option<Tensor<B, 3>> {
    let (qf, kf, vf) = (flex_strided(q)?, flex_strided(k)?, flex_strided(v)?);
    let [batch, heads, q_len, hd] = q.dims();
    let m = match mask {
        Some(m) => {
            let [mb, mh, mq, mk] = m.dims();
            if mh != 1 {
                return None;
            }
            Some((m.clone().into_data().to_vec::<bool>().ok()?, [mb, mq, mk]))
        }
        None => None,
    };
    let kmask = m.as_ref().map(|(data, dims)| hub_kernels::Mask { data, dims: *dims });
    let scale = 1.0 / (hd as f32).sqrt();
    let out = hub_kernels::attention(&heads_of(&qf)?, &heads_of(&kf)?, &heads_of(&vf)?, kmask.as_ref(), scale).ok()?;
    from_vec::<B, 3>(out, [batch, q_len, heads * hd])
}

/// Symmetric padding `[ph, pw]` of a pooling layer, when it has one (`Same` and asymmetric
/// padding are left to burn).
fn pool_padding(p: &PaddingConfig2d) -> Option<[usize; 2]> {
    match *p {
        PaddingConfig2d::Valid => Some([0, 0]),
        PaddingConfig2d::Explicit(t, l, b, r) if t == b && l == r => Some([t, l]),
        _ => None,
    }
}

fn pool_flex<B: Backend>(x: &Tensor<B, 4>, kind: hub_kernels::PoolKind, params: hub_kernels::Pool2dParams) -> Option<Tensor<B, 4>> {
    let xf = flex_of(x)?;
    let (out, shape) = hub_kernels::pool2d(slice(&xf)?, x.dims(), kind, params).ok()?;
    from_vec::<B, 4>(out, shape)
}

/// `max_pool2d(x)` (PyTorch's arguments: padding on both sides, NaN propagating): one pass per
/// plane on flex, burn's op elsewhere.
///
/// # Shapes
/// - x: `[batch, channels, h, w]`; output: `[batch, channels, h', w']`
pub fn max_pool<B: Backend>(x: Tensor<B, 4>, p: hub_kernels::Pool2dParams) -> Tensor<B, 4> {
    pool_flex(&x, hub_kernels::PoolKind::Max, p)
        .unwrap_or_else(|| burn::tensor::module::max_pool2d(x, p.kernel, p.stride, p.padding, p.dilation, p.ceil_mode))
}

/// `avg_pool2d(x)` (PyTorch's arguments, `count_include_pad` as given): one pass per plane on
/// flex, burn's op elsewhere.
///
/// # Shapes
/// - x: `[batch, channels, h, w]`; output: `[batch, channels, h', w']`
pub fn avg_pool<B: Backend>(x: Tensor<B, 4>, p: hub_kernels::Pool2dParams, count_include_pad: bool) -> Tensor<B, 4> {
    pool_flex(&x, hub_kernels::PoolKind::Avg { count_include_pad }, p)
        .unwrap_or_else(|| burn::tensor::module::avg_pool2d(x, p.kernel, p.stride, p.padding, count_include_pad, p.ceil_mode))
}

/// [`max_pool`] with a burn `MaxPool2d` layer's window.
pub fn max_pool2d<B: Backend>(pool: &MaxPool2d, x: Tensor<B, 4>) -> Tensor<B, 4> {
    match pool_padding(&pool.padding) {
        Some(padding) => max_pool(x, hub_kernels::Pool2dParams { kernel: pool.kernel_size, stride: pool.stride, padding, dilation: pool.dilation, ceil_mode: pool.ceil_mode }),
        None => pool.forward(x),
    }
}

/// [`avg_pool`] with a burn `AvgPool2d` layer's window.
pub fn avg_pool2d<B: Backend>(pool: &AvgPool2d, x: Tensor<B, 4>) -> Tensor<B, 4> {
    match pool_padding(&pool.padding) {
        Some(padding) => avg_pool(x, hub_kernels::Pool2dParams { kernel: pool.kernel_size, stride: pool.stride, padding, dilation: [1, 1], ceil_mode: pool.ceil_mode }, pool.count_include_pad),
        None => pool.forward(x),
    }
}

/// `torch.cat(parts, 1)` for NCHW tensors: plane copies on flex, burn's `cat` elsewhere.
///
/// # Shapes
/// - parts: `[batch, c_i, h, w]`; output: `[batch, Σ c_i, h, w]`
pub fn cat_channels<B: Backend>(parts: Vec<Tensor<B, 4>>) -> Tensor<B, 4> {
    cat_flex(&parts).unwrap_or_else(|| Tensor::cat(parts, 1))
}

fn cat_flex<B: Backend>(parts: &[Tensor<B, 4>]) -> Option<Tensor<B, 4>> {
    let [n, _, h, w] = parts.first()?.dims();
    let flex: Vec<FlexTensor> = parts.iter().map(flex_of).collect::<Option<_>>()?;
    let mut views = Vec::with_capacity(parts.len());
    for (t, f) in parts.iter().zip(&flex) {
        let [tn, c, th, tw] = t.dims();
        if (tn, th, tw) != (n, h, w) {
            return None;
        }
        views.push((slice(f)?, c));
    }
    let out = hub_kernels::cat_channels(&views, n, h * w).ok()?;
    from_vec::<B, 4>(out, [n, views.iter().map(|v| v.1).sum(), h, w])
}

/// ShuffleNet's channel shuffle (`[n, g, c/g, h, w]` transposed to `[n, c/g, g, h, w]`): plane
/// copies on flex, a reshape and transpose elsewhere.
///
/// # Shapes
/// - x: `[batch, channels, h, w]`, `channels` a multiple of `groups`; output: the same
pub fn channel_shuffle<B: Backend>(x: Tensor<B, 4>, groups: usize) -> Tensor<B, 4> {
    let dims = x.dims();
    let fast = flex_of(&x)
        .and_then(|f| slice(&f).and_then(|v| hub_kernels::channel_shuffle(v, dims, groups).ok()))
        .and_then(|out| from_vec::<B, 4>(out, dims));
    fast.unwrap_or_else(|| {
        let [n, c, h, w] = dims;
        x.reshape([n, groups, c / groups, h, w]).swap_dims(1, 2).reshape([n, c, h, w])
    })
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
