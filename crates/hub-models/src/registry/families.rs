//! The one list of families, and what is generated from it: the `Family` enum, the classifier
//! enum, the model enum and the build dispatch. A family declares itself in its own folder
//! (`pub const FAMILY: FamilySpec` and a `build` function) and is named here once.

use std::path::Path;

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use burn_store::{BurnpackStore, ModuleSnapshot};

use super::config::ClassifierConfig;
use super::model::{boxed, Generator, TextModel};
use super::spec::{ConfiguredBy, FamilySpec};
use super::task::Task;
use crate::error::{Error, Result};
use crate::import::{self, ImportOptions, ImportReport};
use crate::segmentation;
use crate::tts::{tacotron2, waveglow};

/// Generates the `Family` enum, [`ImageClassifier`] and the build dispatch from the family list.
macro_rules! families {
    // A classifier's builder: the family's own `$f` when the row names one, else its variant's
    // config with the manifest's class count.
    (@build [] $($m:ident)::+, $id:expr, $c:expr, $device:expr) => {
        crate::$($m)::+::config($id).map(|m| m.with_num_classes($c.num_classes).init($device))
    };
    (@build [$f:ident] $($m:ident)::+, $id:expr, $c:expr, $device:expr) => {
        crate::$($m)::+::$f::<B>($id, $c, $device)
    };
    (
        classifiers { $($cv:ident($cty:ident) in $($cmod:ident)::+ $(=> $cbuild:ident)?,)* }
        models { $($mv:ident in $($mmod:ident)::+ => |$m:ident| $wrap:expr,)* }
        text { $($tv:ident = $($tspec:ident)::+,)* }
    ) => {
        /// A model family: one folder of `vision/` (or of the other task folders), declared by
        /// its [`FamilySpec`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Family {
            $(#[doc = concat!("`crate::", stringify!($($cmod)::+), "`.")] $cv,)*
            $(#[doc = concat!("`crate::", stringify!($($mmod)::+), "`.")] $mv,)*
            $(#[doc = concat!("`crate::", stringify!($($tspec)::+), "`.")] $tv,)*
        }

        impl Family {
            /// Every family, in the list's order.
            pub const ALL: &'static [Family] = &[$(Family::$cv,)* $(Family::$mv,)* $(Family::$tv,)*];

            /// What the family declares about itself.
            pub fn spec(self) -> &'static FamilySpec {
                match self {
                    $(Family::$cv => &crate::$($cmod)::+::FAMILY,)*
                    $(Family::$mv => &crate::$($mmod)::+::FAMILY,)*
                    $(Family::$tv => &crate::$($tspec)::+,)*
                }
            }
        }

        impl Architecture {
            /// Builds the model of any manifest-configured task with random weights from a
            /// manifest config table; `checkpoint` is the file that will be loaded into it, for
            /// the families whose structure the checkpoint decides (WaveGlow's weight norm).
            pub fn build_for<B: Backend>(&self, entry: &str, config: &toml::Table, checkpoint: Option<&Path>, device: &B::Device) -> Result<Model<B>> {
                let unknown = || Error::UnknownArchitecture { architecture: self.id.to_owned() };
                match self.family {
                    $(Family::$cv => {
                        let mut c = ClassifierConfig::from_table(entry, config)?;
                        if let (Family::GoogLeNet, None, Some(path)) = (self.family, c.aux_logits, checkpoint) {
                            // The checkpoint decides, as for WaveGlow's weight norm.
                            c.aux_logits = Some(crate::vision::googlenet::weights::has_aux_heads(path)?);
                        }
                        c.check(self.id)?;
                        c.check_family(entry, self.family)?;
                        let m = families!(@build [$($cbuild)?] $($cmod)::+, self.id, &c, device).ok_or_else(unknown)?;
                        Ok(Model::Classifier(ImageClassifier::$cv(Box::new(m))))
                    })*
                    $(Family::$mv => {
                        let $m = Box::new(crate::$($mmod)::+::build::<B>(self.id, entry, config, checkpoint, device)?);
                        Ok($wrap)
                    })*
                    $(Family::$tv)|* => Err(Error::Config {
                        entry: entry.to_owned(),
                        key: "config.json".into(),
                        message: format!("{} is configured by a Hugging Face config.json: the weights must list it under `files`", self.id),
                    }),
                }
            }

            /// Builds an image classifier with random weights.
            pub fn build<B: Backend>(&self, config: &ClassifierConfig, device: &B::Device) -> Result<ImageClassifier<B>> {
                config.check(self.id)?;
                config.check_family(self.id, self.family)?;
                let unknown = || Error::UnknownArchitecture { architecture: self.id.to_owned() };
                match self.family {
                    $(Family::$cv => Ok(ImageClassifier::$cv(Box::new(families!(@build [$($cbuild)?] $($cmod)::+, self.id, config, device).ok_or_else(unknown)?))),)*
                    $(Family::$mv)|* $(| Family::$tv)* => {
                        Err(Error::WrongTask { entry: self.id.to_owned(), task: self.task.as_str().to_owned(), operation: "building a classifier" })
                    }
                }
            }
        }

        /// An image classifier of any family (boxed: the modules are large).
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum ImageClassifier<B: Backend> {
            $(
                #[doc = concat!("A `", stringify!($cty), "` (`crate::", stringify!($($cmod)::+), "`).")]
                $cv(Box<crate::$($cmod)::+::$cty<B>>),
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
                    $(ImageClassifier::$cv(m) => m.forward(x),)*
                }
            }

            /// Every parameter and buffer as PyTorch names and shapes them (the state dict).
            pub fn state_dict_shapes(&self) -> Vec<(String, Vec<usize>)> {
                match self {
                    $(ImageClassifier::$cv(m) => import::state_dict_shapes::<B, _>(m.as_ref()),)*
                }
            }

            /// Number of parameters.
            pub fn num_params(&self) -> usize {
                match self {
                    $(ImageClassifier::$cv(m) => import::parameter_count::<B, _>(m.as_ref()),)*
                }
            }

            /// Loads a PyTorch checkpoint (zip or legacy) through burn-store.
            pub fn load_pytorch(self, path: &Path, options: &ImportOptions) -> Result<(Self, ImportReport)> {
                Ok(match self {
                    $(ImageClassifier::$cv(m) => {
                        let (m, report) = boxed(m, |m| Ok(import::load_pytorch::<B, _>(m, path, options)?))?;
                        (ImageClassifier::$cv(m), report)
                    })*
                })
            }

            /// Writes the parameters to a burnpack file (burn's native format: no pickle parsing
            /// when loaded again).
            pub fn save_burnpack(&self, path: &Path) -> Result<()> {
                let mut store = BurnpackStore::from_file(path).overwrite(true);
                let result = match self {
                    $(ImageClassifier::$cv(m) => m.save_into(&mut store),)*
                };
                result.map_err(|e| Error::Burnpack { path: path.to_path_buf(), message: e.to_string() })
            }

            /// Loads a burnpack file written by [`save_burnpack`](Self::save_burnpack) for the same
            /// architecture, in place; every parameter must be present and applied. After an
            /// error the parameters may be partly replaced: load a complete checkpoint next.
            pub fn load_burnpack(&mut self, path: &Path) -> Result<()> {
                let err = |message: String| Error::Burnpack { path: path.to_path_buf(), message };
                let mut store = BurnpackStore::from_file(path);
                let r = match self {
                    $(ImageClassifier::$cv(m) => m.load_from(&mut store),)*
                }
                .map_err(|e| err(e.to_string()))?;
                if !r.missing.is_empty() || !r.errors.is_empty() || !r.unused.is_empty() {
                    return Err(err(format!("missing {:?}, unused {:?}, errors {:?}", r.missing, r.unused, r.errors)));
                }
                Ok(())
            }

            /// The same classifier with every floating-point parameter and buffer converted to
            /// `dtype` (`DType::F64` for a reference run on an f64 input; burn's ops run it,
            /// hub's kernels take f32 only); other tensors are kept.
            pub fn into_dtype(mut self, dtype: burn::tensor::DType) -> Result<Self> {
                let convert = |snapshots: Vec<burn_store::TensorSnapshot>| -> Result<Vec<burn_store::TensorSnapshot>> {
                    snapshots.into_iter().map(|s| {
                        let data = s.to_data().map_err(|e| Error::Burnpack { path: s.full_path().into(), message: format!("{e:?}") })?;
                        let data = if data.dtype.is_float() { data.convert_dtype(dtype) } else { data };
                        Ok(burn_store::TensorSnapshot::from_data(data, s.path_stack.clone().unwrap_or_default(), s.container_stack.clone().unwrap_or_default(), s.tensor_id.unwrap_or_default()))
                    }).collect()
                };
                let result = match &mut self {
                    $(ImageClassifier::$cv(m) => { let s = convert(m.collect(None, None, false))?; m.apply(s, None, None, false) })*
                };
                if !result.errors.is_empty() || !result.missing.is_empty() {
                    return Err(Error::Burnpack { path: "(in memory)".into(), message: format!("converting to {dtype:?}: missing {:?}, errors {:?}", result.missing, result.errors) });
                }
                Ok(self)
            }

            /// Every parameter and buffer, by path, with its data.
            pub fn tensors(&self) -> Vec<(String, burn::tensor::TensorData)> {
                let snapshots = match self {
                    $(ImageClassifier::$cv(m) => m.collect(None, None, false),)*
                };
                snapshots.into_iter().filter_map(|s| Some((s.full_path(), s.to_data().ok()?))).collect()
            }

            /// Loads a safetensors file through burn-store.
            pub fn load_safetensors(self, path: &Path, options: &ImportOptions) -> Result<(Self, ImportReport)> {
                Ok(match self {
                    $(ImageClassifier::$cv(m) => {
                        let (m, report) = boxed(m, |m| Ok(import::load_safetensors::<B, _>(m, path, options)?))?;
                        (ImageClassifier::$cv(m), report)
                    })*
                })
            }
        }
    };
}

