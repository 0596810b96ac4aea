//! The parameters a model expects, in PyTorch's names and layout, listed without initialising
//! lazy parameters.

use std::rc::Rc;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, DType, Element, Int, Shape, Tensor};
use burn_store::{BurnToPyTorchAdapter, ModuleAdapter, TensorSnapshot, TensorSnapshotError};

/// One parameter of the model, as burn names it and as a PyTorch file would.
pub(super) struct Expected {
    /// Path in the burn module (`bn.gamma`).
    pub(super) burn_path: String,
    /// PyTorch name (`bn.weight`); equal to `burn_path` except for norm layers.
    pub(super) torch_path: String,
    /// Shape in PyTorch layout (`nn.Linear` weights transposed back to `[out, in]`).
    pub(super) torch_shape: Vec<usize>,
    pub(super) dtype: DType,
}

/// Lists the model's parameters without initialising lazy ones (a `collect` would run every
/// random initialiser of, say, VGG's 140M parameters just to throw the values away).
struct ParamLister<B: Backend> {
    path: Vec<String>,
    containers: Vec<String>,
    found: Vec<Expected>,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> ModuleVisitor<B> for ParamLister<B> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.containers.push(container_type.to_string());
        // PyTorch paths never name enum variants (burn-store's `skip_enum_variants`).
        if !container_type.starts_with("Enum:") {
            self.path.push(name.to_string());
        }
    }

    fn exit_module(&mut self, _name: &str, container_type: &str) {
        self.containers.pop();
        if !container_type.starts_with("Enum:") {
            self.path.pop();
        }
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        // Lazy parameters are created in the backend's default float (int) type.
        let dtype = param.is_initialized().then(|| param.val().dtype());
        self.push(param.lazy_shape(), dtype.unwrap_or_else(<B::FloatElem as Element>::dtype));
    }

    fn visit_int<const D: usize>(&mut self, param: &Param<Tensor<B, D, Int>>) {
        let dtype = param.is_initialized().then(|| param.val().dtype());
        self.push(param.lazy_shape(), dtype.unwrap_or_else(<B::IntElem as Element>::dtype));
    }

    fn visit_bool<const D: usize>(&mut self, param: &Param<Tensor<B, D, Bool>>) {
        self.push(param.lazy_shape(), param.val().dtype());
    }
}

impl<B: Backend> ParamLister<B> {
    fn push(&mut self, shape: Shape, dtype: DType) {
        // A data-less snapshot run through burn-store's own Burn→PyTorch adapter gives the
        // PyTorch name and shape exactly as the loading adapter will expect them.
        let snapshot = TensorSnapshot::from_closure(
            Rc::new(|| {
                Err(TensorSnapshotError::DataError(
                    "shape-only snapshot".to_string(),
                ))
            }),
            dtype,
            shape,
            self.path.clone(),
            self.containers.clone(),
            ParamId::new(),
        );
        let torch = BurnToPyTorchAdapter.adapt(&snapshot);
        self.found.push(Expected {
            burn_path: snapshot.full_path(),
            torch_path: torch.full_path(),
            torch_shape: torch.shape.to_vec(),
            dtype,
        });
    }
}

pub(super) fn expected_params<B: Backend, M: Module<B>>(model: &M) -> Vec<Expected> {
    let mut lister = ParamLister::<B> {
        path: Vec::new(),
        containers: Vec::new(),
        found: Vec::new(),
        _backend: core::marker::PhantomData,
    };
    model.visit(&mut lister);
    lister.found
}

/// The PyTorch state-dict keys and shapes that `model` loads from, in module order (BatchNorm
/// parameters as `weight`/`bias`, `nn.Linear` weights as `[out, in]`, running statistics
/// included). No lazy parameter is initialised, so this is cheap even for large models.
pub fn state_dict_shapes<B: Backend, M: Module<B>>(model: &M) -> Vec<(String, Vec<usize>)> {
    expected_params(model)
        .into_iter()
        .map(|p| (p.torch_path, p.torch_shape))
        .collect()
}

/// The number of learnable parameters as PyTorch counts them (`sum(p.numel() for p in
/// model.parameters())`): BatchNorm running statistics are buffers, not parameters. Cheap: no
/// lazy parameter is initialised.
pub fn parameter_count<B: Backend, M: Module<B>>(model: &M) -> usize {
    state_dict_shapes(model)
        .into_iter()
        .filter(|(key, _)| !key.ends_with(".running_mean") && !key.ends_with(".running_var"))
        .map(|(_, shape)| shape.iter().product::<usize>())
        .sum()
}
