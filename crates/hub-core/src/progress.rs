//! Download progress reporting. hub-core draws nothing; the CLI implements [`Progress`] with bars.

use std::path::Path;

/// Receives progress of downloads. Implementations must be cheap: `advance` is called per chunk.
pub trait Progress: Send + Sync {
    /// A download of `url` starts; `total` is the full size when known, `resumed_from` the bytes
    /// already present from an interrupted earlier attempt.
    fn start(&self, url: &str, total: Option<u64>, resumed_from: u64);
    /// `bytes` more bytes arrived.
    fn advance(&self, bytes: u64);
    /// The download ended (successfully or not).
    fn finish(&self, url: &str);
    /// This process waits for `holder` (`process 1234`), which holds the lock file `lock` (a
    /// download or extraction of the same file or repo). Called once per wait. The default
    /// writes one line to stderr, so that a waiting command never looks hung.
    fn waiting(&self, lock: &Path, holder: &str) {
        eprintln!("hub: waiting for {holder}, which holds {} (the same download or repo)", lock.display());
    }
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: Option<u64>, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self, _: &str) {}
    fn waiting(&self, _: &Path, _: &str) {}
}
