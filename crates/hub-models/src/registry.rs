//! The one registry of architectures: the CLI, the built-in manifests, the docs and the tests all
//! read it, and building a model from an architecture id happens in exactly one `match` here.

use std::path::Path;

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use burn_store::{BurnpackStore, ModuleSnapshot};

use crate::error::{Error, Result};
use crate::import::{self, ImportOptions, ImportReport};
use crate::vision::{alexnet, densenet, efficientnet, googlenet, inception, mobilenet, resnet, shufflenet, squeezenet, vgg};

/// What a model does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Task {
    /// Image in, class scores out.
    ImageClassification,
}

impl Task {
    /// The manifest's name of the task.
    pub fn as_str(self) -> &'static str {
        match self {
            Task::ImageClassification => "image-classification",
        }
    }
}

/// A model family: one folder of `vision/` (or of the other task folders).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Family {
    /// AlexNet.
    AlexNet,
    /// VGG with and without batch norm.
    Vgg,
    /// ResNet, ResNeXt and Wide ResNet.
    ResNet,
    /// DenseNet.
    DenseNet,
    /// SqueezeNet.
    SqueezeNet,
    /// GoogLeNet (Inception v1).
    GoogLeNet,
    /// Inception v3.
    InceptionV3,
    /// ShuffleNet v2.
    ShuffleNetV2,
    /// MobileNet v2 and v3.
    MobileNet,
    /// EfficientNet B0–B7 and V2.
    EfficientNet,
    /// EfficientNet-Lite (lukemelas-style key names, TF "SAME" padding).
    EfficientNetLite,
}

impl Family {
    /// Every family.
    pub const ALL: &'static [Family] = &[
        Family::AlexNet,
        Family::Vgg,
        Family::ResNet,
        Family::DenseNet,
        Family::SqueezeNet,
        Family::GoogLeNet,
        Family::InceptionV3,
        Family::ShuffleNetV2,
        Family::MobileNet,
        Family::EfficientNet,
        Family::EfficientNetLite,
    ];

    /// The architecture ids of the family.
    pub fn variants(self) -> &'static [&'static str] {
        match self {
            Family::AlexNet => alexnet::VARIANTS,
            Family::Vgg => vgg::VARIANTS,
            Family::ResNet => resnet::VARIANTS,
            Family::DenseNet => densenet::VARIANTS,
            Family::SqueezeNet => squeezenet::VARIANTS,
            Family::GoogLeNet => googlenet::VARIANTS,
            Family::InceptionV3 => inception::VARIANTS,
            Family::ShuffleNetV2 => shufflenet::VARIANTS,
            Family::MobileNet => mobilenet::VARIANTS,
            Family::EfficientNet => efficientnet::VARIANTS,
            Family::EfficientNetLite => efficientnet::lite::VARIANTS,
        }
    }

    /// Key renames from PyTorch state-dict names to the module's paths.
    pub fn remaps(self) -> Vec<(&'static str, &'static str)> {
        match self {
            Family::AlexNet => alexnet::weights::remaps(),
            Family::Vgg => vgg::weights::remaps(),
            Family::ResNet => resnet::weights::remaps(),
            Family::DenseNet => densenet::weights::remaps(),
            Family::SqueezeNet => squeezenet::weights::remaps(),
            Family::GoogLeNet => googlenet::weights::remaps(),
            Family::InceptionV3 => inception::weights::remaps(),
            Family::ShuffleNetV2 => shufflenet::weights::remaps(),
            Family::MobileNet => mobilenet::weights::remaps(),
            Family::EfficientNet => efficientnet::weights::remaps(),
            Family::EfficientNetLite => efficientnet::weights::lite_remaps(),
        }
    }

    /// The paper and reference implementation.
    pub fn reference(self) -> &'static str {
        match self {
            Family::AlexNet => "Krizhevsky et al. 2012, https://arxiv.org/abs/1404.5997; torchvision/models/alexnet.py",
            Family::Vgg => "Simonyan & Zisserman 2014, https://arxiv.org/abs/1409.1556; torchvision/models/vgg.py",
            Family::ResNet => "He et al. 2015, https://arxiv.org/abs/1512.03385; torchvision/models/resnet.py",
            Family::DenseNet => "Huang et al. 2016, https://arxiv.org/abs/1608.06993; torchvision/models/densenet.py",
            Family::SqueezeNet => "Iandola et al. 2016, https://arxiv.org/abs/1602.07360; torchvision/models/squeezenet.py",
            Family::GoogLeNet => "Szegedy et al. 2014, https://arxiv.org/abs/1409.4842; torchvision/models/googlenet.py",
            Family::InceptionV3 => "Szegedy et al. 2015, https://arxiv.org/abs/1512.00567; torchvision/models/inception.py",
            Family::ShuffleNetV2 => "Ma et al. 2018, https://arxiv.org/abs/1807.11164; torchvision/models/shufflenetv2.py",
            Family::MobileNet => "Sandler et al. 2018 / Howard et al. 2019, https://arxiv.org/abs/1905.02244; torchvision/models/mobilenetv2.py, mobilenetv3.py",
            Family::EfficientNet => "Tan & Le 2019, https://arxiv.org/abs/1905.11946; torchvision/models/efficientnet.py",
            Family::EfficientNetLite => "Tan & Le 2019 (Lite variants); lukemelas/EfficientNet-PyTorch key names",
        }
    }
}

