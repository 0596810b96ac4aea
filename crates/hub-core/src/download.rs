//! Streaming, verified, resumable downloads over HTTP(S) and `file://`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::hash::copy_hashing;
use crate::manifest::ExpectedHash;
use crate::options::HubOptions;

/// Fetches bytes from URLs into files. Holds the HTTP agent (connection pool, proxy, timeouts).
pub struct Downloader {
    agent: ureq::Agent,
    retries: u32,
    backoff: Duration,
    progress: std::sync::Arc<dyn crate::progress::Progress>,
}

/// What a completed download produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The sha256 of the whole file.
    pub sha256: String,
    /// The size of the whole file.
    pub size: u64,
}

impl Downloader {
    /// A downloader with the options' timeouts, retries and progress sink. Proxies come from the
    /// environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`).
    pub fn new(options: &HubOptions) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(options.connect_timeout)
            .timeout_read(options.read_timeout)
            .redirects(10)
            .try_proxy_from_env(true)
            .user_agent(concat!("hub-rs/", env!("CARGO_PKG_VERSION")))
            .build();
        Downloader { agent, retries: options.retries, backoff: options.backoff, progress: options.progress.clone() }
    }

    /// Downloads `url` into `partial`, resuming from what `partial` already holds when the server
    /// supports ranges, retrying transient failures with exponential backoff. On success the whole
    /// file has been hashed and checked against `expected` and `size`; on a mismatch `partial` is
    /// deleted. The caller must hold the lock for `partial`.
    pub fn download(&self, url: &str, partial: &Path, expected: &ExpectedHash, size: Option<u64>) -> Result<Downloaded> {
        if let Some(dir) = partial.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        }
        let mut attempt = 0;
        loop {
            let result = self.attempt(url, partial, size);
            self.progress.finish(url);
            match result {
                Ok(done) => return self.check(url, partial, expected, size, done),
                Err(e) if e.is_transient() && attempt < self.retries => {
                    let delay = self.backoff.saturating_mul(1 << attempt.min(16)).min(Duration::from_secs(30));
                    std::thread::sleep(delay);
                    attempt += 1;
                }
                // Partial bytes stay for a later run to resume; they are re-hashed then.
                Err(e) => return Err(e),
            }
        }
    }

    fn check(&self, url: &str, partial: &Path, expected: &ExpectedHash, size: Option<u64>, done: Downloaded) -> Result<Downloaded> {
        if let Some(expected_size) = size {
            if expected_size != done.size {
                let _ = fs::remove_file(partial);
                return Err(Error::SizeMismatch { url: url.to_owned(), expected: expected_size, actual: done.size });
            }
        }
        if !expected.matches(&done.sha256) {
            let _ = fs::remove_file(partial);
            return Err(Error::HashMismatch { url: url.to_owned(), expected: expected.to_string(), actual: done.sha256 });
        }
        Ok(done)
    }

    /// One attempt: continue `partial` from its current length.
    fn attempt(&self, url: &str, partial: &Path, size: Option<u64>) -> Result<Downloaded> {
        if let Some(path) = url.strip_prefix("file://") {
            return self.copy_local(url, Path::new(path), partial);
        }
        let have = fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
        if size.is_some_and(|s| have >= s) || have == 0 {
            // Nothing to resume (or more than expected: start over).
            let _ = fs::remove_file(partial);
            return self.fetch_from(url, partial, 0, Sha256::new());
        }
        // Re-hash what we have, then ask only for the rest.
        let mut hasher = Sha256::new();
        let f = File::open(partial).map_err(|e| Error::io("opening", partial, e))?;
        copy_hashing(f, &mut io::sink(), &mut hasher, |_| {}).map_err(|e| Error::io("reading", partial, e))?;
        self.fetch_from(url, partial, have, hasher)
    }

    fn fetch_from(&self, url: &str, partial: &Path, have: u64, hasher: Sha256) -> Result<Downloaded> {
        let mut request = self.agent.get(url);
        if have > 0 {
            request = request.set("Range", &format!("bytes={have}-"));
        }
        let response = match request.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(416, _)) if have > 0 => {
                // Our partial file is not a prefix the server recognises: start over.
                let _ = fs::remove_file(partial);
                return self.fetch_from(url, partial, 0, Sha256::new());
            }
            Err(ureq::Error::Status(status, _)) => return Err(Error::HttpStatus { url: url.to_owned(), status }),
            Err(ureq::Error::Transport(t)) => {
                return Err(Error::Network { url: url.to_owned(), message: t.to_string(), source: Some(Box::new(t)) })
            }
        };
        let content_length = response.header("Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
        let resumed = have > 0 && response.status() == 206 && content_range_start(response.header("Content-Range")) == Some(have);
        let (start, mut hasher) = if resumed { (have, hasher) } else { (0, Sha256::new()) };
        let total = content_length.map(|n| n + start);
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(partial)
            .map_err(|e| Error::io("creating", partial, e))?;
        self.progress.start(url, total, start);
        let progress = &self.progress;
        let mut received = start;
        let copied = copy_hashing(response.into_reader(), &mut file, &mut hasher, |n| {
            received += n;
            progress.advance(n)
        });
        // Whatever arrived is kept (and flushed) so that a later attempt can resume from it.
        file.flush().map_err(|e| Error::io("writing", partial, e))?;
        file.sync_all().map_err(|e| Error::io("syncing", partial, e))?;
        match (copied, total) {
            (copied, Some(total)) if received < total => {
                let reason = match copied {
                    Err(e) => e.to_string(),
                    Ok(_) => "the server closed the connection".to_owned(),
                };
                return Err(Error::Truncated { url: url.to_owned(), received, expected: total, reason });
            }
            (Err(e), _) => {
                return Err(Error::Network { url: url.to_owned(), message: format!("reading the body: {e}"), source: Some(Box::new(e)) })
            }
            (Ok(_), _) => {}
        }
        Ok(Downloaded { sha256: hex::encode(hasher.finalize()), size: received })
    }

    fn copy_local(&self, url: &str, source: &Path, partial: &Path) -> Result<Downloaded> {
        let from = File::open(source).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Error::HttpStatus { url: url.to_owned(), status: 404 },
            _ => Error::io("opening", source, e),
        })?;
        let total = from.metadata().ok().map(|m| m.len());
        let mut to = File::create(partial).map_err(|e| Error::io("creating", partial, e))?;
        let mut hasher = Sha256::new();
        self.progress.start(url, total, 0);
        let progress = &self.progress;
        let size = copy_hashing(from, &mut to, &mut hasher, |n| progress.advance(n)).map_err(|e| Error::io("copying", source, e))?;
        to.sync_all().map_err(|e| Error::io("syncing", partial, e))?;
        Ok(Downloaded { sha256: hex::encode(hasher.finalize()), size })
    }

    /// GETs a small document (a manifest) into memory.
    pub fn get_bytes(&self, url: &str) -> Result<Vec<u8>> {
        if let Some(path) = url.strip_prefix("file://") {
            return fs::read(path).map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => Error::HttpStatus { url: url.to_owned(), status: 404 },
                _ => Error::io("reading", PathBuf::from(path), e),
            });
        }
        let mut attempt = 0;
        loop {
            let result = match self.agent.get(url).call() {
                Ok(r) => {
                    let mut buf = Vec::new();
                    r.into_reader()
                        .take(64 << 20)
                        .read_to_end(&mut buf)
                        .map(|_| buf)
                        .map_err(|e| Error::Network { url: url.to_owned(), message: e.to_string(), source: Some(Box::new(e)) })
                }
                Err(ureq::Error::Status(status, _)) => Err(Error::HttpStatus { url: url.to_owned(), status }),
                Err(ureq::Error::Transport(t)) => {
                    Err(Error::Network { url: url.to_owned(), message: t.to_string(), source: Some(Box::new(t)) })
                }
            };
            match result {
                Err(e) if e.is_transient() && attempt < self.retries => {
                    std::thread::sleep(self.backoff.saturating_mul(1 << attempt.min(16)).min(Duration::from_secs(30)));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// The first byte position of a `Content-Range: bytes START-END/TOTAL` header.
fn content_range_start(header: Option<&str>) -> Option<u64> {
    let rest = header?.trim().strip_prefix("bytes")?.trim_start();
    rest.split('-').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_range() {
        assert_eq!(content_range_start(Some("bytes 100-199/200")), Some(100));
        assert_eq!(content_range_start(Some("bytes */200")), None);
        assert_eq!(content_range_start(None), None);
    }
}
