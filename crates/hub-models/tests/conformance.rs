//! The conformance test of the registry: every architecture of
//! [`registry::architectures`] builds, has the parameter count of its reference implementation,
//! refuses an unknown variant id and runs a small forward; a sample of each family's state-dict
//! keys are the reference's ([`STATE_DICT_KEYS`]); every entrypoint of the built-in manifests
//! names a registry architecture of its own task.
//!
//! The reference counts are torchvision's published `num_params`, which the built-in manifests
//! carry as each weights' `params`, and, for the architectures no manifest counts,
//! [`REFERENCE_PARAMS`]. A new architecture needs a row in one of the two (or in [`UNCOUNTED`],
//! saying why there is none); a count in both is refused, so each number lives in one place.
//!
//! Counting is cheap: parameters are initialised lazily, and nothing here downloads. The forward
//! pass uses a small configuration (10 classes, a tiny `config.json`, two decoder steps) and the
//! smallest input the architecture takes ([`preprocess::min_input_size`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::prelude::*;
use burn::tensor::{Device, Distribution};
use hub_models::builtin;
use hub_models::gan::NoiseRng;
use hub_models::hub_core::Manifest;
use hub_models::preprocess::min_input_size;
use hub_models::registry::{self, Architecture, Family, Model, Task, TextModel};
use hub_models::text::bert::{self, BertInput};
use hub_models::text::gpt2::{self, Gpt2Input};
use hub_models::tts::{tacotron2, text::text_to_sequence, waveglow};
use hub_models::Error;

type B = Flex;

/// Reference parameter counts of the architectures whose count no built-in manifest gives.
const REFERENCE_PARAMS: &[(&str, usize)] = &[
    // torchvision's GoogLeNet with `aux_logits=True`: its 6,624,904 plus two auxiliary heads of
    // a 1×1 conv (in·128) + BN (2·128), fc 2048→1024 and fc 1024→1000, for in = 512 and 528.
    ("googlenet_aux", 13_004_888),
    // The EfficientNet-Lite0 checkpoint: the sum of its weights and biases.
    ("efficientnet_lite0", 4_652_008),
    // The PyTorch DCGAN tutorial's generator (nz = 100, ngf = 64, 3 channels).
    ("dcgan_faces", 3_576_704),
    // transformers' `num_parameters()` at bert-base-uncased's and gpt2's configurations (two
    // labels; tied embeddings count once).
    ("bert", 109_482_240),
    ("bert_masked_lm", 109_514_298),
    ("bert_next_sentence", 109_483_778),
    ("bert_pretraining", 110_106_428),
    ("bert_sequence_classification", 109_483_778),
    ("bert_multiple_choice", 109_483_009),
    ("bert_question_answering", 108_893_186),
    ("bert_token_classification", 108_893_186),
    ("gpt2", 124_439_808),
    ("gpt2_lm_head", 124_439_808),
    ("gpt2_double_heads", 124_440_577),
    ("gpt2_sequence_classification", 124_441_344),
    // A tokenizer builds no module.
    ("tokenizer", 0),
];

