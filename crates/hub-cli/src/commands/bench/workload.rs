//! What one benchmarked call does, per task: a seeded random image batch of the architecture's
//! input size, a fixed text, or a GAN seed. Every task is named: a new one must be taught here.

use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};
use hub_models::registry::{Model, Task};
use hub_models::text::generation::GenerationConfig;
use hub_models::text::tokenizer::BatchOptions;
use hub_models::Loaded;

/// The text of the text tasks (fill-mask: [`MASKED`]).
const TEXT: &str = "The quick brown fox jumps over the lazy dog while the cat watches from the warm windowsill.";
const MASKED: &str = "The quick brown fox jumps over the lazy [MASK] while the cat watches from the warm windowsill.";
const SECOND: &str = "The dog does not wake up.";
const QUESTION: &str = "Who watches from the windowsill?";
const CHOICES: [&str; 2] = ["The dog barks.", "The cat yawns."];
/// Text generation: this many new tokens per prompt, with no early stop.
const NEW_TOKENS: usize = 16;

/// What a call of the model does.
enum Call {
    /// `Loaded::forward` on `[batch, 3, size, size]`.
    Classify { size: usize },
    /// The segmenter's forward on `[batch, 3, size, size]`.
    Segment { size: usize },
    /// `batch` images from noise.
    Generate,
    /// `batch` copies of [`TEXT`] at once (`embed`, tokenization).
    Embed,
    Tokenize,
    /// `batch` copies of [`TEXT`] continued by [`NEW_TOKENS`].
    GenerateText,
    /// One input per call.
    FillMask,
    ClassifyText,
    TagTokens,
    Answer,
    NextSentence,
    MultipleChoice,
}

/// A model ready to be called on its benchmark input.
pub struct Workload<'a, B: Backend> {
    model: &'a Loaded<B>,
    call: Call,
    seed: u64,
    /// The image batch of the batch size last prepared.
    images: Option<(usize, Tensor<B, 4>)>,
}

impl<'a, B: Backend> Workload<'a, B> {
    /// The workload of `model`'s task, or an error for a task that cannot be benchmarked.
    pub fn new(model: &'a Loaded<B>, seed: u64) -> anyhow::Result<Self> {
        let size = |which: fn(&hub_models::preprocess::Preprocess) -> usize| model.image_preprocess().map(which).map_err(anyhow::Error::from);
        let call = match model.architecture.task {
            Task::ImageClassification => Call::Classify { size: size(|p| p.crop_size)? },
            Task::SemanticSegmentation => Call::Segment { size: size(|p| p.resize_size)? },
            Task::ImageGeneration => Call::Generate,
            Task::FeatureExtraction => Call::Embed,
            Task::Tokenization => Call::Tokenize,
            Task::TextGeneration => Call::GenerateText,
            Task::FillMask | Task::PreTraining => Call::FillMask,
            Task::TextClassification => Call::ClassifyText,
            Task::TokenClassification => Call::TagTokens,
            Task::QuestionAnswering => Call::Answer,
            Task::NextSentencePrediction => Call::NextSentence,
            Task::MultipleChoice => Call::MultipleChoice,
            Task::TextToSpectrogram | Task::SpectrogramToAudio => anyhow::bail!(
                "{} is a speech model ({}): hub bench does not measure speech, whose decoder runs a number of steps that depends on the weights; time `hub run ... --text` instead",
                model.entry,
                model.architecture.task
            ),
        };
        Ok(Workload { model, call, seed, images: None })
    }

    /// Whether one call can take a batch of more than one input.
    pub fn batched(&self) -> bool {
        match self.call {
            Call::Classify { .. } | Call::Segment { .. } | Call::Generate | Call::Embed | Call::Tokenize | Call::GenerateText => true,
            Call::FillMask | Call::ClassifyText | Call::TagTokens | Call::Answer | Call::NextSentence | Call::MultipleChoice => false,
        }
    }