/// One buildable architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Architecture {
    /// The id manifests use (`resnet50`).
    pub id: &'static str,
    /// Its family.
    pub family: Family,
    /// Its task.
    pub task: Task,
}

impl Architecture {
    /// The input side length the family was trained at (299 for Inception v3, else 224).
    pub fn input_size(&self) -> usize {
        if self.family == Family::InceptionV3 {
            299
        } else {
            224
        }
    }

    /// What `forward` takes and returns, for `hub help`.
    pub fn signature(&self) -> String {
        let s = self.input_size();
        match self.task {
            Task::ImageClassification => format!(
                "forward(x: Tensor<B, 4>) -> Tensor<B, 2>\n  x: [batch, 3, {s}, {s}] f32, an RGB image batch after the preprocessing below\n  returns: [batch, num_classes] logits (softmax gives probabilities)"
            ),
        }
    }

    /// Builds the model with random weights.
    pub fn build<B: Backend>(&self, config: &ClassifierConfig, device: &B::Device) -> Result<ImageClassifier<B>> {
        let id = self.id;
        let missing = || Error::UnknownArchitecture { architecture: id.to_owned() };
        let n = config.num_classes;
        Ok(match self.family {
            Family::AlexNet => ImageClassifier::AlexNet(alexnet::config(id).ok_or_else(missing)?.with_num_classes(n).init(device)),
            Family::Vgg => ImageClassifier::Vgg(vgg::config(id).ok_or_else(missing)?.with_num_classes(n).init(device)),
            Family::ResNet => ImageClassifier::ResNet(resnet::config(id).ok_or_else(missing)?.with_num_classes(n).init(device)),
            Family::DenseNet => ImageClassifier::DenseNet(densenet::config(id).ok_or_else(missing)?.with_num_classes(n).init(device)),
            Family::SqueezeNet => ImageClassifier::SqueezeNet(squeezenet::config(id).ok_or_else(missing)?.with_num_classes(n).init(device)),
            Family::GoogLeNet => {
                let mut c = googlenet::config(id).ok_or_else(missing)?.with_num_classes(n);
                c.aux_logits = config.aux_logits.unwrap_or(c.aux_logits);
                c.transform_input = config.transform_input.unwrap_or(c.transform_input);
                ImageClassifier::GoogLeNet(c.init(device))
            }
            Family::InceptionV3 => {
                let mut c = inception::config(id).ok_or_else(missing)?.with_num_classes(n);
                c.aux_logits = config.aux_logits.unwrap_or(c.aux_logits);
                c.transform_input = config.transform_input.unwrap_or(c.transform_input);
                ImageClassifier::InceptionV3(c.init(device))
            }
            Family::ShuffleNetV2 => ImageClassifier::ShuffleNetV2(shufflenet::config(id).ok_or_else(missing)?.with_num_classes(n).init(device)),
            Family::MobileNet => ImageClassifier::MobileNet(mobilenet::config(id).ok_or_else(missing)?.with_num_classes(n).init(device)),
            Family::EfficientNet => ImageClassifier::EfficientNet(efficientnet::config(id).ok_or_else(missing)?.with_num_classes(n).init(device)),
            Family::EfficientNetLite => {
                ImageClassifier::EfficientNetLite(efficientnet::lite::config(id).ok_or_else(missing)?.with_num_classes(n).init(device))
            }
        })
    }
}

