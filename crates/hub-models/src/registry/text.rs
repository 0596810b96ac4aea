//! Text architectures: configured by a Hugging Face `config.json`, one head per architecture.

use std::path::Path;

use burn::tensor::backend::Backend;

use super::families::{architectures, Architecture, Family, Model};
use super::model::TextModel;
use super::spec::ConfiguredBy;
use crate::error::{Error, Result};
use crate::text::bert::BertConfig;
use crate::text::gpt2::Gpt2Config;

impl Architecture {
    /// The architecture to build for a model whose `config.json` names `model_type`: this one
    /// when the families agree (or the file names none, as 2019 configs), else the architecture
    /// of the same task in the model type's family (`modelForSequenceClassification gpt2`).
    pub fn for_model_type(&self, entry: &str, model_type: Option<&str>) -> Result<Architecture> {
        let Some(model_type) = model_type else { return Ok(*self) };
        let bad = |message: String| Error::Config { entry: entry.to_owned(), key: "config.json model_type".into(), message };
        let family = Family::from_model_type(model_type).ok_or_else(|| {
            let known: Vec<&str> = Family::ALL.iter().filter_map(|f| f.model_type()).collect();
            bad(format!("{model_type:?} is not a model type hub implements ({})", known.join(", ")))
        })?;
        if family == self.family || self.family.spec().configured_by == ConfiguredBy::TokenizerFiles {
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
        if self.family.spec().configured_by == ConfiguredBy::TokenizerFiles {
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


}
