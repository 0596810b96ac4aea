//! The layers that take hub's own CPU kernels ([`hub_kernels`]) on burn's flex backend and burn's
//! ops everywhere else (wgpu, cuda, autodiff, other dtypes): one interface for the models, two
//! paths behind it, equal to parity tolerance (the parity suites run both).
//!
//! On flex the tensors' `f32` buffers are read in place (a safe `Any` downcast of the backend
//! primitive), the kernel writes one new buffer and the result is wrapped without a copy.
//! [`set_enabled`] (or `HUB_KERNELS=off`) forces the portable path; [`init_threads`] sets the
//! thread count of both the kernels and flex.

mod channels;
mod conv;
mod dense;
mod flex;
mod pool;

use burn::nn::BatchNorm;
use burn::prelude::*;
use burn::tensor::activation as act;

pub use hub_kernels::threads::MAX_THREADS;
pub use hub_kernels::{enabled, set_enabled, simd_level, Activation, Pool2dParams, WeightLayout};
pub use channels::{cat_channels, channel_shuffle};
pub use conv::conv2d;
pub(crate) use conv::{forward_sequential, SequentialLayer, Step};
pub use dense::{attention, dense, linear, Dense};
pub use pool::{avg_pool, avg_pool2d, max_pool, max_pool2d};

use flex::{flex_of, into_flex, map_values, slice};

/// Sets the thread count of hub's kernels and burn's flex backend for this process (`None`:
/// `HUB_NUM_THREADS`, else one per physical core) and returns the count in use. Call it before
/// the first forward pass; the count cannot change afterwards.
///
/// # Errors
/// When the pool already runs with another count.
pub fn init_threads(threads: Option<usize>) -> Result<usize, hub_kernels::KernelError> {
    hub_kernels::threads::init(threads)
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

/// `BatchNorm` with running statistics, as PyTorch computes it in eval mode:
/// `x · scale + shift` with `scale = γ/√(var+ε)` and `shift = β − mean·scale` folded per channel
/// first. The channel-wise product runs on `[batch·channels, rest]`, the layout burn's flex
/// backend broadcasts fast (its `[1, C, 1, 1]` broadcast is ~20× slower); with autodiff the
/// module's own forward runs (training statistics).
///
/// # Shapes
/// - x: `[batch, channels, ...]` (rank ≥ 2); output: the same
pub(crate) fn burn_batch_norm<B: Backend, const D: usize>(bn: &BatchNorm<B>, x: Tensor<B, D>) -> Tensor<B, D> {
    if D < 2 || B::ad_enabled(&x.device()) {
        return bn.forward(x);
    }
    let dims = x.dims();
    let (n, c) = (dims[0], dims[1]);
    let rest: usize = dims[2..].iter().product();
    // In PyTorch's order: invstd = 1/√(var+ε), scale = invstd·γ.
    let scale = (bn.running_var.value() + bn.epsilon).sqrt().recip() * bn.gamma.val();
    let shift = bn.beta.val() - bn.running_mean.value() * scale.clone();
    let per_row = |t: Tensor<B, 1>| t.reshape([1, c]).expand([n, c]).reshape([n * c, 1]);
    (x.reshape([n * c, rest]) * per_row(scale) + per_row(shift)).reshape(dims)
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
    burn_activation(burn_batch_norm(bn, x), a)
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

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::Distribution;

    #[test]
    fn batch_norm_matches_burns_module() {
        let device = Default::default();
        let mut bn = burn::nn::BatchNormConfig::new(5).init::<Flex>(&device);
        let r = |shape: [usize; 1], lo: f64| Tensor::<Flex, 1>::random(shape, Distribution::Uniform(lo, 2.0), &device);
        bn.gamma = burn::module::Param::from_tensor(r([5], -1.0));
        bn.beta = burn::module::Param::from_tensor(r([5], -1.0));
        bn.running_mean = burn::module::RunningState::new(r([5], -1.0));
        bn.running_var = burn::module::RunningState::new(r([5], 0.1));
        let x = Tensor::<Flex, 4>::random([3, 5, 4, 6], Distribution::Normal(0.0, 2.0), &device);
        let diff = (burn_batch_norm(&bn, x.clone()) - bn.forward(x)).abs().max().into_scalar();
        assert!(diff < 1e-5, "{diff}");
    }
}
