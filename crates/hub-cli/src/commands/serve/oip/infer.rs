//! What each task takes and gives over the protocol ([`io`]), and running a request on the
//! model ([`infer`]).

use hub_models::registry::Task;
use serde_json::Value;

use super::super::batch::{Info, Worker};
use super::super::error::ApiError;
use super::super::tasks;
use super::wire::{bad, Data, OutData, Output, Request, TensorSpec};

/// The tasks not served over the protocol yet (their task endpoint serves them), for [`io`]
/// and [`infer`] alike.
macro_rules! unserved {
    () => {
        Task::ImageGeneration
            | Task::SemanticSegmentation
            | Task::TextToSpectrogram
            | Task::SpectrogramToAudio
            | Task::TokenClassification
            | Task::MultipleChoice
            | Task::PreTraining
            | Task::Tokenization
    };
}

/// The inputs and outputs of a model's task (none: not served over this protocol yet; its
/// task endpoint serves it).
pub(super) fn io(info: &Info) -> (Vec<TensorSpec>, Vec<TensorSpec>) {
    let t = TensorSpec::new;
    let text = || t("text", "BYTES", &[-1]);
    match info.task {
        Task::ImageClassification => {
            let c = info.crop().map_or(-1, |c| c as i64);
            (vec![t("input", "FP32", &[-1, 3, c, c])], vec![t("logits", "FP32", &[-1, info.classes.map_or(-1, |n| n as i64)])])
        }
        Task::FillMask => (vec![text()], vec![t("token", "BYTES", &[-1, -1, -1]), t("token_id", "INT64", &[-1, -1, -1]), t("probability", "FP32", &[-1, -1, -1])]),
        Task::FeatureExtraction => (vec![text()], vec![t("embedding", "FP32", &[-1, -1])]),
        Task::TextGeneration => (vec![text()], vec![t("generated", "BYTES", &[-1])]),
        Task::TextClassification => (vec![text(), t("text_pair", "BYTES", &[-1])], vec![t("probabilities", "FP32", &[-1, -1]), t("label", "BYTES", &[-1])]),
        Task::QuestionAnswering => (
            vec![t("question", "BYTES", &[-1]), t("context", "BYTES", &[-1])],
            vec![t("answer", "BYTES", &[-1]), t("score", "FP32", &[-1]), t("start", "INT64", &[-1]), t("end", "INT64", &[-1])],
        ),
        Task::NextSentencePrediction => (vec![text(), t("text_pair", "BYTES", &[-1])], vec![t("is_next_probability", "FP32", &[-1])]),
        unserved!() => (Vec::new(), Vec::new()),
    }
}