// The one list of families. A row names the family's variant, its folder (which declares
// `FAMILY`, and `config(id)` or a `build` function), and for classifiers the module type
// (`=> build` when the family builds from more of the manifest config than `num_classes`);
// other tasks say how their module is held in a [`Model`].
families! {
    classifiers {
        AlexNet(AlexNet) in vision::alexnet,
        Vgg(Vgg) in vision::vgg,
        ResNet(ResNet) in vision::resnet,
        DenseNet(DenseNet) in vision::densenet,
        SqueezeNet(SqueezeNet) in vision::squeezenet,
        GoogLeNet(GoogLeNet) in vision::googlenet => build,
        InceptionV3(InceptionV3) in vision::inception => build,
        ShuffleNetV2(ShuffleNetV2) in vision::shufflenet,
        MobileNet(MobileNet) in vision::mobilenet,
        EfficientNet(EfficientNet) in vision::efficientnet,
        EfficientNetLite(EfficientNetLite) in vision::efficientnet::lite,
        ConvNext(ConvNext) in vision::convnext,
        RegNet(RegNet) in vision::regnet,
        MnasNet(MnasNet) in vision::mnasnet,
        Vit(VisionTransformer) in vision::vit => build,
    }
    models {
        Dcgan in gan::dcgan => |m| Model::Generator(Generator::Dcgan(m)),
        Pgan in gan::pgan => |m| Model::Generator(Generator::Pgan(m)),
        Segmentation in segmentation => |m| Model::Segmenter(m),
        Tacotron2 in tts::tacotron2 => |m| Model::Tacotron2(m),
        WaveGlow in tts::waveglow => |m| Model::WaveGlow(m),
    }
    text {
        Bert = text::bert::FAMILY,
        Gpt2 = text::gpt2::FAMILY,
        Tokenizer = text::TOKENIZER_FAMILY,
    }
}

