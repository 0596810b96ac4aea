//! Semantic segmentation: torchvision's FCN, DeepLabV3 and LR-ASPP models.
//!
//! - FCN: Long et al., "Fully Convolutional Networks for Semantic Segmentation" (2015,
//!   <https://arxiv.org/abs/1411.4038>).
//! - DeepLabV3: Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation"
//!   (2017, <https://arxiv.org/abs/1706.05587>).
//! - LR-ASPP: Howard et al., "Searching for MobileNetV3" (2019,
//!   <https://arxiv.org/abs/1905.02244>).
//!
//! Reference implementation: torchvision 0.29 `models/segmentation/{_utils,fcn,deeplabv3,
//! lraspp}.py`. A model is a backbone (a ResNet-50/101 with `replace_stride_with_dilation =
//! [false, true, true]`, output stride 8, or a MobileNetV3-Large with `dilated = true`, output
//! stride 16), a classifier head on its last feature map and, optionally, an FCN auxiliary
//! classifier on an intermediate one. Both outputs are bilinearly upsampled to the input size
//! (`align_corners = false`). The published weights (COCO images, the 20 Pascal VOC classes +
//! background, [`voc::CATEGORIES`]) carry the auxiliary classifier for FCN and DeepLabV3;
//! [`preprocess::SemanticSegmentation`] is their input transform, [`voc`] turns scores into
//! colour-coded masks, overlays and per-class pixel shares.
//!
//! ```no_run
//! use burn::backend::Flex;
//! use hub_models::import::{load_pytorch, ImportOptions};
//! use hub_models::segmentation::{self, preprocess::SemanticSegmentation, voc};
//!
//! let device = Default::default();
//! let model = segmentation::config("deeplabv3_resnet50").unwrap().init::<Flex>(&device);
//! let options = ImportOptions::new().with_remaps(segmentation::weights::remaps());
//! let (model, _) = load_pytorch(model, "deeplabv3_resnet50_coco-cd0a2569.pth", &options)?;
//! let (x, resized) =
//!     SemanticSegmentation::default().from_file::<Flex>("street.jpg".as_ref(), &device)?;
//! let mask = &voc::masks(model.forward(x).out)[0];
//! mask.save_png("mask.png".as_ref())?;
//! mask.overlay(&resized, 0.5)?.save("overlay.png")?;
//! for class in mask.class_shares(&voc::CATEGORIES) {
//!     println!("{:>6.2}%  {}", class.share * 100.0, class.name.unwrap_or("?"));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod block;
pub mod preprocess;
pub mod voc;
pub mod weights;

use std::path::PathBuf;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::vision::mobilenet::{MobileNetV3Arch, MobileNetV3Config};
use crate::vision::resnet;
use block::{
    deeplab_head, fcn_head, resize_bilinear, Backbone, Head, HeadLayer, Layer, LrasppHead,
    MobileNetBackbone,
};

/// Errors of the segmentation pre- and post-processing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SegmentationError {
    /// Reading or transforming an input image failed.
    #[error(transparent)]
    Preprocess(#[from] crate::preprocess::PreprocessError),
    /// Images of one batch have different sizes after resizing (there is no crop).
    #[error("image {index} of the batch is {}x{} after resizing, the first is {}x{}", actual.0, actual.1, expected.0, expected.1)]
    BatchSize {
        /// Position of the offending image in the batch.
        index: usize,
        /// `(width, height)` of the first image after resizing.
        expected: (u32, u32),
        /// `(width, height)` of this one.
        actual: (u32, u32),
    },
    /// A mask and the image to overlay it on differ in size.
    #[error("mask is {}x{} but the image is {}x{}", mask.0, mask.1, image.0, image.1)]
    OverlaySize {
        /// `(width, height)` of the mask.
        mask: (usize, usize),
        /// `(width, height)` of the image.
        image: (usize, usize),
    },
    /// Writing an image file failed.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: image::ImageError,
    },
}

/// Which classifier head a model has.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum HeadKind {
    /// `FCNHead` on the last feature map.
    Fcn,
    /// `DeepLabHead` (ASPP) on the last feature map.
    DeepLabV3,
    /// `LRASPPHead` on the last and an intermediate feature map (no auxiliary classifier).
    Lraspp,
}

/// Which backbone a model has.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum BackboneKind {
    /// ResNet-50, dilated stages 3 and 4.
    ResNet50,
    /// ResNet-101, dilated stages 3 and 4.
    ResNet101,
    /// MobileNetV3-Large, dilated last stage.
    MobileNetV3Large,
}

