//! Reading a whole local file into memory under a byte limit.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The bytes of `file` (`path`, `len` bytes by its metadata), refused with `too_large(detail)`
/// when it has more than `limit` bytes: checked before reading, and while reading (a file that
/// grows meanwhile is never read past `limit + 1` bytes).
pub(crate) fn read_file(file: File, path: &Path, len: u64, limit: u64, too_large: impl Fn(String) -> Error) -> Result<Vec<u8>> {
    if len > limit {
        return Err(too_large(format!("the file has {len} bytes")));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| Error::io("reading", path, e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large("the file grew while it was read".into()));
    }
    Ok(bytes)
}