/// State-dict keys the reference implementations name, a sample per family (the stem, a block
/// deep inside, the heads): the model's module paths with PyTorch's parameter names.
const STATE_DICT_KEYS: &[(&str, &[&str])] = &[
    (
        "alexnet",
        &[
            "features.0.weight",
            "features.3.weight",
            "features.6.weight",
            "features.8.weight",
            "features.10.bias",
            "classifier.1.weight",
            "classifier.4.weight",
            "classifier.6.bias",
        ],
    ),
    // features.0 conv, .1 bn, .2 relu, .3 pool, .4 conv ...
    ("vgg11_bn", &["features.0.weight", "features.1.running_var", "features.4.weight", "classifier.6.bias"]),
    ("resnet50", &["conv1.weight", "bn1.running_mean", "layer1.0.downsample.conv.weight", "layer4.2.bn3.bias", "fc.weight"]),
    ("squeezenet1_1", &["features.0.weight", "features.3.squeeze.weight", "features.12.expand3x3.bias", "classifier.1.weight"]),
    (
        "googlenet_aux",
        &[
            "conv1.conv.weight",
            "conv1.bn.running_var",
            "inception3a.branch2.1.conv.weight",
            "inception5b.branch4.bn.bias",
            "aux1.fc2.weight",
            "aux2.conv.conv.weight",
            "fc.bias",
        ],
    ),
    (
        "inception_v3",
        &[
            "conv2d_1a_3x3.conv.weight",
            "mixed_5b.branch_pool.bn.running_mean",
            "mixed_7c.branch3x3dbl_3b.conv.weight",
            "aux_logits.conv1.conv.weight",
            "aux_logits.fc.bias",
            "fc.weight",
        ],
    ),
    (
        "deeplabv3_resnet50",
        &[
            "backbone.conv1.weight",
            "backbone.layer1.0.conv1.weight",
            "backbone.layer4.2.bn3.running_var",
            "classifier.0.convs.0.0.weight",
            "classifier.0.convs.3.1.running_mean",
            "classifier.0.convs.4.1.weight",
            "classifier.0.convs.4.2.weight",
            "classifier.0.project.0.weight",
            "classifier.1.weight",
            "classifier.2.bias",
            "classifier.4.bias",
            "aux_classifier.0.weight",
            "aux_classifier.1.weight",
            "aux_classifier.4.weight",
        ],
    ),
    ("fcn_resnet101", &["classifier.0.weight", "classifier.1.weight", "classifier.4.bias"]),
    (
        "lraspp_mobilenet_v3_large",
        &[
            "backbone.features.0.conv.weight",
            "backbone.features.16.bn.running_mean",
            "classifier.cbr.0.weight",
            "classifier.scale.1.weight",
            "classifier.low_classifier.bias",
            "classifier.high_classifier.weight",
        ],
    ),
];

/// Architectures without a published parameter count: the strict loads of their parity tests
/// (every tensor of the PyTorch reference's checkpoint, no more, no fewer) check their sizes.
const UNCOUNTED: &[&str] = &["gan_zoo_dcgan", "pgan", "nvidia_tacotron2", "nvidia_waveglow"];

/// The model ids whose configuration a text family's table gives, and the one its reference
/// counts are taken at.
fn text_family_ids(family: Family) -> (&'static [&'static str], &'static str) {
    match family {
        Family::Gpt2 => (gpt2::VARIANTS, "gpt2"),
        _ => (bert::VARIANTS, "bert-base-uncased"),
    }
}

/// A text family's `config.json` for the model id `id` of its table, in `dir`.
fn text_config(dir: &Path, family: Family, id: &str) -> PathBuf {
    let json = match family {
        Family::Gpt2 => serde_json::to_string(&gpt2::config(id).unwrap()),
        _ => serde_json::to_string(&bert::config(id).unwrap()),
    };
    let path = dir.join(format!("{}.json", id.replace('/', "_")));
    std::fs::write(&path, json.unwrap()).unwrap();
    path
}

/// Sizes of the tiny text models of the forward pass.
const VOCAB: usize = 50;
const HIDDEN: usize = 16;
const LABELS: usize = 3;