/// Every architecture, family by family.
pub fn architectures() -> impl Iterator<Item = Architecture> {
    Family::ALL.iter().flat_map(|&family| {
        family.variants().iter().map(move |&id| Architecture { id, family, task: Task::ImageClassification })
    })
}

/// The architecture with this id.
pub fn find(id: &str) -> Option<Architecture> {
    architectures().find(|a| a.id == id)
}

/// Whether this build provides a manifest dependency (an architecture id or a family feature).
pub fn provides(dependency: &str) -> bool {
    find(dependency).is_some()
}

/// Config values of image classifiers, read from a manifest's `config` tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassifierConfig {
    /// Number of output classes.
    pub num_classes: usize,
    /// GoogLeNet / Inception v3: build the auxiliary heads (their weights load; `forward` ignores them).
    pub aux_logits: Option<bool>,
    /// GoogLeNet / Inception v3: re-normalise ImageNet inputs the way the ported TF weights expect.
    pub transform_input: Option<bool>,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig { num_classes: 1000, aux_logits: None, transform_input: None }
    }
}

impl ClassifierConfig {
    /// Reads a manifest config table; unknown keys and wrong types are errors naming the key.
    pub fn from_table(entry: &str, table: &toml::Table) -> Result<Self> {
        let mut c = ClassifierConfig::default();
        for (key, value) in table {
            let bad = |expected: &str| Error::Config { entry: entry.to_owned(), key: key.clone(), message: format!("expected {expected}, got {value}") };
            match key.as_str() {
                "num_classes" => {
                    c.num_classes = value.as_integer().filter(|n| *n > 0).ok_or_else(|| bad("a positive integer"))? as usize;
                }
                "aux_logits" => c.aux_logits = Some(value.as_bool().ok_or_else(|| bad("true or false"))?),
                "transform_input" => c.transform_input = Some(value.as_bool().ok_or_else(|| bad("true or false"))?),
                _ => {
                    return Err(Error::Config {
                        entry: entry.to_owned(),
                        key: key.clone(),
                        message: "unknown config key for an image classifier (known: num_classes, aux_logits, transform_input)".into(),
                    })
                }
            }
        }
        Ok(c)
    }
}

