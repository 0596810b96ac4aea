//! Image classification architectures (torchvision's model families).
//!
//! Every family folder has the same layout: `mod.rs` (model, config and the variant table),
//! `block.rs` (building blocks), `weights.rs` (key remaps from PyTorch state-dict names).

pub mod alexnet;
pub mod convnext;
pub mod densenet;
pub mod efficientnet;
pub mod googlenet;
pub mod inception;
pub mod layers;
pub mod mnasnet;
pub mod mobilenet;
pub mod regnet;
pub mod resnet;
pub mod shufflenet;
pub mod squeezenet;
pub mod vgg;
pub mod vit;

