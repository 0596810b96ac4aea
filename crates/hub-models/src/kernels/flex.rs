//! Reading burn's flex tensors in place and wrapping kernel outputs without a copy.

use std::any::Any;

use burn::prelude::*;
use burn::tensor::{Bytes, DType, TensorPrimitive};
use burn_flex::{FlexTensor, Layout};

/// The contiguous `f32` flex tensor behind `t`, when `B` is flex (else `None`).
pub(super) fn flex_of<B: Backend, const D: usize>(t: &Tensor<B, D>) -> Option<FlexTensor> {
    flex_strided(t).map(|f| f.to_contiguous())
}

/// Wraps a kernel's output as a `Tensor<B, D>` (only called when `B` is flex).
pub(super) fn from_vec<B: Backend, const D: usize>(data: Vec<f32>, shape: [usize; D]) -> Option<Tensor<B, D>> {
    let f = FlexTensor::new(Bytes::from_elems(data), Layout::contiguous(Shape::from(shape.to_vec())), DType::F32);
    let p = (Box::new(f) as Box<dyn Any>).downcast::<B::FloatTensorPrimitive>().ok()?;
    Some(Tensor::from_primitive(TensorPrimitive::Float(*p)))
}

pub(super) fn slice(f: &FlexTensor) -> Option<&[f32]> {
    f.as_slice::<f32>()
}
/// `x` as an owned flex tensor when `B` is flex and the kernels are on (else `x` back).
pub(super) fn into_flex<B: Backend, const D: usize>(x: Tensor<B, D>) -> Result<FlexTensor, Tensor<B, D>> {
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
pub(super) fn map_values<B: Backend, const D: usize>(mut f: FlexTensor, op: impl FnOnce(&mut [f32]) -> Result<(), hub_kernels::KernelError>, dims: [usize; D]) -> Option<Tensor<B, D>> {
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
/// The flex tensor behind `t` as it is (any strides), when `B` is flex and `f32` and the kernels
/// are on.
pub(super) fn flex_strided<B: Backend, const D: usize>(t: &Tensor<B, D>) -> Option<FlexTensor> {
    if !hub_kernels::enabled() {
        return None;
    }
    let TensorPrimitive::Float(p) = t.clone().into_primitive() else { return None };
    let f = (&p as &dyn Any).downcast_ref::<FlexTensor>()?;
    (f.dtype() == DType::F32).then(|| f.clone())
}