/// Runs the request on the model: its task's inputs in, its outputs out.
pub(super) async fn infer(worker: &Worker, request: &Request) -> Result<Vec<Output>, ApiError> {
    let (inputs, outputs) = io(&worker.info);
    if inputs.is_empty() {
        return Err(bad(format!(
            "{} models ({}) are not served over the inference protocol yet; POST /api/models/NAME serves their task",
            worker.info.task.as_str(),
            worker.info.entry
        )));
    }
    for input in &request.inputs {
        if !inputs.iter().any(|s| s.name == input.name) {
            let names: Vec<&str> = inputs.iter().map(|s| s.name).collect();
            return Err(bad(format!("this model has no input {:?}; its inputs are {}", input.name, names.join(", "))));
        }
    }
    if let Some(outs) = &request.json.outputs {
        for o in outs {
            if !outputs.iter().any(|s| s.name == o.name) {
                let names: Vec<&str> = outputs.iter().map(|s| s.name).collect();
                return Err(bad(format!("this model has no output {:?}; its outputs are {}", o.name, names.join(", "))));
            }
        }
    }
    let params = tasks::Params::from_json(&Value::Object(request.json.parameters.clone()))?;
    match worker.info.task {
        Task::ImageClassification => {
            let input = request.input(&inputs[0])?.ok_or_else(|| bad("this model needs the input \"input\" (FP32 [N, 3, H, W])"))?;
            let Data::F32(values) = &input.data else { unreachable!("input() checked the datatype") };
            let classification = request.requested("logits").and_then(|p| p.get("classification")).map(|k| k.as_u64().filter(|k| *k > 0).ok_or_else(|| bad("classification must be a positive count"))).transpose()?;
            let out = worker.rows(values.clone(), input.shape[0], classification.map(|k| k as usize)).await?;
            let rows = input.shape[0];
            if let Some(k) = classification {
                // Triton's classification extension: "score:index:label" strings, best first.
                let k = (k as usize).min(out.classes);
                let strings = out.top_k.iter().flat_map(|row| row.iter().take(k).map(|p| format!("{}:{}:{}", p.probability, p.index, p.label))).collect();
                return Ok(vec![Output { name: "logits", shape: vec![rows, k], data: OutData::Bytes(strings) }]);
            }
            Ok(vec![Output { name: "logits", shape: vec![rows, out.classes], data: OutData::F32(out.logits) }])
        }
        Task::FillMask => {
            let texts = request.required_texts(&inputs[0])?;
            let k = params.top_k;
            let filled = worker.run(move |m| tasks::fill_mask(m, &texts, k)).await?;
            let masks = filled.results.first().map_or(0, |r| r.masks.len());
            let k = filled.results.first().and_then(|r| r.masks.first()).map_or(0, Vec::len);
            if filled.results.iter().any(|r| r.masks.len() != masks || r.masks.iter().any(|m| m.len() != k)) {
                return Err(bad("every text of one request needs the same number of [MASK] tokens (the output is [texts, masks, k])"));
            }
            let preds = filled.results.iter().flat_map(|r| r.masks.iter().flatten());
            let shape = vec![filled.results.len(), masks, k];
            Ok(vec![
                Output { name: "token", shape: shape.clone(), data: OutData::Bytes(preds.clone().map(|p| p.token.clone()).collect()) },
                Output { name: "token_id", shape: shape.clone(), data: OutData::I64(preds.clone().map(|p| i64::from(p.id)).collect()) },
                Output { name: "probability", shape, data: OutData::F32(preds.map(|p| p.probability).collect()) },
            ])
        }
        Task::FeatureExtraction => {
            let texts = request.required_texts(&inputs[0])?;
            let (values, n, dim) = worker
                .run(move |m| {
                    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                    let emb = m.embed(&refs).map_err(|e| ApiError::from_model(&e))?;
                    let [n, dim] = emb.dims();
                    Ok((emb.into_data().iter::<f32>().collect::<Vec<f32>>(), n, dim))
                })
                .await?;
            Ok(vec![Output { name: "embedding", shape: vec![n, dim], data: OutData::F32(values) }])
        }
        Task::TextGeneration => {
            let prompts = request.required_texts(&inputs[0])?;
            let config = params.generation()?;
            let n = prompts.len();
            let texts = worker
                .run(move |m| {
                    let refs: Vec<&str> = prompts.iter().map(String::as_str).collect();
                    m.generate_texts(&refs, &config).map_err(|e| ApiError::from_model(&e))
                })
                .await?;
            Ok(vec![Output { name: "generated", shape: vec![n], data: OutData::Bytes(texts.into_iter().map(|t| t.text).collect()) }])
        }
        Task::TextClassification => {
            let texts = request.required_texts(&inputs[0])?;
            let pairs = request.texts(&inputs[1])?;
            check_same_len(&texts, pairs.as_deref(), "text_pair")?;
            let n = texts.len();
            let labels = worker
                .run(move |m| {
                    texts.iter().enumerate().map(|(i, t)| m.classify_text(t, pairs.as_ref().map(|p| p[i].as_str()), usize::MAX).map_err(|e| ApiError::from_model(&e))).collect::<Result<Vec<_>, _>>()
                })
                .await?;
            let width = labels.first().map_or(0, Vec::len);
            let mut probabilities = vec![0.0; n * width];
            for (row, preds) in labels.iter().enumerate() {
                for p in preds {
                    probabilities[row * width + p.index] = p.probability;
                }
            }
            Ok(vec![
                Output { name: "probabilities", shape: vec![n, width], data: OutData::F32(probabilities) },
                Output { name: "label", shape: vec![n], data: OutData::Bytes(labels.iter().map(|l| l.first().map(|p| p.label.clone()).unwrap_or_default()).collect()) },
            ])
        }
        Task::QuestionAnswering => {
            let questions = request.required_texts(&inputs[0])?;
            let contexts = request.required_texts(&inputs[1])?;
            check_same_len(&questions, Some(&contexts), "context")?;
            let n = questions.len();
            let answers = worker
                .run(move |m| questions.iter().zip(&contexts).map(|(q, c)| m.answer(q, c).map_err(|e| ApiError::from_model(&e))).collect::<Result<Vec<_>, _>>())
                .await?;
            Ok(vec![
                Output { name: "answer", shape: vec![n], data: OutData::Bytes(answers.iter().map(|a| a.answer.clone()).collect()) },
                Output { name: "score", shape: vec![n], data: OutData::F32(answers.iter().map(|a| a.score as f32).collect()) },
                Output { name: "start", shape: vec![n], data: OutData::I64(answers.iter().map(|a| a.start as i64).collect()) },
                Output { name: "end", shape: vec![n], data: OutData::I64(answers.iter().map(|a| a.end as i64).collect()) },
            ])
        }
        Task::NextSentencePrediction => {
            let texts = request.required_texts(&inputs[0])?;
            let pairs = request.texts(&inputs[1])?.ok_or_else(|| bad("this model needs the input \"text_pair\" (BYTES [N])"))?;
            check_same_len(&texts, Some(&pairs), "text_pair")?;
            let n = texts.len();
            let probs = worker
                .run(move |m| texts.iter().zip(&pairs).map(|(a, b)| m.next_sentence(a, b).map_err(|e| ApiError::from_model(&e))).collect::<Result<Vec<_>, _>>())
                .await?;
            Ok(vec![Output { name: "is_next_probability", shape: vec![n], data: OutData::F32(probs) }])
        }
        unserved!() => unreachable!("io() lists no inputs for these"),
    }
}

pub(super) fn check_same_len(texts: &[String], other: Option<&[String]>, name: &str) -> Result<(), ApiError> {
    match other {
        Some(o) if o.len() != texts.len() => Err(bad(format!("{name} needs one value per text ({} texts, {} {name}s)", texts.len(), o.len()))),
        _ => Ok(()),
    }
}