/// A model of any task.
#[derive(Debug)]
#[non_exhaustive]
pub enum Model<B: Backend> {
    /// An image classifier.
    Classifier(ImageClassifier<B>),
    /// An image generator.
    Generator(Generator<B>),
    /// A text model.
    Text(TextModel<B>),
    /// A semantic segmentation model.
    Segmenter(Box<segmentation::Segmentation<B>>),
    /// Tacotron2 (text to mel spectrogram).
    Tacotron2(Box<tacotron2::Tacotron2<B>>),
    /// WaveGlow (mel spectrogram to audio).
    WaveGlow(Box<waveglow::WaveGlow<B>>),
    /// No module: a tokenizer entrypoint (the tokenizer is in `Loaded::tokenizer`).
    Tokenizer,
}

impl Family {
    /// The task of one of the family's architectures.
    pub fn task(self, id: &str) -> Task {
        self.spec().task_of(id)
    }

    /// Whether the family is configured by a Hugging Face `config.json` or a model id's
    /// tokenizer files (not by manifest values).
    pub fn is_text(self) -> bool {
        match self.spec().configured_by {
            ConfiguredBy::Manifest => false,
            ConfiguredBy::ConfigJson { .. } | ConfiguredBy::TokenizerFiles => true,
        }
    }

    /// The Hugging Face `model_type` of the family's configs, if it is configured by one.
    pub fn model_type(self) -> Option<&'static str> {
        match self.spec().configured_by {
            ConfiguredBy::ConfigJson { model_type } => Some(model_type),
            ConfiguredBy::Manifest | ConfiguredBy::TokenizerFiles => None,
        }
    }

    /// The family of a Hugging Face `config.json` `model_type`.
    pub fn from_model_type(model_type: &str) -> Option<Family> {
        Family::ALL.iter().copied().find(|f| f.model_type() == Some(model_type))
    }

    /// The architecture ids of the family.
    pub fn variants(self) -> &'static [&'static str] {
        self.spec().variants
    }

    /// Key renames from PyTorch state-dict names to the module's paths.
    pub fn remaps(self) -> Vec<(&'static str, &'static str)> {
        (self.spec().remaps)()
    }

    /// The paper and reference implementation.
    pub fn reference(self) -> &'static str {
        self.spec().reference
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
    /// The input side length the weights were trained at (224; 299 for Inception v3, 520 for
    /// segmentation), for image families.
    pub fn input_size(&self) -> Option<usize> {
        self.family.spec().input_size
    }

    /// Builds the model of any manifest-configured task with random weights from a manifest
    /// config table (see [`build_for`](Self::build_for) to pass the checkpoint it will load).
    pub fn build_model<B: Backend>(&self, entry: &str, config: &toml::Table, device: &B::Device) -> Result<Model<B>> {
        self.build_for(entry, config, None, device)
    }
}

/// Every architecture, family by family.
pub fn architectures() -> impl Iterator<Item = Architecture> {
    Family::ALL.iter().flat_map(|&family| {
        family.variants().iter().map(move |&id| Architecture { id, family, task: family.task(id) })
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