/// The variant table: id, head, backbone, auxiliary classifier (as the published weights).
const TABLE: &[(&str, HeadKind, BackboneKind, bool)] = &[
    ("fcn_resnet50", HeadKind::Fcn, BackboneKind::ResNet50, true),
    (
        "fcn_resnet101",
        HeadKind::Fcn,
        BackboneKind::ResNet101,
        true,
    ),
    (
        "deeplabv3_resnet50",
        HeadKind::DeepLabV3,
        BackboneKind::ResNet50,
        true,
    ),
    (
        "deeplabv3_resnet101",
        HeadKind::DeepLabV3,
        BackboneKind::ResNet101,
        true,
    ),
    (
        "deeplabv3_mobilenet_v3_large",
        HeadKind::DeepLabV3,
        BackboneKind::MobileNetV3Large,
        true,
    ),
    (
        "lraspp_mobilenet_v3_large",
        HeadKind::Lraspp,
        BackboneKind::MobileNetV3Large,
        false,
    ),
];

/// The entry ids this family builds.
pub const VARIANTS: &[&str] = &[
    "fcn_resnet50",
    "fcn_resnet101",
    "deeplabv3_resnet50",
    "deeplabv3_resnet101",
    "deeplabv3_mobilenet_v3_large",
    "lraspp_mobilenet_v3_large",
];

/// The configuration of a variant (21 VOC classes, auxiliary classifier as in the published
/// weights), or `None` for an unknown id.
pub fn config(id: &str) -> Option<SegmentationConfig> {
    TABLE
        .iter()
        .find(|row| row.0 == id)
        .map(|&(_, head, backbone, aux)| SegmentationConfig::new(head, backbone).with_aux_loss(aux))
}

/// Hyper-parameters of a [`Segmentation`] model.
#[derive(Config, Debug)]
pub struct SegmentationConfig {
    /// The classifier head.
    pub head: HeadKind,
    /// The backbone.
    pub backbone: BackboneKind,
    /// Number of classes, background included (21 for the VOC label set).
    #[config(default = 21)]
    pub num_classes: usize,
    /// Whether the model has the FCN auxiliary classifier (torchvision's `aux_loss`). Ignored
    /// by LR-ASPP, which has none (torchvision refuses `aux_loss=True` there).
    #[config(default = false)]
    pub aux_loss: bool,
    /// Dilation rates of DeepLab's ASPP 3×3 branches.
    #[config(default = "[12, 24, 36]")]
    pub atrous_rates: [usize; 3],
    /// Width of LR-ASPP's intermediate features.
    #[config(default = 128)]
    pub lraspp_inter_channels: usize,
}

impl SegmentationConfig {
    /// Builds the model (parameters are initialised lazily; load weights before use).
    pub fn init<B: Backend>(&self, device: &B::Device) -> Segmentation<B> {
        let (backbone, out_channels, aux_channels) = match self.backbone {
            BackboneKind::ResNet50 | BackboneKind::ResNet101 => {
                let id = if self.backbone == BackboneKind::ResNet50 {
                    "resnet50"
                } else {
                    "resnet101"
                };
                let config = resnet::config(id)
                    .expect("resnet50 and resnet101 are rows of the ResNet table")
                    .with_replace_stride_with_dilation([false, true, true]);
                let channels = |planes: usize| planes * config.block.expansion();
                let backbone = Backbone::ResNet(config.init_backbone(device));
                (backbone, channels(512), channels(256))
            }
            BackboneKind::MobileNetV3Large => {
                let config = MobileNetV3Config::new(MobileNetV3Arch::Large).with_dilated(true);
                let (rows, _) = config.table();
                // torchvision: the stage starts are the stem, the blocks with stride > 1
                // (`_is_cn`, even when dilated) and the last convolution; `aux`/`low` is the
                // fourth from the end (C2, output stride 8). `features[i + 1]` is row `i`.
                let mut stages = vec![0];
                stages.extend(
                    (0..rows.len())
                        .filter(|&i| rows[i].stride > 1)
                        .map(|i| i + 1),
                );
                stages.push(rows.len() + 1);
                let aux_index = stages[stages.len() - 4];
                let aux_channels = rows[aux_index - 1].out_channels;
                let out_channels = config.last_conv_channels();
                let backbone = Backbone::MobileNet(MobileNetBackbone {
                    features: config.init_features(device),
                    aux_index,
                });
                (backbone, out_channels, aux_channels)
            }
        };
        let n = self.num_classes;
        let classifier = match self.head {
            HeadKind::Fcn => Head::Sequential(
                fcn_head(out_channels, n, device)
                    .into_iter()
                    .map(HeadLayer::Layer)
                    .collect(),
            ),
            HeadKind::DeepLabV3 => {
                Head::Sequential(deeplab_head(out_channels, n, &self.atrous_rates, device))
            }
            HeadKind::Lraspp => Head::Lraspp(LrasppHead::new(
                aux_channels,
                out_channels,
                n,
                self.lraspp_inter_channels,
                device,
            )),
        };
        let aux = self.aux_loss && self.head != HeadKind::Lraspp;
        Segmentation {
            backbone,
            classifier,
            aux_classifier: aux.then(|| fcn_head(aux_channels, n, device)),
        }
    }
}

