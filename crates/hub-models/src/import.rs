//! Placeholder: PyTorch / safetensors weight import is being written.
