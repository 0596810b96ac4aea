pub mod reader;
pub mod store;
pub mod hostile;