/// The outputs of a [`Segmentation`] model, as torchvision's result dict.
#[derive(Debug, Clone)]
pub struct SegOutput<B: Backend> {
    /// Class scores (logits) per pixel, `[batch, num_classes, height, width]` at the input size.
    pub out: Tensor<B, 4>,
    /// The auxiliary classifier's scores, same shape, when the model has one.
    pub aux: Option<Tensor<B, 4>>,
}

/// An FCN / DeepLabV3 / LR-ASPP model (eval mode). Field names follow torchvision's state-dict
/// keys (`backbone.*`, `classifier.*`, `aux_classifier.*`).
#[derive(Module, Debug)]
pub struct Segmentation<B: Backend> {
    /// The dilated backbone.
    pub backbone: Backbone<B>,
    /// The classifier head.
    pub classifier: Head<B>,
    /// The auxiliary FCN head on the intermediate features.
    pub aux_classifier: Option<Vec<Layer<B>>>,
}

impl<B: Backend> Segmentation<B> {
    /// Per-pixel class scores.
    ///
    /// # Shapes
    /// - input: `[batch, 3, height, width]` (normalised RGB, any size; the published weights
    ///   were trained with the shorter side resized to 520)
    /// - output: [`SegOutput`], `out` and `aux` of shape `[batch, num_classes, height, width]`
    pub fn forward(&self, x: Tensor<B, 4>) -> SegOutput<B> {
        let [_, _, h, w] = x.dims();
        let features = self.backbone.forward(x);
        let out = resize_bilinear(self.classifier.forward(&features), [h, w]);
        let aux = self
            .aux_classifier
            .as_ref()
            .map(|head| resize_bilinear(block::forward_layers(head, features.aux.clone()), [h, w]));
        SegOutput { out, aux }
    }
}


/// The family's registry declaration.
pub const FAMILY: crate::registry::spec::FamilySpec = crate::registry::spec::FamilySpec::of_task(
    "Segmentation",
    crate::registry::task::Task::SemanticSegmentation,
    VARIANTS,
    "Long et al. 2014 (FCN), Chen et al. 2017 (DeepLabV3), Howard et al. 2019 (LR-ASPP); torchvision/models/segmentation",
)
.with_input_size(520)
.with_remaps(weights::remaps);

/// Builds the model `id` with random weights; the manifest config may set `num_classes` and
/// `aux_loss`.
pub fn build<B: Backend>(id: &str, entry: &str, config: &toml::Table, _checkpoint: Option<&std::path::Path>, device: &B::Device) -> crate::Result<Segmentation<B>> {
    let mut c = self::config(id).ok_or_else(|| crate::error::Error::UnknownArchitecture { architecture: id.to_owned() })?;
    for (key, value) in config {
        match key.as_str() {
            "num_classes" => c.num_classes = crate::registry::config::positive_at_most(entry, key, value, crate::registry::config::limits::MAX_CLASSES)?,
            "aux_loss" => c.aux_loss = crate::registry::config::bool_value(entry, key, value)?,
            _ => return Err(crate::registry::config::unknown_key(entry, key, "segmentation", &["num_classes", "aux_loss"])),
        }
    }
    Ok(c.init(device))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::Distribution;

    type B = Flex;

    #[test]
    fn outputs_have_the_input_size() {
        let device = Default::default();
        for id in ["deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"] {
            let model = config(id).unwrap().with_num_classes(5).init::<B>(&device);
            let x = Tensor::<B, 4>::random([2, 3, 45, 70], Distribution::Normal(0.0, 1.0), &device);
            let y = model.forward(x);
            assert_eq!(y.out.dims(), [2, 5, 45, 70], "{id}");
            assert_eq!(
                y.aux.map(|a| a.dims()),
                config(id).unwrap().aux_loss.then_some([2, 5, 45, 70])
            );
        }
        let model = config("fcn_resnet50")
            .unwrap()
            .with_aux_loss(false)
            .init::<B>(&device);
        let y = model.forward(Tensor::zeros([1, 3, 33, 41], &device));
        assert_eq!(y.out.dims(), [1, 21, 33, 41]);
        assert!(y.aux.is_none());
    }

    #[test]
    fn mobilenet_backbone_taps_c2() {
        let device = Default::default();
        let model = config("lraspp_mobilenet_v3_large")
            .unwrap()
            .init::<B>(&device);
        let Backbone::MobileNet(m) = &model.backbone else {
            panic!("mobilenet backbone expected")
        };
        // torchvision: stage indices [0, 2, 4, 7, 13, 16], low = C2 = features[4] (40 channels).
        assert_eq!(m.aux_index, 4);
        assert_eq!(m.features.len(), 17);
        let features = model
            .backbone
            .forward(Tensor::zeros([1, 3, 64, 96], &device));
        assert_eq!(features.aux.dims(), [1, 40, 8, 12]);
        assert_eq!(features.out.dims(), [1, 960, 4, 6]);
    }
}
