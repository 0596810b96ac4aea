//! What a loaded model does, task by task: the methods of [`Loaded`] live here, one file per
//! kind of task (`vision`, `text`, `speech`), and reach the model through the accessors in
//! `loaded.rs` (an error naming the task for a model of another one).

mod loaded;
mod speech;
mod text;
mod vision;

pub use loaded::Loaded;
pub use text::{Answer, GeneratedText, TokenPrediction, TokenTag, MAX_ANSWER_TOKENS};
pub use vision::Prediction;

