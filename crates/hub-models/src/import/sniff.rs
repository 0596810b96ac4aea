//! Recognising a weights file by its first bytes.

use std::path::Path;

use super::ImportError;

/// What a weights file is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointKind {
    /// `torch.save`'s zip format (`PK\x03\x04`).
    TorchZip,
    /// The legacy (pre-1.6) `torch.save` format: pickles from the first byte (`\x80\x02`..`\x80\x05`).
    LegacyPickle,
    /// A TAR archive (the oldest `torch.save` format; `ustar` at offset 257).
    Tar,
    /// safetensors: an 8-byte little-endian header length, then a JSON object.
    Safetensors,
}

/// Recognises a weights file by its content, not its name: PyTorch zip, legacy pickle, TAR or
/// safetensors; anything else is [`ImportError::UnknownFormat`] naming the first bytes.
pub fn sniff_checkpoint(path: &Path) -> Result<CheckpointKind, ImportError> {
    use std::io::Read;
    let open = |source| ImportError::Open { path: path.to_path_buf(), source };
    let mut file = std::fs::File::open(path).map_err(open)?;
    let size = file.metadata().map_err(open)?.len();
    let mut head = Vec::with_capacity(512);
    file.by_ref().take(512).read_to_end(&mut head).map_err(open)?;
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Ok(CheckpointKind::TorchZip);
    }
    if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
        return Ok(CheckpointKind::LegacyPickle);
    }
    if head.len() >= 262 && &head[257..262] == b"ustar" {
        return Ok(CheckpointKind::Tar);
    }
    if head.len() >= 9 && head[8] == b'{' {
        let mut len = [0u8; 8];
        len.copy_from_slice(&head[..8]);
        if u64::from_le_bytes(len) <= size.saturating_sub(8) {
            return Ok(CheckpointKind::Safetensors);
        }
    }
    let head: String = head.iter().take(16).flat_map(|b| std::ascii::escape_default(*b)).map(char::from).collect();
    Err(ImportError::UnknownFormat { path: path.to_path_buf(), size, head: format!("b\"{head}\"") })
}
