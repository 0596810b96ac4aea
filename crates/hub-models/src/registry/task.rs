//! What a model does: the tasks the CLI, the manifests and the load API agree on.

/// What a model does.
///
/// Not `#[non_exhaustive]` on purpose: a new task is a breaking change, and the compiler then
/// points at every `match` (the CLI's task switch, the load API) that has to learn it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// Every task.
    pub const ALL: &'static [Task] = &[
        Task::ImageClassification,
        Task::ImageGeneration,
        Task::FillMask,
        Task::TextGeneration,
        Task::FeatureExtraction,
        Task::SemanticSegmentation,
        Task::TextToSpectrogram,
        Task::SpectrogramToAudio,
        Task::TextClassification,
        Task::TokenClassification,
        Task::QuestionAnswering,
        Task::NextSentencePrediction,
        Task::MultipleChoice,
        Task::PreTraining,
        Task::Tokenization,
    ];

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

    /// The task a manifest names (`image-classification`), if hub knows it.
    pub fn parse(name: &str) -> Option<Task> {
        Task::ALL.iter().copied().find(|t| t.as_str() == name)
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
