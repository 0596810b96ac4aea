//! The one registry of architectures: the CLI, the built-in manifests, the docs and the tests all
//! read it, and building a model from an architecture id happens in exactly one `match` here.

use std::path::Path;

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use burn_store::{BurnpackStore, ModuleSnapshot};

use crate::error::{Error, Result};
use crate::import::{self, ImportOptions, ImportReport};
use crate::gan::{dcgan, pgan, NoiseRng};
use crate::segmentation;
use crate::tts::{tacotron2, waveglow};
use crate::text::bert::{self, BertConfig, BertForMaskedLm, BertModel};
use crate::text::gpt2::{self, Gpt2Config, Gpt2LmHeadModel, Gpt2Model};
use crate::text::HfModule;
use crate::vision::{alexnet, densenet, efficientnet, googlenet, inception, mobilenet, resnet, shufflenet, squeezenet, vgg};

/// What a model does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Task {
    /// Image in, class scores out.
    ImageClassification,
    /// Latent noise in, images out.
    ImageGeneration,
    /// Text with `[MASK]` tokens in, the likeliest tokens for them out.
    FillMask,
    /// A prompt in, its continuation out.
    TextGeneration,
    /// Text in, hidden states (and sentence embeddings) out.
    FeatureExtraction,
    /// Image in, a class per pixel out.
    SemanticSegmentation,
    /// Text in, mel spectrogram out (Tacotron2; paired with a vocoder for speech).
    TextToSpectrogram,
    /// Mel spectrogram in, audio out (WaveGlow).
    SpectrogramToAudio,
    /// Text (or a text pair) in, one label out.
    TextClassification,
    /// Text in, a label per token out.
    TokenClassification,
    /// A question and a context in, the answer span out.
    QuestionAnswering,
    /// Two sentences in, whether the second follows the first out.
    NextSentencePrediction,
    /// A prompt and choices in, a score per choice out.
    MultipleChoice,
    /// BERT's pre-training heads: masked-token and next-sentence predictions.
    PreTraining,
    /// Text in, tokens and ids out (no model).
    Tokenization,
}

impl Task {
    /// The manifest's name of the task.
    pub fn as_str(self) -> &'static str {
        match self {
            Task::ImageClassification => "image-classification",
            Task::ImageGeneration => "image-generation",
            Task::FillMask => "fill-mask",
            Task::TextGeneration => "text-generation",
            Task::FeatureExtraction => "feature-extraction",
            Task::SemanticSegmentation => "semantic-segmentation",
            Task::TextToSpectrogram => "text-to-spectrogram",
            Task::SpectrogramToAudio => "spectrogram-to-audio",
            Task::TextClassification => "text-classification",
            Task::TokenClassification => "token-classification",
            Task::QuestionAnswering => "question-answering",
            Task::NextSentencePrediction => "next-sentence-prediction",
            Task::MultipleChoice => "multiple-choice",
            Task::PreTraining => "pre-training",
            Task::Tokenization => "tokenization",
        }
    }
}

/// The task of each text architecture that is not plain feature extraction.
const TEXT_TASKS: &[(&str, Task)] = &[
    ("bert_masked_lm", Task::FillMask),
    ("bert_next_sentence", Task::NextSentencePrediction),
    ("bert_pretraining", Task::PreTraining),
    ("bert_sequence_classification", Task::TextClassification),
    ("bert_multiple_choice", Task::MultipleChoice),
    ("bert_question_answering", Task::QuestionAnswering),
    ("bert_token_classification", Task::TokenClassification),
    ("gpt2_lm_head", Task::TextGeneration),
    ("gpt2_double_heads", Task::MultipleChoice),
    ("gpt2_sequence_classification", Task::TextClassification),
];