macro_rules! classifiers {
    ($($variant:ident($($path:tt)+)),* $(,)?) => {
        /// An image classifier of any family.
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum ImageClassifier<B: Backend> {
            $(
                #[doc = concat!("A `", stringify!($($path)+), "`.")]
                $variant($($path)+<B>),
            )*
        }

        impl<B: Backend> ImageClassifier<B> {
            /// Eval-mode logits.
            ///
            /// # Shapes
            /// - x: `[batch, 3, height, width]` (224×224, 299×299 for Inception v3)
            /// - returns: `[batch, num_classes]`
            pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
                match self {
                    $(ImageClassifier::$variant(m) => m.forward(x),)*
                }
            }

            /// Number of parameters.
            pub fn num_params(&self) -> usize {
                match self {
                    $(ImageClassifier::$variant(m) => import::parameter_count::<B, _>(m),)*
                }
            }

            /// Loads a PyTorch checkpoint (zip or legacy) through burn-store.
            pub fn load_pytorch(self, path: &Path, options: &ImportOptions) -> Result<(Self, ImportReport)> {
                Ok(match self {
                    $(ImageClassifier::$variant(m) => {
                        let (m, report) = import::load_pytorch::<B, _>(m, path, options)?;
                        (ImageClassifier::$variant(m), report)
                    })*
                })
            }

            /// Writes the parameters to a burnpack file (burn's native format: no pickle parsing
            /// when loaded again).
            pub fn save_burnpack(&self, path: &Path) -> Result<()> {
                let mut store = BurnpackStore::from_file(path).overwrite(true);
                let result = match self {
                    $(ImageClassifier::$variant(m) => m.save_into(&mut store),)*
                };
                result.map_err(|e| Error::Burnpack { path: path.to_path_buf(), message: e.to_string() })
            }

            /// Loads a burnpack file written by [`save_burnpack`](Self::save_burnpack) for the same
            /// architecture; every parameter must be present and applied.
            pub fn load_burnpack(self, path: &Path) -> Result<Self> {
                let mut store = BurnpackStore::from_file(path);
                let err = |message: String| Error::Burnpack { path: path.to_path_buf(), message };
                Ok(match self {
                    $(ImageClassifier::$variant(mut m) => {
                        let r = m.load_from(&mut store).map_err(|e| err(e.to_string()))?;
                        if !r.missing.is_empty() || !r.errors.is_empty() || !r.unused.is_empty() {
                            return Err(err(format!("missing {:?}, unused {:?}, errors {:?}", r.missing, r.unused, r.errors)));
                        }
                        ImageClassifier::$variant(m)
                    })*
                })
            }

            /// Every parameter and buffer, by path, with its data.
            pub fn tensors(&self) -> Vec<(String, burn::tensor::TensorData)> {
                let snapshots = match self {
                    $(ImageClassifier::$variant(m) => m.collect(None, None, false),)*
                };
                snapshots.into_iter().filter_map(|s| Some((s.full_path(), s.to_data().ok()?))).collect()
            }

            /// Loads a safetensors file through burn-store.
            pub fn load_safetensors(self, path: &Path, options: &ImportOptions) -> Result<(Self, ImportReport)> {
                Ok(match self {
                    $(ImageClassifier::$variant(m) => {
                        let (m, report) = import::load_safetensors::<B, _>(m, path, options)?;
                        (ImageClassifier::$variant(m), report)
                    })*
                })
            }
        }
    };
}

classifiers! {
    AlexNet(alexnet::AlexNet),
    Vgg(vgg::Vgg),
    ResNet(resnet::ResNet),
    DenseNet(densenet::DenseNet),
    SqueezeNet(squeezenet::SqueezeNet),
    GoogLeNet(googlenet::GoogLeNet),
    InceptionV3(inception::InceptionV3),
    ShuffleNetV2(shufflenet::ShuffleNetV2),
    MobileNet(mobilenet::MobileNet),
    EfficientNet(efficientnet::EfficientNet),
    EfficientNetLite(efficientnet::lite::EfficientNetLite),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_findable() {
        let mut seen = HashSet::new();
        for a in architectures() {
            assert!(seen.insert(a.id), "duplicate id {}", a.id);
            assert_eq!(find(a.id), Some(a));
        }
        assert!(seen.len() >= 40, "{}", seen.len());
        assert!(find("resnet51").is_none());
    }

    #[test]
    fn config_tables_are_checked() {
        let t: toml::Table = toml::from_str("num_classes = 10\naux_logits = true").unwrap();
        let c = ClassifierConfig::from_table("x", &t).unwrap();
        assert_eq!((c.num_classes, c.aux_logits), (10, Some(true)));
        for bad in ["num_classes = 0", "num_classes = \"ten\"", "colour = 1", "aux_logits = 1"] {
            let t: toml::Table = toml::from_str(bad).unwrap();
            let e = ClassifierConfig::from_table("x", &t).unwrap_err().to_string();
            assert!(e.contains("x") && e.contains(bad.split(' ').next().unwrap()), "{e}");
        }
    }
}