/// A tiny `config.json` of a text family, in `dir`.
fn tiny_text_config(dir: &Path, family: Family) -> PathBuf {
    let json = match family {
        Family::Gpt2 => format!(r#"{{"model_type": "gpt2", "vocab_size": {VOCAB}, "n_embd": {HIDDEN}, "n_layer": 2, "n_head": 4, "n_positions": 16, "bos_token_id": 0, "eos_token_id": 0}}"#),
        _ => format!(
            r#"{{"model_type": "bert", "vocab_size": {VOCAB}, "hidden_size": {HIDDEN}, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 32, "max_position_embeddings": 16}}"#
        ),
    };
    let path = dir.join(format!("tiny_{family:?}.json"));
    std::fs::write(&path, json).unwrap();
    path
}

/// The manifest config of the forward pass: few classes, two decoder steps.
fn small_config(architecture: &Architecture) -> toml::Table {
    let text = match architecture.task {
        Task::ImageClassification => "num_classes = 10",
        Task::SemanticSegmentation => "num_classes = 3",
        Task::TextToSpectrogram => "max_decoder_steps = 2",
        _ => "",
    };
    toml::from_str(text).unwrap()
}

/// The built-in manifests, parsed.
fn builtin_manifests() -> Vec<(&'static str, Manifest)> {
    builtin::MANIFESTS.iter().map(|(spec, src)| (*spec, Manifest::parse(src, spec).unwrap_or_else(|e| panic!("{spec}: {e}")))).collect()
}

/// The number of parameters of any model, as PyTorch counts them.
fn count(model: &Model<B>) -> usize {
    model.num_params()
}

/// The PyTorch state-dict keys of any model.
fn state_dict_keys(model: &Model<B>) -> Vec<String> {
    let shapes = model.state_dict_shapes();
    shapes.into_iter().map(|(key, _)| key).collect()
}

/// `architecture` at the configuration of its reference count: the registry's default, or
/// the text family's reference `config.json` (written into `dir`).
fn build_reference(architecture: &Architecture, dir: &Path) -> Model<B> {
    let device: Device<B> = Default::default();
    let model = if architecture.family.is_text() {
        let (_, reference_id) = text_family_ids(architecture.family);
        architecture.build_text(&text_config(dir, architecture.family, reference_id), None, &device)
    } else {
        architecture.build_model(architecture.id, &toml::Table::new(), &device)
    };
    model.unwrap_or_else(|e| panic!("{}: {e}", architecture.id))
}

/// Asserts the shape of `tensor` and that every value is finite.
fn check<const D: usize>(what: &str, tensor: Tensor<B, D>, dims: [usize; D]) {
    assert_eq!(tensor.dims(), dims, "{what}: output shape");
    let values = tensor.into_data().convert::<f32>().to_vec::<f32>().unwrap();
    assert!(values.iter().all(|v| v.is_finite()), "{what}: a value is not finite");
}

/// Runs a text model of the tiny configuration on a batch of one four-token sequence (two
/// choices of four tokens for the multiple-choice heads).
fn text_forward(id: &str, model: &TextModel<B>, device: &Device<B>) {
    const SEQ: usize = 4;
    let ids = || Tensor::<B, 2, Int>::from_ints([[1, 7, 12, 3]], device);
    let choices = || Tensor::<B, 3, Int>::from_ints([[[1, 7, 12, 3], [1, 9, 4, 3]]], device);
    let bert_input = || BertInput::new(ids()).with_attention_mask(Tensor::ones([1, SEQ], device));
    let gpt2_input = || Gpt2Input::new(ids());
    match model {
        TextModel::Bert(m) => {
            let out = m.forward(bert_input());
            check(id, out.last_hidden_state, [1, SEQ, HIDDEN]);
            check(id, out.pooler_output.expect("BertModel has a pooler"), [1, HIDDEN]);
        }
        TextModel::BertMaskedLm(m) => check(id, m.forward(bert_input()), [1, SEQ, VOCAB]),
        TextModel::BertNextSentence(m) => check(id, m.forward(bert_input()), [1, 2]),
        TextModel::BertPreTraining(m) => {
            let out = m.forward(bert_input());
            check(id, out.prediction_logits, [1, SEQ, VOCAB]);
            check(id, out.seq_relationship_logits, [1, 2]);
        }
        TextModel::BertSequenceClassification(m) => check(id, m.forward(bert_input()), [1, LABELS]),
        TextModel::BertMultipleChoice(m) => check(id, m.forward(choices(), None, None), [1, 2]),
        TextModel::BertQuestionAnswering(m) => {
            let out = m.forward(bert_input());
            check(id, out.start_logits, [1, SEQ]);
            check(id, out.end_logits, [1, SEQ]);
        }
        TextModel::BertTokenClassification(m) => check(id, m.forward(bert_input()), [1, SEQ, LABELS]),
        TextModel::Gpt2(m) => check(id, m.forward(gpt2_input(), None), [1, SEQ, HIDDEN]),
        TextModel::Gpt2LmHead(m) => check(id, m.forward(gpt2_input(), None), [1, SEQ, VOCAB]),
        TextModel::Gpt2DoubleHeads(m) => {
            let out = m.forward(choices(), None, None);
            check(id, out.lm_logits, [1, 2, SEQ, VOCAB]);
            check(id, out.mc_logits, [1, 2]);
        }
        TextModel::Gpt2SequenceClassification(m) => check(id, m.forward(gpt2_input()), [1, LABELS]),
        _ => panic!("{id}: a text model this test cannot run: add it"),
    }
}

/// Runs a model of the small configuration on the smallest input its architecture takes.
fn small_forward(architecture: &Architecture, model: &Model<B>, device: &Device<B>) {
    let id = architecture.id;
    let side = min_input_size(architecture);
    let image = || Tensor::<B, 4>::random([1, 3, side, side], Distribution::Normal(0.0, 1.0), device);
    let mut rng = NoiseRng::seed_from_u64(0);
    match model {
        Model::Classifier(m) => check(id, m.forward(image()), [1, 10]),
        Model::Segmenter(m) => {
            let out = m.forward(image());
            check(id, out.out, [1, 3, side, side]);
            if let Some(aux) = out.aux {
                check(&format!("{id} aux"), aux, [1, 3, side, side]);
            }
        }
        Model::Generator(g) => {
            let images = g.test(g.build_noise_data(2, 0, device));
            let side = images.dims()[3];
            check(id, images, [2, 3, side, side]);
        }
        Model::Tacotron2(m) => {
            let symbols: Vec<i64> = text_to_sequence("Hi.").into_iter().map(i64::from).collect();
            let len = symbols.len();
            let out = m.infer(Tensor::from_data(TensorData::new(symbols, [1, len]), device), &mut rng);
            let mels = tacotron2::config(id).unwrap().n_mel_channels;
            let frames = out.mel_postnet.dims()[2];
            assert!((1..=2).contains(&frames), "{id}: {frames} frames from at most two decoder steps");
            check(id, out.mel_postnet, [1, mels, frames]);
        }
        Model::WaveGlow(m) => {
            let mels = waveglow::config(id).unwrap().n_mel_channels;
            let mel = Tensor::<B, 3>::random([1, mels, 2], Distribution::Normal(0.0, 1.0), device);
            check(id, m.infer(mel, 1.0, &mut rng), [1, 2 * waveglow::HOP_LENGTH]);
        }
        Model::Text(m) => text_forward(id, m, device),
        Model::Tokenizer => {}
        _ => panic!("{id}: a kind of model this test cannot run: add it"),
    }
}

#[test]
fn every_architecture_has_the_reference_parameter_count() {
    let device: Device<B> = Default::default();
    let dir = tempfile::tempdir().unwrap();
    // The manifests' counts, by architecture: every weights of one architecture must agree.
    let mut published: BTreeMap<&str, (u64, String)> = BTreeMap::new();
    let manifests = builtin_manifests();
    for (spec, manifest) in &manifests {
        for (name, entry) in &manifest.entrypoints {
            for (weights_name, w) in &entry.weights {
                let Some(params) = w.params else { continue };
                let architecture = entry.architecture_for(Some(w));
                let at = format!("{spec} {name} {weights_name}");
                if w.config.contains_key("image_size") {
                    // ViT's position embeddings grow with the resolution of these weights:
                    // their count is checked at their own config.
                    let reference = registry::find(architecture).unwrap_or_else(|| panic!("{at}: {architecture} is not in the registry"));
                    let model = reference.build_model(architecture, &w.config, &device).unwrap_or_else(|e| panic!("{at}: {e}"));
                    assert_eq!(count(&model) as u64, params, "{at}: parameters at its config");
                    continue;
                }
                if let Some((before, there)) = published.insert(architecture, (params, at.clone())) {
                    assert_eq!(before, params, "{architecture}: {there} and {at} publish different counts");
                }
            }
        }
    }
    for (id, _) in REFERENCE_PARAMS {
        assert!(registry::find(id).is_some(), "REFERENCE_PARAMS names {id}, which is not in the registry");
        assert!(!published.contains_key(id), "{id}: the manifests publish its count; remove its REFERENCE_PARAMS row");
    }
    for id in UNCOUNTED {
        assert!(registry::find(id).is_some(), "UNCOUNTED names {id}, which is not in the registry");
    }
    for architecture in registry::architectures() {
        let id = architecture.id;
        let table = REFERENCE_PARAMS.iter().find(|(a, _)| *a == id).map(|(_, n)| *n as u64);
        let reference = published.get(id).map(|(n, _)| *n).or(table);
        let model = build_reference(&architecture, dir.path());
        match reference {
            Some(expected) => assert_eq!(count(&model) as u64, expected, "{id}: parameters"),
            None => assert!(UNCOUNTED.contains(&id), "{id}: no reference parameter count; add it to REFERENCE_PARAMS"),
        }
    }
    // Every model id of a text family's table has a configuration the registry builds.
    for family in [Family::Bert, Family::Gpt2] {
        let architecture = registry::architectures().find(|a| a.family == family).unwrap();
        for id in text_family_ids(family).0 {
            let model = architecture.build_text(&text_config(dir.path(), family, id), None, &device);
            assert!(count(&model.unwrap_or_else(|e| panic!("{id}: {e}"))) > 0, "{id}");
        }
    }
}

#[test]
fn state_dict_keys_are_the_references() {
    let dir = tempfile::tempdir().unwrap();
    for (id, expected) in STATE_DICT_KEYS {
        let architecture = registry::find(id).unwrap_or_else(|| panic!("STATE_DICT_KEYS names {id}, which is not in the registry"));
        let keys = state_dict_keys(&build_reference(&architecture, dir.path()));
        for key in *expected {
            assert!(keys.iter().any(|k| k == key), "{id}: no state-dict key {key}");
        }
    }
}

#[test]
fn every_family_refuses_an_unknown_variant() {
    let device: Device<B> = Default::default();
    let dir = tempfile::tempdir().unwrap();
    let id = "no_such_variant";
    assert!(registry::find(id).is_none());
    for &family in Family::ALL {
        assert!(!family.variants().is_empty(), "{family:?} has no variant");
        if family == Family::Tokenizer {
            // One tokenizer architecture, and no module to build: nothing to refuse.
            continue;
        }
        let architecture = Architecture { id, family, task: family.task(id) };
        let built = if family.is_text() {
            architecture.build_text::<B>(&tiny_text_config(dir.path(), family), None, &device)
        } else {
            architecture.build_model(id, &toml::Table::new(), &device)
        };
        match built {
            Err(Error::UnknownArchitecture { architecture }) => assert_eq!(architecture, id),
            Err(e) => panic!("{family:?}: {e}"),
            Ok(_) => panic!("{family:?} built an unknown variant"),
        }
    }
}

#[test]
fn every_architecture_runs_a_small_forward() {
    let device: Device<B> = Default::default();
    let dir = tempfile::tempdir().unwrap();
    for architecture in registry::architectures() {
        let id = architecture.id;
        let model = if architecture.family.is_text() {
            architecture.build_text(&tiny_text_config(dir.path(), architecture.family), Some(LABELS), &device)
        } else {
            architecture.build_model(id, &small_config(&architecture), &device)
        };
        small_forward(&architecture, &model.unwrap_or_else(|e| panic!("{id}: {e}")), &device);
    }
}

#[test]
fn builtin_entrypoints_name_registry_architectures_of_their_task() {
    for (spec, manifest) in builtin_manifests() {
        manifest.check_dependencies(spec, registry::provides).unwrap();
        for (name, entry) in &manifest.entrypoints {
            let weights = entry.weights.iter().map(|(n, w)| (n.as_str(), Some(w)));
            for (weights_name, w) in weights.chain([("(none)", None)]) {
                let id = entry.architecture_for(w);
                let architecture = registry::find(id).unwrap_or_else(|| panic!("{spec} {name} {weights_name}: {id} is not in the registry"));
                assert_eq!(architecture.task.as_str(), entry.task, "{spec} {name} {weights_name}: {id}'s task");
            }
        }
    }
}