/// Parameters of each text architecture's task head that a checkpoint may lack (a pre-trained
/// encoder published without the head): they keep their random initialisation, as
/// `transformers` does, and the load reports them ([`ImportReport::initialized`]).
const NEW_HEAD_PARAMS: &[(&str, &[&str])] = &[
    ("bert_next_sentence", &[r"^cls\.seq_relationship\.", r"^bert\.pooler\."]),
    ("bert_pretraining", &[r"^cls\.seq_relationship\.", r"^bert\.pooler\."]),
    ("bert_sequence_classification", &[r"^classifier\.", r"^bert\.pooler\."]),
    ("bert_multiple_choice", &[r"^classifier\.", r"^bert\.pooler\."]),
    ("bert_question_answering", &[r"^qa_outputs\."]),
    ("bert_token_classification", &[r"^classifier\."]),
    ("gpt2_double_heads", &[r"^multiple_choice_head\."]),
    ("gpt2_sequence_classification", &[r"^score\."]),
];

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
    /// DCGAN generators (GAN zoo, PyTorch DCGAN tutorial).
    Dcgan,
    /// Progressive GAN generators (GAN zoo).
    Pgan,
    /// BERT encoders and heads (configured by `config.json`).
    Bert,
    /// GPT-2 decoders (configured by `config.json`).
    Gpt2,
    /// FCN, DeepLabV3 and LR-ASPP semantic segmentation.
    Segmentation,
    /// NVIDIA's Tacotron2.
    Tacotron2,
    /// NVIDIA's WaveGlow vocoder.
    WaveGlow,
    /// Hugging Face tokenizers alone (WordPiece, byte-level BPE).
    Tokenizer,
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
        Family::Dcgan,
        Family::Pgan,
        Family::Bert,
        Family::Gpt2,
        Family::Segmentation,
        Family::Tacotron2,
        Family::WaveGlow,
        Family::Tokenizer,
    ];

    /// The task of one of the family's architectures.
    pub fn task(self, id: &str) -> Task {
        match self {
            Family::Dcgan | Family::Pgan => Task::ImageGeneration,
            Family::Segmentation => Task::SemanticSegmentation,
            Family::Tacotron2 => Task::TextToSpectrogram,
            Family::WaveGlow => Task::SpectrogramToAudio,
            Family::Bert | Family::Gpt2 => TEXT_TASKS.iter().find(|(a, _)| *a == id).map_or(Task::FeatureExtraction, |(_, t)| *t),
            Family::Tokenizer => Task::Tokenization,
            _ => Task::ImageClassification,
        }
    }

    /// Whether the family is configured by a Hugging Face `config.json` (not by manifest values).
    pub fn is_text(self) -> bool {
        matches!(self, Family::Bert | Family::Gpt2 | Family::Tokenizer)
    }

    /// The family of a Hugging Face `config.json` `model_type`.
    pub fn from_model_type(model_type: &str) -> Option<Family> {
        match model_type {
            "bert" => Some(Family::Bert),
            "gpt2" => Some(Family::Gpt2),
            _ => None,
        }
    }

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
            Family::Dcgan => dcgan::VARIANTS,
            Family::Pgan => pgan::VARIANTS,
            Family::Bert => &[
                "bert",
                "bert_masked_lm",
                "bert_next_sentence",
                "bert_pretraining",
                "bert_sequence_classification",
                "bert_multiple_choice",
                "bert_question_answering",
                "bert_token_classification",
            ],
            Family::Gpt2 => &["gpt2", "gpt2_lm_head", "gpt2_double_heads", "gpt2_sequence_classification"],
            Family::Tokenizer => &["tokenizer"],
            Family::Segmentation => segmentation::VARIANTS,
            Family::Tacotron2 => tacotron2::VARIANTS,
            Family::WaveGlow => waveglow::VARIANTS,
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
            // The generators' remaps depend on the variant, the text models' on the head: see
            // `Model::load_pytorch`.
            Family::Dcgan | Family::Pgan | Family::Bert | Family::Gpt2 | Family::Tokenizer => Vec::new(),
            Family::Segmentation => segmentation::weights::remaps(),
            Family::Tacotron2 => tacotron2::weights::remaps(),
            Family::WaveGlow => waveglow::weights::remaps(),
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
            Family::Dcgan => "Radford et al. 2015, https://arxiv.org/abs/1511.06434; pytorch_GAN_zoo models/networks/DCGAN_nets.py, PyTorch DCGAN tutorial",
            Family::Pgan => "Karras et al. 2017, https://arxiv.org/abs/1710.10196; pytorch_GAN_zoo models/networks/progressive_conv_net.py",
            Family::Bert => "Devlin et al. 2018, https://arxiv.org/abs/1810.04805; transformers/models/bert/modeling_bert.py",
            Family::Gpt2 => "Radford et al. 2019; transformers/models/gpt2/modeling_gpt2.py",
            Family::Segmentation => "Long et al. 2014 (FCN), Chen et al. 2017 (DeepLabV3), Howard et al. 2019 (LR-ASPP); torchvision/models/segmentation",
            Family::Tacotron2 => "Shen et al. 2017, https://arxiv.org/abs/1712.05884; NVIDIA/DeepLearningExamples PyTorch/SpeechSynthesis/Tacotron2/tacotron2",
            Family::WaveGlow => "Prenger et al. 2018, https://arxiv.org/abs/1811.00002; NVIDIA/DeepLearningExamples PyTorch/SpeechSynthesis/Tacotron2/waveglow",
            Family::Tokenizer => "Hugging Face tokenizers (WordPiece, byte-level BPE); transformers AutoTokenizer",
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
    /// The input side length the family was trained at (299 for Inception v3, 520 for
    /// segmentation, else 224).
    pub fn input_size(&self) -> usize {
        match self.family {
            Family::InceptionV3 => 299,
            Family::Segmentation => 520,
            _ => 224,
        }
    }

    /// What `forward` takes and returns, for `hub help`.
    pub fn signature(&self) -> String {
        let s = self.input_size();
        match self.task {
            Task::ImageClassification => format!(
                "forward(x: Tensor<B, 4>) -> Tensor<B, 2>\n  x: [batch, 3, {s}, {s}] f32, an RGB image batch after the preprocessing below\n  returns: [batch, num_classes] logits (softmax gives probabilities)"
            ),
            Task::ImageGeneration => "build_noise_data(n, rng) -> Tensor<B, 2>   [n, latent_dim], N(0, 1) (plus one-hot class codes)\ntest(noise: Tensor<B, 2>) -> Tensor<B, 4>\n  returns: [n, 3, size, size] images in [-1, 1]".to_owned(),
            Task::FillMask => "forward(input: BertInput { input_ids [batch, seq], attention_mask, token_type_ids }) -> Tensor<B, 3>\n  returns: [batch, seq, vocab_size] logits; hub run --text \"... [MASK] ...\" prints the top-k tokens per mask".to_owned(),
            Task::TextGeneration => "forward(input: Gpt2Input { input_ids [batch, seq] }, cache) -> Tensor<B, 3>\n  returns: [batch, seq, vocab_size] next-token logits; hub run --prompt \"...\" --max-new-tokens N generates (greedy, or --temperature/--top-k/--top-p/--seed)".to_owned(),
            Task::SemanticSegmentation => "forward(x: Tensor<B, 4>) -> SegOutput { out, aux }\n  x: [batch, 3, h, w] f32 after the preprocessing below (shorter side 520, no crop)\n  out: [batch, 21, h, w] class scores upsampled to the input size; aux: the auxiliary head's, if built".to_owned(),
            Task::TextToSpectrogram => "infer(sequence: Tensor<B, 2, Int> [1, symbols], dropout masks) -> Tacotron2Output { mel, mel_postnet [1, 80, frames], gate, alignments }\n  hub run --text \"...\" --vocoder nvidia_waveglow --out speech.wav synthesizes 22.05 kHz audio".to_owned(),
            Task::SpectrogramToAudio => "infer(mel: Tensor<B, 3> [1, 80, frames], sigma, noise) -> Tensor<B, 2> [1, frames * 256] audio at 22.05 kHz".to_owned(),
            Task::FeatureExtraction => "forward(input [batch, seq] token ids + attention mask) -> hidden states [batch, seq, hidden]\n  hub run --text A --text B prints mean-pooled, L2-normalised sentence embeddings and their cosine similarities".to_owned(),
            Task::TextClassification => "forward(input [batch, seq] token ids + attention mask (+ token types)) -> Tensor<B, 2> [batch, num_labels] logits\n  hub run --text TEXT [--text-pair TEXT] prints the labels (config.json id2label) with probabilities".to_owned(),
            Task::TokenClassification => "forward(input [batch, seq]) -> Tensor<B, 3> [batch, seq, num_labels] logits\n  hub run --text TEXT prints a label per token".to_owned(),
            Task::QuestionAnswering => "forward(input [batch, seq] question + context pair) -> SpanLogits { start_logits, end_logits [batch, seq] }\n  hub run --question Q --context C prints the likeliest answer span of the context".to_owned(),
            Task::NextSentencePrediction => "forward(input [batch, seq] sentence pair) -> Tensor<B, 2> [batch, 2] logits (index 0: B follows A)\n  hub run --text A --text-pair B prints the probability that B follows A".to_owned(),
            Task::MultipleChoice => "forward(input_ids [batch, choices, seq], ...) -> Tensor<B, 2> [batch, choices] logits\n  hub run --text PROMPT --choice A --choice B ... prints a probability per choice".to_owned(),
            Task::PreTraining => "forward(input [batch, seq]) -> { prediction_logits [batch, seq, vocab], seq_relationship_logits [batch, 2] }\n  hub run --text \"... [MASK] ...\" [--text-pair B] fills the masks (and scores B following A)".to_owned(),
            Task::Tokenization => "tokenizer: encode(text[, pair]) -> token ids, tokens, attention mask, token types; decode(ids) -> text\n  hub run --text TEXT [--text-pair TEXT] prints the tokens and ids".to_owned(),
        }
    }

    /// Builds the model of any task with random weights from a manifest config table.
    pub fn build_model<B: Backend>(&self, entry: &str, config: &toml::Table, device: &B::Device) -> Result<Model<B>> {
        let id = self.id;
        let missing = || Error::UnknownArchitecture { architecture: id.to_owned() };
        match self.family {
            Family::Dcgan => {
                reject_keys(entry, config, &[])?;
                Ok(Model::Generator(Generator::Dcgan(Box::new(dcgan::config(id).ok_or_else(missing)?.init(device)))))
            }
            Family::Pgan => {
                reject_keys(entry, config, &["model_name"])?;
                let c = match config.get("model_name") {
                    None => pgan::config(id).ok_or_else(missing)?,
                    Some(v) => {
                        let name = v.as_str().unwrap_or_default();
                        pgan::config_for_model_name(name).ok_or_else(|| Error::Config {
                            entry: entry.to_owned(),
                            key: "model_name".into(),
                            message: format!("{v} is not one of {:?}", pgan::weights::MODEL_NAMES),
                        })?
                    }
                };
                Ok(Model::Generator(Generator::Pgan(Box::new(c.init(device)))))
            }
            Family::Segmentation => {
                let mut c = segmentation::config(id).ok_or_else(missing)?;
                for (key, value) in config {
                    let bad = |expected: &str| Error::Config { entry: entry.to_owned(), key: key.clone(), message: format!("expected {expected}, got {value}") };
                    match key.as_str() {
                        "num_classes" => c.num_classes = positive_at_most(entry, key, value, limits::MAX_CLASSES)?,
                        "aux_loss" => c.aux_loss = value.as_bool().ok_or_else(|| bad("true or false"))?,
                        _ => return Err(Error::Config { entry: entry.to_owned(), key: key.clone(), message: "unknown config key for segmentation (known: num_classes, aux_loss)".into() }),
                    }
                }
                Ok(Model::Segmenter(Box::new(c.init(device))))
            }
            Family::Tacotron2 => {
                let mut c = tacotron2::config(id).ok_or_else(missing)?;
                for (key, value) in config {
                    let bad = |expected: &str| Error::Config { entry: entry.to_owned(), key: key.clone(), message: format!("expected {expected}, got {value}") };
                    match key.as_str() {
                        "max_decoder_steps" => c.max_decoder_steps = positive_at_most(entry, key, value, limits::MAX_DECODER_STEPS)?,
                        "gate_threshold" => c.gate_threshold = value.as_float().ok_or_else(|| bad("a number"))?,
                        _ => return Err(Error::Config { entry: entry.to_owned(), key: key.clone(), message: "unknown config key for Tacotron2 (known: max_decoder_steps, gate_threshold)".into() }),
                    }
                }
                Ok(Model::Tacotron2(Box::new(c.init(device))))
            }
            Family::WaveGlow => {
                reject_keys(entry, config, &[])?;
                Ok(Model::WaveGlow(Box::new(waveglow::config(id).ok_or_else(missing)?.init(device))))
            }
            Family::Bert | Family::Gpt2 | Family::Tokenizer => Err(Error::Config {
                entry: entry.to_owned(),
                key: "config.json".into(),
                message: format!("{} is configured by a Hugging Face config.json: the weights must list it under `files`", self.id),
            }),
            _ => Ok(Model::Classifier(self.build(&ClassifierConfig::from_table(entry, config)?, device)?)),
        }
    }

    /// The architecture to build for a model whose `config.json` names `model_type`: this one
    /// when the families agree (or the file names none, as 2019 configs), else the architecture
    /// of the same task in the model type's family (`modelForSequenceClassification gpt2`).
    pub fn for_model_type(&self, entry: &str, model_type: Option<&str>) -> Result<Architecture> {
        let Some(model_type) = model_type else { return Ok(*self) };
        let bad = |message: String| Error::Config { entry: entry.to_owned(), key: "config.json model_type".into(), message };
        let family = Family::from_model_type(model_type)
            .ok_or_else(|| bad(format!("{model_type:?} is not a model type hub implements (bert, gpt2)")))?;
        if family == self.family || self.family == Family::Tokenizer {
            return Ok(*self);
        }
        architectures().find(|a| a.family == family && a.task == self.task).ok_or_else(|| {
            let tasks: Vec<&str> = architectures().filter(|a| a.family == family).map(|a| a.task.as_str()).collect();
            bad(format!("hub has no {} head for {model_type} (it has: {})", self.task.as_str(), tasks.join(", ")))
        })
    }

    /// Builds a text model with random weights from a Hugging Face `config.json`;
    /// `num_labels` overrides the classification heads' label count.
    pub fn build_text<B: Backend>(&self, config_json: &Path, num_labels: Option<usize>, device: &B::Device) -> Result<Model<B>> {
        if self.family == Family::Tokenizer {
            return Ok(Model::Tokenizer);
        }
        // `Unsupported` does not name the file: say which.
        let in_file = |e: crate::text::ConfigError| match e {
            e @ crate::text::ConfigError::Unsupported { .. } => Error::ModelConfig { file: config_json.to_path_buf(), source: e },
            e => Error::TextConfig(e),
        };
        let bert = || -> Result<BertConfig> {
            let c = BertConfig::from_file(config_json).map_err(in_file)?;
            let c = match num_labels {
                Some(n) => c.with_num_labels(n),
                None => c,
            };
            c.validate().map_err(in_file)?;
            Ok(c)
        };
        let gpt2 = || -> Result<Gpt2Config> {
            let c = Gpt2Config::from_file(config_json).map_err(in_file)?;
            let c = match num_labels {
                Some(n) => c.with_num_labels(n),
                None => c,
            };
            c.validate().map_err(in_file)?;
            Ok(c)
        };
        Ok(Model::Text(match self.id {
            "bert" => TextModel::Bert(Box::new(bert()?.init(device))),
            "bert_masked_lm" => TextModel::BertMaskedLm(Box::new(bert()?.init_masked_lm(device))),
            "bert_next_sentence" => TextModel::BertNextSentence(Box::new(bert()?.init_next_sentence(device))),
            "bert_pretraining" => TextModel::BertPreTraining(Box::new(bert()?.init_pretraining(device))),
            "bert_sequence_classification" => TextModel::BertSequenceClassification(Box::new(bert()?.init_sequence_classification(device))),
            "bert_multiple_choice" => TextModel::BertMultipleChoice(Box::new(bert()?.init_multiple_choice(device))),
            "bert_question_answering" => TextModel::BertQuestionAnswering(Box::new(bert()?.init_question_answering(device))),
            "bert_token_classification" => TextModel::BertTokenClassification(Box::new(bert()?.init_token_classification(device))),
            "gpt2" => TextModel::Gpt2(Box::new(gpt2()?.init(device))),
            "gpt2_lm_head" => TextModel::Gpt2LmHead(Box::new(gpt2()?.init_lm_head(device))),
            "gpt2_double_heads" => TextModel::Gpt2DoubleHeads(Box::new(gpt2()?.init_double_heads(device))),
            "gpt2_sequence_classification" => TextModel::Gpt2SequenceClassification(Box::new(gpt2()?.init_sequence_classification(device))),
            other => return Err(Error::UnknownArchitecture { architecture: other.to_owned() }),
        }))
    }

    /// The import options of a text architecture: its family's key names, plus the task-head
    /// parameters a pre-trained encoder checkpoint may lack.
    fn text_import_options<B: Backend, M: HfModule<B>>(&self) -> ImportOptions {
        let mut options = M::import_options();
        for (_, patterns) in NEW_HEAD_PARAMS.iter().filter(|(id, _)| *id == self.id) {
            for p in *patterns {
                options = options.with_optional(*p);
            }
        }
        options
    }

    /// Builds an image classifier with random weights.
    pub fn build<B: Backend>(&self, config: &ClassifierConfig, device: &B::Device) -> Result<ImageClassifier<B>> {
        let id = self.id;
        config.check(id)?;
        let missing = || Error::UnknownArchitecture { architecture: id.to_owned() };
        let n = config.num_classes;
        Ok(match self.family {
            Family::AlexNet => ImageClassifier::AlexNet(Box::new(alexnet::config(id).ok_or_else(missing)?.with_num_classes(n).init(device))),
            Family::Vgg => ImageClassifier::Vgg(Box::new(vgg::config(id).ok_or_else(missing)?.with_num_classes(n).init(device))),
            Family::ResNet => ImageClassifier::ResNet(Box::new(resnet::config(id).ok_or_else(missing)?.with_num_classes(n).init(device))),
            Family::DenseNet => ImageClassifier::DenseNet(Box::new(densenet::config(id).ok_or_else(missing)?.with_num_classes(n).init(device))),
            Family::SqueezeNet => ImageClassifier::SqueezeNet(Box::new(squeezenet::config(id).ok_or_else(missing)?.with_num_classes(n).init(device))),
            Family::GoogLeNet => {
                let mut c = googlenet::config(id).ok_or_else(missing)?.with_num_classes(n);
                c.aux_logits = config.aux_logits.unwrap_or(c.aux_logits);
                c.transform_input = config.transform_input.unwrap_or(c.transform_input);
                ImageClassifier::GoogLeNet(Box::new(c.init(device)))
            }
            Family::InceptionV3 => {
                let mut c = inception::config(id).ok_or_else(missing)?.with_num_classes(n);
                c.aux_logits = config.aux_logits.unwrap_or(c.aux_logits);
                c.transform_input = config.transform_input.unwrap_or(c.transform_input);
                ImageClassifier::InceptionV3(Box::new(c.init(device)))
            }
            Family::ShuffleNetV2 => ImageClassifier::ShuffleNetV2(Box::new(shufflenet::config(id).ok_or_else(missing)?.with_num_classes(n).init(device))),
            Family::MobileNet => ImageClassifier::MobileNet(Box::new(mobilenet::config(id).ok_or_else(missing)?.with_num_classes(n).init(device))),
            Family::EfficientNet => ImageClassifier::EfficientNet(Box::new(efficientnet::config(id).ok_or_else(missing)?.with_num_classes(n).init(device))),
            Family::EfficientNetLite => {
                ImageClassifier::EfficientNetLite(Box::new(efficientnet::lite::config(id).ok_or_else(missing)?.with_num_classes(n).init(device)))
            }
            Family::Dcgan | Family::Pgan | Family::Bert | Family::Gpt2 | Family::Tokenizer | Family::Segmentation | Family::Tacotron2 | Family::WaveGlow => {
                return Err(Error::WrongTask { entry: id.to_owned(), task: self.task.as_str().to_owned(), operation: "building a classifier" })
            }
        })
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

/// The largest sizes hub builds a model with, from a manifest's `config` tables, a
/// `config.json` or an option: checked before anything is allocated (docs/security.md lists them).
/// The published models stay far below every one; a hostile or mistyped value (a
/// `num_hidden_layers` of 10^8) is an error naming the file and key instead of an allocation that
/// aborts the process.
pub mod limits {
    /// Classes of an image classifier or a segmentation model (`num_classes`), labels of a text
    /// head (`num_labels`, `id2label`).
    pub const MAX_CLASSES: usize = 100_000;
    /// Layers of a text model (`num_hidden_layers`, `n_layer`).
    pub const MAX_LAYERS: usize = 1024;
    /// Hidden width of a text model (`hidden_size`, `n_embd`).
    pub const MAX_HIDDEN: usize = 65_536;
    /// Feed-forward width of a text model (`intermediate_size`, `n_inner`).
    pub const MAX_INTERMEDIATE: usize = 262_144;
    /// Attention heads (`num_attention_heads`, `n_head`).
    pub const MAX_HEADS: usize = 1024;
    /// Vocabulary size (`vocab_size`, `type_vocab_size`).
    pub const MAX_VOCAB: usize = 1 << 20;
    /// Positions (`max_position_embeddings`, `n_positions`).
    pub const MAX_POSITIONS: usize = 1 << 20;
    /// Tacotron2's `max_decoder_steps` (the published default is 2000, ~23 s of speech).
    pub const MAX_DECODER_STEPS: usize = 100_000;
    /// The default of [`max_parameters`]: 4·10^9 (16 GB of f32 weights; GPT-2 XL has 1.6·10^9).
    pub const DEFAULT_MAX_PARAMETERS: u64 = 4_000_000_000;

    /// The most parameters a text model's `config.json` may ask for: `HUB_MAX_PARAMETERS` when
    /// set to a positive integer, else [`DEFAULT_MAX_PARAMETERS`]. `Err` holds the variable's value
    /// when it is not a positive integer.
    pub fn max_parameters() -> Result<u64, String> {
        match std::env::var("HUB_MAX_PARAMETERS") {
            Err(_) => Ok(DEFAULT_MAX_PARAMETERS),
            Ok(v) => v.trim().parse::<u64>().ok().filter(|n| *n > 0).ok_or(v),
        }
    }
}

fn too_large(entry: &str, key: &str, value: impl std::fmt::Display, limit: usize) -> Error {
    Error::TooLarge {
        source_name: entry.to_owned(),
        key: key.to_owned(),
        value: value.to_string(),
        limit: format!("at most {limit}"),
        hint: "the published models stay far below it: check the value".into(),
    }
}

/// A positive integer config value of at most `max`; errors name the entrypoint and key.
fn positive_at_most(entry: &str, key: &str, value: &toml::Value, max: usize) -> Result<usize> {
    let n = value.as_integer().filter(|n| *n > 0).ok_or_else(|| Error::Config {
        entry: entry.to_owned(),
        key: key.to_owned(),
        message: format!("expected a positive integer, got {value}"),
    })?;
    if n as u64 > max as u64 {
        return Err(too_large(entry, key, n, max));
    }
    Ok(n as usize)
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
                "num_classes" => c.num_classes = positive_at_most(entry, key, value, limits::MAX_CLASSES)?,
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

    /// An error unless the values are within [`limits`] (for configs not read by
    /// [`from_table`](Self::from_table), e.g. `hub convert --num-classes`).
    pub fn check(&self, entry: &str) -> Result<()> {
        if self.num_classes == 0 {
            return Err(Error::Config { entry: entry.to_owned(), key: "num_classes".into(), message: "expected a positive integer, got 0".into() });
        }
        if self.num_classes > limits::MAX_CLASSES {
            return Err(too_large(entry, "num_classes", self.num_classes, limits::MAX_CLASSES));
        }
        Ok(())
    }
}

fn reject_keys(entry: &str, config: &toml::Table, known: &[&str]) -> Result<()> {
    match config.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(Error::Config { entry: entry.to_owned(), key: k.clone(), message: format!("unknown config key (known: {known:?})") }),
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

macro_rules! text_models {
    ($($variant:ident($($path:tt)+)),* $(,)?) => {
        /// A text model (BERT or GPT-2, with or without a head).
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum TextModel<B: Backend> {
            $(
                #[doc = concat!("A `", stringify!($($path)+), "`.")]
                $variant(Box<$($path)+<B>>),
            )*
        }

        impl<B: Backend> TextModel<B> {
            fn load_weights(self, architecture: &Architecture, path: &Path) -> Result<(Self, ImportReport)> {
                Ok(match self {
                    $(TextModel::$variant(m) => {
                        let options = architecture.text_import_options::<B, $($path)+<B>>();
                        let (m, r) = boxed(m, |m| Ok(m.load_weights_with(path, &options)?))?;
                        (TextModel::$variant(m), r)
                    })*
                })
            }
        }
    };
}

impl<B: Backend> TextModel<B> {
    /// The longest token sequence the model takes (its position embeddings).
    pub fn max_positions(&self) -> usize {
        match self {
            TextModel::Bert(m) => m.max_positions(),
            TextModel::BertMaskedLm(m) => m.bert.max_positions(),
            TextModel::BertNextSentence(m) => m.bert.max_positions(),
            TextModel::BertPreTraining(m) => m.bert.max_positions(),
            TextModel::BertSequenceClassification(m) => m.bert.max_positions(),
            TextModel::BertMultipleChoice(m) => m.bert.max_positions(),
            TextModel::BertQuestionAnswering(m) => m.bert.max_positions(),
            TextModel::BertTokenClassification(m) => m.bert.max_positions(),
            TextModel::Gpt2(m) => m.max_positions(),
            TextModel::Gpt2LmHead(m) => m.transformer.max_positions(),
            TextModel::Gpt2DoubleHeads(m) => m.transformer.max_positions(),
            TextModel::Gpt2SequenceClassification(m) => m.transformer.max_positions(),
        }
    }
}

text_models! {
    Bert(BertModel),
    BertMaskedLm(BertForMaskedLm),
    BertNextSentence(bert::BertForNextSentencePrediction),
    BertPreTraining(bert::BertForPreTraining),
    BertSequenceClassification(bert::BertForSequenceClassification),
    BertMultipleChoice(bert::BertForMultipleChoice),
    BertQuestionAnswering(bert::BertForQuestionAnswering),
    BertTokenClassification(bert::BertForTokenClassification),
    Gpt2(Gpt2Model),
    Gpt2LmHead(Gpt2LmHeadModel),
    Gpt2DoubleHeads(gpt2::Gpt2DoubleHeadsModel),
    Gpt2SequenceClassification(gpt2::Gpt2ForSequenceClassification),
}

/// An image generator (GAN).
#[derive(Debug)]
#[non_exhaustive]
pub enum Generator<B: Backend> {
    /// A DCGAN generator.
    Dcgan(Box<dcgan::Dcgan<B>>),
    /// A progressive GAN generator.
    Pgan(Box<pgan::Pgan<B>>),
}

impl<B: Backend> Generator<B> {
    /// The GAN zoo's `buildNoiseData(n)`, seeded.
    ///
    /// # Shapes
    /// - returns: `[n, latent_dim]`
    pub fn build_noise_data(&self, n: usize, seed: u64, device: &B::Device) -> Tensor<B, 2> {
        let mut rng = NoiseRng::seed_from_u64(seed);
        match self {
            Generator::Dcgan(m) => m.build_noise_data(n, &mut rng, device),
            Generator::Pgan(m) => m.build_noise_data(n, &mut rng, device),
        }
    }

    /// The GAN zoo's `test(noise)`: images in [-1, 1].
    ///
    /// # Shapes
    /// - noise: `[n, latent_dim]`
    /// - returns: `[n, channels, size, size]`
    pub fn test(&self, noise: Tensor<B, 2>) -> Tensor<B, 4> {
        match self {
            Generator::Dcgan(m) => m.test(noise),
            Generator::Pgan(m) => m.test(noise),
        }
    }
}

impl<B: Backend> Model<B> {
    /// Loads a PyTorch checkpoint, reading the state dict under `key` when given.
    pub fn load_pytorch(self, architecture: &Architecture, path: &Path, key: Option<&str>) -> Result<(Self, ImportReport)> {
        Ok(match self {
            Model::Classifier(m) => {
                let mut options = ImportOptions::new().with_remaps(architecture.family.remaps());
                if let Some(k) = key {
                    options = options.with_top_level_key(k);
                }
                let (m, r) = m.load_pytorch(path, &options)?;
                (Model::Classifier(m), r)
            }
            Model::Generator(Generator::Dcgan(m)) => {
                let layout = if architecture.id == "dcgan_faces" { dcgan::weights::KeyLayout::Sequential } else { dcgan::weights::KeyLayout::GanZoo };
                let default_key = dcgan::weights::weights(architecture.id).map_or("netG", |w| w.top_level_key);
                let options = dcgan::weights::import_options(layout, m.depth(), key.unwrap_or(default_key));
                let (m, r) = boxed(m, |m| Ok(import::load_pytorch::<B, _>(m, path, &options)?))?;
                (Model::Generator(Generator::Dcgan(m)), r)
            }
            Model::Text(m) => {
                let (m, r) = m.load_weights(architecture, path)?;
                (Model::Text(m), r)
            }
            Model::Tokenizer => (Model::Tokenizer, ImportReport::default()),
            Model::Tacotron2(m) => {
                let (m, r) = boxed(m, |m| Ok(import::load_pytorch::<B, _>(m, path, &tacotron2::weights::import_options())?))?;
                (Model::Tacotron2(m), r)
            }
            Model::WaveGlow(m) => {
                // The checkpoint decides whether the WN convolutions carry weight norm.
                let options = waveglow::weights::import_options();
                let config = waveglow::config(architecture.id)
                    .ok_or_else(|| Error::UnknownArchitecture { architecture: architecture.id.to_owned() })?
                    .with_weight_norm(waveglow::weights::has_weight_norm(path, &options)?);
                let device = burn::module::Module::devices(m.as_ref()).into_iter().next().unwrap_or_default();
                drop(m);
                let (m, r) = import::load_pytorch::<B, _>(config.init::<B>(&device), path, &options)?;
                (Model::WaveGlow(Box::new(m)), r)
            }
            Model::Segmenter(m) => {
                let mut options = ImportOptions::new().with_remaps(segmentation::weights::remaps());
                if let Some(k) = key {
                    options = options.with_top_level_key(k);
                }
                let (m, r) = boxed(m, |m| Ok(import::load_pytorch::<B, _>(m, path, &options)?))?;
                (Model::Segmenter(m), r)
            }
            Model::Generator(Generator::Pgan(m)) => {
                let options = pgan::weights::import_options(key.unwrap_or("netG"));
                let (m, r) = boxed(m, |m| Ok(import::load_pytorch::<B, _>(m, path, &options)?))?;
                (Model::Generator(Generator::Pgan(m)), r)
            }
        })
    }

    /// Loads a safetensors file (classifiers and text models).
    pub fn load_safetensors(self, architecture: &Architecture, path: &Path) -> Result<(Self, ImportReport)> {
        match self {
            Model::Text(m) => m.load_weights(architecture, path).map(|(m, r)| (Model::Text(m), r)),
            Model::Classifier(m) => {
                let (m, r) = m.load_safetensors(path, &ImportOptions::new().with_remaps(architecture.family.remaps()))?;
                Ok((Model::Classifier(m), r))
            }
            Model::Segmenter(m) => {
                let options = ImportOptions::new().with_remaps(segmentation::weights::remaps());
                let (m, r) = boxed(m, |m| Ok(import::load_safetensors::<B, _>(m, path, &options)?))?;
                Ok((Model::Segmenter(m), r))
            }
            _ => Err(Error::WrongTask { entry: architecture.id.to_owned(), task: architecture.task.as_str().to_owned(), operation: "loading safetensors" }),
        }
    }
}

/// Runs `f` on a boxed module, keeping the module's bytes out of the caller's stack frame (a
/// `match` over many large modules would otherwise reserve room for all of them at once).
#[allow(clippy::boxed_local)]
fn boxed<B: Backend, M: burn::module::Module<B>>(
    m: Box<M>,
    f: impl FnOnce(M) -> Result<(M, ImportReport)>,
) -> Result<(Box<M>, ImportReport)> {
    let (m, report) = f(*m)?;
    Ok((Box::new(m), report))
}

macro_rules! classifiers {
    ($($variant:ident($($path:tt)+)),* $(,)?) => {
        /// An image classifier of any family (boxed: the modules are large).
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum ImageClassifier<B: Backend> {
            $(
                #[doc = concat!("A `", stringify!($($path)+), "`.")]
                $variant(Box<$($path)+<B>>),
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
                    $(ImageClassifier::$variant(m) => import::parameter_count::<B, _>(m.as_ref()),)*
                }
            }

            /// Loads a PyTorch checkpoint (zip or legacy) through burn-store.
            pub fn load_pytorch(self, path: &Path, options: &ImportOptions) -> Result<(Self, ImportReport)> {
                Ok(match self {
                    $(ImageClassifier::$variant(m) => {
                        let (m, report) = boxed(m, |m| Ok(import::load_pytorch::<B, _>(m, path, options)?))?;
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
                let err = |message: String| Error::Burnpack { path: path.to_path_buf(), message };
                Ok(match self {
                    $(ImageClassifier::$variant(mut m) => {
                        let mut store = BurnpackStore::from_file(path);
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
                        let (m, report) = boxed(m, |m| Ok(import::load_safetensors::<B, _>(m, path, options)?))?;
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
    fn random_weights_are_stable_across_forward_passes() {
        use burn::tensor::Distribution;
        type B = burn::backend::Flex;
        let device = Default::default();
        let model = find("squeezenet1_1").unwrap().build::<B>(&ClassifierConfig::default(), &device).unwrap();
        let x = Tensor::<B, 4>::random([1, 3, 64, 64], Distribution::Normal(0.0, 1.0), &device);
        let a: Vec<f32> = model.forward(x.clone()).into_data().to_vec().unwrap();
        let b: Vec<f32> = model.forward(x).into_data().to_vec().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn text_architectures_follow_the_model_type() {
        let seq = find("bert_sequence_classification").unwrap();
        assert_eq!(seq.task, Task::TextClassification);
        assert_eq!(seq.for_model_type("e", None).unwrap(), seq);
        assert_eq!(seq.for_model_type("e", Some("bert")).unwrap(), seq);
        assert_eq!(seq.for_model_type("e", Some("gpt2")).unwrap().id, "gpt2_sequence_classification");
        assert_eq!(find("bert").unwrap().for_model_type("e", Some("gpt2")).unwrap().id, "gpt2");
        let e = find("bert_question_answering").unwrap().for_model_type("e", Some("gpt2")).unwrap_err().to_string();
        assert!(e.contains("no question-answering head for gpt2") && e.contains("text-generation"), "{e}");
        let e = seq.for_model_type("e", Some("t5")).unwrap_err().to_string();
        assert!(e.contains("\"t5\""), "{e}");
        // Every text head that may be missing from a checkpoint names a real architecture.
        let ids = NEW_HEAD_PARAMS.iter().map(|(id, _)| *id).chain(TEXT_TASKS.iter().map(|(id, _)| *id));
        for id in ids {
            assert!(find(id).is_some_and(|a| a.family.is_text()), "{id}");
        }
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