    /// The input of one call, for the report (batch size left out).
    pub fn describe(&self) -> String {
        match self.call {
            Call::Classify { size } | Call::Segment { size } => format!("[batch, 3, {size}, {size}] standard normal, seeded ({})", self.seed),
            Call::Generate => format!("batch latent vectors from seed {}", self.seed),
            Call::Embed | Call::Tokenize => format!("batch copies of {TEXT:?}"),
            Call::GenerateText => format!("batch copies of {TEXT:?}, {NEW_TOKENS} new tokens each (greedy, no early stop)"),
            Call::FillMask => format!("{MASKED:?}"),
            Call::ClassifyText | Call::TagTokens => format!("{TEXT:?}"),
            Call::Answer => format!("question {QUESTION:?}, context {TEXT:?}"),
            Call::NextSentence => format!("{TEXT:?} then {SECOND:?}"),
            Call::MultipleChoice => format!("prompt {TEXT:?}, choices {CHOICES:?}"),
        }
    }

    /// Makes the input of `batch` items (outside the timed calls); an error for `batch > 1`
    /// on a model that takes one input per call.
    pub fn prepare(&mut self, batch: usize) -> anyhow::Result<()> {
        anyhow::ensure!(batch >= 1, "a batch holds at least one input");
        anyhow::ensure!(
            batch == 1 || self.batched(),
            "{} ({}) takes one input per call: use --batch 1",
            self.model.entry,
            self.model.architecture.task
        );
        if let Call::Classify { size } | Call::Segment { size } = self.call {
            if self.images.as_ref().is_none_or(|(b, _)| *b != batch) {
                B::seed(&self.model.device, self.seed);
                self.images = Some((batch, Tensor::random([batch, 3, size, size], Distribution::Normal(0.0, 1.0), &self.model.device)));
            }
        }
        Ok(())
    }

    /// One call on the prepared input of `batch` items, waited for until the device is done.
    pub fn run(&self, batch: usize) -> anyhow::Result<()> {
        let m = self.model;
        let texts = vec![TEXT; batch];
        match self.call {
            Call::Classify { .. } => {
                let _ = m.forward(self.images(batch)?)?;
            }
            Call::Segment { .. } => {
                let Model::Segmenter(s) = &m.model else { anyhow::bail!("{} is not a segmenter", m.entry) };
                let _ = s.forward(self.images(batch)?);
            }
            Call::Generate => {
                let _ = m.generate(batch, self.seed)?;
            }
            Call::Embed => {
                let _ = m.embed(&texts)?;
            }
            Call::Tokenize => {
                let _ = m.tokenizer()?.encode_batch(&texts, &BatchOptions::new())?;
            }
            Call::GenerateText => {
                let mut config = GenerationConfig::greedy(NEW_TOKENS);
                config.eos_token_ids = Some(Vec::new());
                let _ = m.generate_texts(&texts, &config)?;
            }
            Call::FillMask => {
                let _ = m.fill_mask(MASKED, 5)?;
            }
            Call::ClassifyText => {
                let _ = m.classify_text(TEXT, None, 1)?;
            }
            Call::TagTokens => {
                let _ = m.tag_tokens(TEXT)?;
            }
            Call::Answer => {
                let _ = m.answer(QUESTION, TEXT)?;
            }
            Call::NextSentence => {
                let _ = m.next_sentence(TEXT, SECOND)?;
            }
            Call::MultipleChoice => {
                let _ = m.multiple_choice(TEXT, &CHOICES)?;
            }
        }
        B::sync(&m.device).map_err(|e| anyhow::anyhow!("waiting for the {} device: {e:?}", m.entry))?;
        Ok(())
    }

    fn images(&self, batch: usize) -> anyhow::Result<Tensor<B, 4>> {
        match &self.images {
            Some((b, x)) if *b == batch => Ok(x.clone()),
            _ => anyhow::bail!("internal: the input of batch {batch} was not prepared"),
        }
    }
}
