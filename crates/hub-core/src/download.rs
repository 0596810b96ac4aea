//! Streaming, verified, resumable downloads over HTTP(S) and `file://`, bounded in size and time.
//!
//! Every download stops at the size declared for it (by the manifest or lockfile, else by the
//! server's `Content-Length`) and at [`Limits::max_download_bytes`] when nothing is declared;
//! it ends at a per-file deadline and when its speed stays under the low-speed limit. Redirects
//! are followed here, not by the HTTP library, and only to `http://` and `https://` URLs. The
//! hash that names and verifies a file is computed from the file on disk once it is complete.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::artifact::ExpectedHash;
use crate::error::{Error, Result};
use crate::hash::sha256_file;
use crate::options::{HubOptions, Limits};

/// Fetches bytes from URLs into files. Holds the HTTP agent (connection pool, proxy, timeouts).
pub struct Downloader {
    agent: ureq::Agent,
    retries: u32,
    backoff: Duration,
    progress: std::sync::Arc<dyn crate::progress::Progress>,
    limits: Limits,
}

/// What a completed download produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The sha256 of the whole file, as it is on disk.
    pub sha256: String,
    /// The size of the whole file.
    pub size: u64,
}

/// Why a body stopped before its end.
enum Stop {
    /// Reading failed (timeout, reset).
    Read(io::Error),
    /// Writing failed (disk full).
    Write(io::Error),
    /// More bytes than allowed arrived.
    Over,
    /// The deadline passed.
    Deadline,
    /// The speed stayed under the low-speed limit for a whole window.
    Slow(u64),
}

impl Downloader {
    /// A downloader with the options' timeouts, retries, limits and progress sink. Proxies come
    /// from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`).
    pub fn new(options: &HubOptions) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(options.connect_timeout)
            .timeout_read(options.read_timeout)
            // Redirects are followed by `open`, which checks every Location first.
            .redirects(0)
            .try_proxy_from_env(true)
            .user_agent(concat!("hub-rs/", env!("CARGO_PKG_VERSION")))
            .build();
        Downloader {
            agent,
            retries: options.retries,
            backoff: options.backoff,
            progress: options.progress.clone(),
            limits: options.limits.clone(),
        }
    }

    /// Downloads `url` into `partial`, resuming from what `partial` already holds when the server
    /// supports ranges, retrying transient failures with exponential backoff until the deadline.
    /// On success the file on disk has been hashed and checked against `expected` and `size`; on
    /// a mismatch `partial` is deleted. The caller must hold the lock for `partial`.
    pub fn download(&self, url: &str, partial: &Path, expected: &ExpectedHash, size: Option<u64>) -> Result<Downloaded> {
        if let Some(s) = size {
            if s > self.limits.max_download_bytes {
                return Err(too_large_download(url, self.limits.max_download_bytes, format!("its declared size is {s} bytes")));
            }
        }
        if let Some(dir) = partial.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        }
        let deadline = Instant::now() + self.limits.download_deadline;
        let mut attempt = 0;
        loop {
            let result = client_panics_contained(url, || self.attempt(url, partial, size, deadline));
            self.progress.finish(url);
            match result {
                Ok(received) => return self.check(url, partial, expected, size, received),
                Err(e) if e.is_transient() && attempt < self.retries && Instant::now() < deadline => {
                    let delay = self.backoff.saturating_mul(1 << attempt.min(16)).min(Duration::from_secs(30));
                    std::thread::sleep(delay.min(deadline.saturating_duration_since(Instant::now())));
                    attempt += 1;
                }
                Err(e @ (Error::SizeMismatch { .. } | Error::TooLarge { .. })) => {
                    let _ = fs::remove_file(partial);
                    return Err(e);
                }
                // Partial bytes stay for a later run to resume; they are re-hashed then.
                Err(e) => return Err(e),
            }
        }
    }

    /// Hashes the file on disk (not the network stream) and checks it.
    fn check(&self, url: &str, partial: &Path, expected: &ExpectedHash, size: Option<u64>, received: u64) -> Result<Downloaded> {
        let on_disk = fs::metadata(partial).map_err(|e| Error::io("reading", partial, e))?.len();
        let sha256 = sha256_file(partial)?;
        let after = fs::metadata(partial).map_err(|e| Error::io("reading", partial, e))?.len();
        if on_disk != received || after != received {
            let _ = fs::remove_file(partial);
            return Err(Error::ChangedOnDisk { url: url.to_owned(), path: partial.to_path_buf() });
        }
        if let Some(expected_size) = size {
            if expected_size != received {
                let _ = fs::remove_file(partial);
                return Err(Error::SizeMismatch { url: url.to_owned(), expected: expected_size, actual: received });
            }
        }
        if !expected.matches(&sha256) {
            let _ = fs::remove_file(partial);
            return Err(Error::HashMismatch { url: url.to_owned(), expected: expected.to_string(), actual: sha256 });
        }
        Ok(Downloaded { sha256, size: received })
    }

    /// The most bytes a file may have: its declared size, else the cap.
    fn limit(&self, size: Option<u64>) -> u64 {
        size.unwrap_or(self.limits.max_download_bytes)
    }

    /// One attempt: continue `partial` from its current length. Returns the file's length.
    fn attempt(&self, url: &str, partial: &Path, size: Option<u64>, deadline: Instant) -> Result<u64> {
        if url.starts_with("file://") {
            return self.copy_local(url, partial, size, deadline);
        }
        let have = fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
        if have == 0 || have >= self.limit(size) {
            // Nothing to resume (or more than expected: start over).
            let _ = fs::remove_file(partial);
            return self.fetch_from(url, partial, 0, size, deadline);
        }
        self.fetch_from(url, partial, have, size, deadline)
    }

    fn fetch_from(&self, url: &str, partial: &Path, have: u64, size: Option<u64>, deadline: Instant) -> Result<u64> {
        let range = (have > 0).then(|| format!("bytes={have}-"));
        let response = match self.open(url, range.as_deref(), deadline) {
            Err(Error::HttpStatus { status: 416, .. }) if have > 0 => {
                // Our partial file is not a prefix the server recognises: start over.
                let _ = fs::remove_file(partial);
                return self.fetch_from(url, partial, 0, size, deadline);
            }
            other => other?,
        };
        let content_length = response.header("Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
        let resumed = have > 0 && response.status() == 206 && content_range_start(response.header("Content-Range")) == Some(have);
        let start = if resumed { have } else { 0 };
        let total = content_length.and_then(|n| n.checked_add(start));
        let limit = self.limit(size);
        // Refuse what the server announces before writing anything.
        match (total, size) {
            (Some(t), Some(s)) if t != s => return Err(Error::SizeMismatch { url: url.to_owned(), expected: s, actual: t }),
            (Some(t), None) if t > limit => {
                return Err(too_large_download(url, limit, format!("the server announces {t} bytes")));
            }
            _ => {}
        }
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(partial)
            .map_err(|e| Error::io("creating", partial, e))?;
        self.progress.start(url, total.or(size), start);
        let mut received = start;
        let pumped = self.pump(response.into_reader(), &mut file, &mut received, total.unwrap_or(limit), deadline);
        // Whatever arrived is kept (and flushed) so that a later attempt can resume from it.
        file.flush().map_err(|e| Error::io("writing", partial, e))?;
        file.sync_all().map_err(|e| Error::io("syncing", partial, e))?;
        drop(file);
        match pumped {
            Ok(()) => {}
            Err(stop) => return Err(self.stopped(url, partial, received, total, size, stop)),
        }
        if let Some(total) = total {
            if received < total {
                return Err(Error::Truncated { url: url.to_owned(), received, expected: total, reason: "the server closed the connection".into() });
            }
        }
        Ok(received)
    }

    fn stopped(&self, url: &str, partial: &Path, received: u64, total: Option<u64>, size: Option<u64>, stop: Stop) -> Error {
        match stop {
            Stop::Write(e) => Error::io("writing", partial, e),
            Stop::Over => match size {
                Some(s) => Error::SizeMismatch { url: url.to_owned(), expected: s, actual: received },
                None => too_large_download(url, self.limits.max_download_bytes, "the server sent more, with no size declared".into()),
            },
            Stop::Deadline => Error::TooSlow {
                url: url.to_owned(),
                received,
                reason: format!("the deadline of {} s for one file passed", self.limits.download_deadline.as_secs()),
                setting: "download_deadline_secs",
                retry: false,
            },
            Stop::Slow(rate) => Error::TooSlow {
                url: url.to_owned(),
                received,
                reason: format!(
                    "{rate} bytes/s over the last {} s is under the low-speed limit of {} bytes/s",
                    self.limits.low_speed_time.as_secs(),
                    self.limits.low_speed_limit
                ),
                setting: "low_speed_limit_bytes",
                retry: true,
            },
            Stop::Read(e) => match total {
                Some(total) if received < total => {
                    Error::Truncated { url: url.to_owned(), received, expected: total, reason: e.to_string() }
                }
                _ => Error::Network { url: url.to_owned(), message: format!("reading the body: {e}"), source: Some(Box::new(e)) },
            },
        }
    }

    /// Copies `from` into `to` until its end, `limit` bytes in all (counting `received` already
    /// there), the deadline, or a low-speed window.
    fn pump(&self, mut from: impl Read, to: &mut impl Write, received: &mut u64, limit: u64, deadline: Instant) -> Result<(), Stop> {
        let mut buf = vec![0u8; 256 * 1024];
        let mut window_start = Instant::now();
        let mut window_bytes = 0u64;
        loop {
            // One byte more than allowed tells "too much" from "exactly the limit".
            let room = limit.saturating_sub(*received).saturating_add(1).min(buf.len() as u64) as usize;
            let n = match from.read(&mut buf[..room]) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) if Instant::now() >= deadline => return Err(Stop::Deadline),
                Err(e) => return Err(Stop::Read(e)),
            };
            let keep = n.min(limit.saturating_sub(*received) as usize);
            to.write_all(&buf[..keep]).map_err(Stop::Write)?;
            *received += keep as u64;
            self.progress.advance(keep as u64);
            if keep < n {
                return Err(Stop::Over);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Stop::Deadline);
            }
            window_bytes += n as u64;
            let window = now.duration_since(window_start);
            if window >= self.limits.low_speed_time {
                let rate = (window_bytes as f64 / window.as_secs_f64()) as u64;
                if self.limits.low_speed_limit > 0 && rate < self.limits.low_speed_limit {
                    return Err(Stop::Slow(rate));
                }
                window_start = now;
                window_bytes = 0;
            }
        }
    }

    /// Copies a local file (which must be a regular file) into `partial`, within the limits.
    fn copy_local(&self, url: &str, partial: &Path, size: Option<u64>, deadline: Instant) -> Result<u64> {
        let (from, path, len) = open_local(url)?;
        let limit = self.limit(size);
        match size {
            Some(s) if s != len => return Err(Error::SizeMismatch { url: url.to_owned(), expected: s, actual: len }),
            None if len > limit => return Err(too_large_download(url, limit, format!("the file has {len} bytes"))),
            _ => {}
        }
        // A new file with the usual mode for new files, whatever the source's mode.
        let _ = fs::remove_file(partial);
        let mut to = File::create(partial).map_err(|e| Error::io("creating", partial, e))?;
        self.progress.start(url, Some(len), 0);
        let mut received = 0;
        let pumped = self.pump(from, &mut to, &mut received, limit, deadline);
        to.sync_all().map_err(|e| Error::io("syncing", partial, e))?;
        match pumped {
            Ok(()) => Ok(received),
            Err(Stop::Read(e)) => Err(Error::io("copying", path, e)),
            Err(stop) => Err(self.stopped(url, partial, received, Some(len), size, stop)),
        }
    }

    /// GETs a small document (a manifest, an input) into memory: at most `limit` bytes, else
    /// [`Error::TooLarge`] naming `setting`, the config key of the limit (never a silently
    /// shortened document).
    pub fn get_bytes(&self, url: &str, limit: u64, setting: &'static str) -> Result<Vec<u8>> {
        let too_large = |detail: String| Error::TooLarge { what: url.to_owned(), limit: format!("{limit} bytes"), detail, setting };
        let deadline = Instant::now() + self.limits.download_deadline;
        if url.starts_with("file://") {
            let (from, path, len) = open_local(url)?;
            return crate::bounded::read_file(from, &path, len, limit, too_large);
        }
        let mut attempt = 0;
        loop {
            let result = client_panics_contained(url, || self.open(url, None, deadline)).and_then(|r| client_panics_contained(url, || {
                if let Some(n) = r.header("Content-Length").and_then(|v| v.trim().parse::<u64>().ok()) {
                    if n > limit {
                        return Err(too_large(format!("the server announces {n} bytes")));
                    }
                }
                let mut buf = Vec::new();
                let mut received = 0;
                match self.pump(r.into_reader(), &mut buf, &mut received, limit, deadline) {
                    Ok(()) => Ok(buf),
                    Err(Stop::Over) => Err(too_large("the server sent more".into())),
                    Err(stop) => Err(self.stopped(url, Path::new("memory"), received, None, None, stop)),
                }
            }));
            match result {
                Err(e) if e.is_transient() && attempt < self.retries && Instant::now() < deadline => {
                    std::thread::sleep(self.backoff.saturating_mul(1 << attempt.min(16)).min(Duration::from_secs(30)));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Sends a GET, following up to `max_redirects` redirects by hand: each `Location` is
    /// resolved against the URL that sent it and must be an `http://` or `https://` URL with a
    /// host. Errors name `url`, the URL asked for.
    fn open(&self, url: &str, range: Option<&str>, deadline: Instant) -> Result<ureq::Response> {
        let max = self.limits.max_redirects;
        let mut current = check_http_url(url).map_err(|reason| Error::InvalidUrl { url: url.to_owned(), reason })?;
        let deadline_passed = |detail: String| Error::TooSlow {
            url: url.to_owned(),
            received: 0,
            reason: format!("the deadline of {} s for one file passed{detail}", self.limits.download_deadline.as_secs()),
            setting: "download_deadline_secs",
            retry: false,
        };
        for hop in 0..=max {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(deadline_passed(String::new()));
            }
            // No ureq `timeout` here: it would replace the read timeout by the deadline; reads
            // block at most `read_timeout`, after which `pump` checks the deadline.
            let mut request = self.agent.request_url("GET", &current);
            if let Some(r) = range {
                request = request.set("Range", r);
            }
            let response = match request.call() {
                Ok(r) => r,
                Err(ureq::Error::Status(status, _)) => return Err(Error::HttpStatus { url: url.to_owned(), status }),
                Err(ureq::Error::Transport(t)) if Instant::now() >= deadline => return Err(deadline_passed(format!(" ({t})"))),
                Err(ureq::Error::Transport(t)) => {
                    return Err(Error::Network { url: url.to_owned(), message: t.to_string(), source: Some(Box::new(t)) })
                }
            };
            let status = response.status();
            if !(300..400).contains(&status) {
                return Ok(response);
            }
            if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                return Err(Error::HttpStatus { url: url.to_owned(), status });
            }
            let redirect = |reason: String| Error::Redirect { url: current.to_string(), reason, max };
            let Some(location) = response.header("Location") else {
                return Err(redirect(format!("HTTP {status} without a Location header")));
            };
            let next = current.join(location).map_err(|e| redirect(format!("HTTP {status} to {location:?}, which is not a URL ({e})")))?;
            let next = check_http_url(next.as_str()).map_err(|why| redirect(format!("HTTP {status} to {location:?}: {why}")))?;
            if hop == max {
                return Err(redirect(format!("more than {max} redirects (the last to {location:?})")));
            }
            current = next;
        }
        unreachable!("the loop returns on its last hop")
    }
}

/// `url` parsed, when it is an `http://` or `https://` URL with a host.
/// Runs `f`, turning a panic inside the HTTP client into an error naming `url`: ureq 2 panics
/// on some malformed header lines (an index past the line in `Header::value`), and a hostile
/// server must not abort hub. Not retried: the same server answers the same way.
fn client_panics_contained<T>(url: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let detail = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned())).unwrap_or_default();
        Err(Error::MalformedResponse { url: url.to_owned(), detail })
    })
}

fn check_http_url(url: &str) -> std::result::Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a valid URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("its scheme {:?} is not http or https", parsed.scheme()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    Ok(parsed)
}

fn too_large_download(url: &str, limit: u64, detail: String) -> Error {
    Error::TooLarge { what: url.to_owned(), limit: format!("{limit} bytes"), detail, setting: "max_download_mb" }
}

/// The path of a `file://` URL: `file:///abs/path` or `file://localhost/abs/path`. Relative
/// paths are refused here: hub resolves a local repo's relative `file://` URLs against the repo
/// directory when it reads the manifest (see `docs/security.md`).
pub fn file_url_path(url: &str) -> Result<PathBuf> {
    let rest = url.strip_prefix("file://").ok_or_else(|| Error::InvalidUrl { url: url.to_owned(), reason: "not a file:// URL".into() })?;
    let rest = rest.strip_prefix("localhost").filter(|r| r.starts_with('/')).unwrap_or(rest);
    if !rest.starts_with('/') {
        return Err(Error::InvalidUrl {
            url: url.to_owned(),
            reason: "a file:// URL needs an absolute path (file:///dir/file); relative ones are resolved only in a local repo's manifest".into(),
        });
    }
    Ok(PathBuf::from(rest))
}

/// Opens the regular file a `file://` URL names, with its length. A missing file is a 404 (so
/// that model-id probing treats it as absent); a directory, device, fifo or socket is refused
/// before it is opened (opening a fifo would block).
fn open_local(url: &str) -> Result<(File, PathBuf, u64)> {
    let path = file_url_path(url)?;
    let kind = |m: &fs::Metadata| -> Option<&'static str> {
        let t = m.file_type();
        if t.is_file() {
            return None;
        }
        Some(if t.is_dir() { "a directory" } else { special_kind(&t) })
    };
    let meta = fs::metadata(&path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Error::HttpStatus { url: url.to_owned(), status: 404 },
        _ => Error::io("reading", &path, e),
    })?;
    if let Some(kind) = kind(&meta) {
        return Err(Error::NotARegularFile { url: url.to_owned(), path, kind });
    }
    let file = File::open(&path).map_err(|e| Error::io("opening", &path, e))?;
    // What was opened, not what the name pointed at a moment ago.
    let meta = file.metadata().map_err(|e| Error::io("reading", &path, e))?;
    if let Some(kind) = kind(&meta) {
        return Err(Error::NotARegularFile { url: url.to_owned(), path, kind });
    }
    Ok((file, path, meta.len()))
}

#[cfg(unix)]
fn special_kind(t: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a fifo"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &fs::FileType) -> &'static str {
    "not a regular file"
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

    #[test]
    fn file_urls_must_be_absolute() {
        assert_eq!(file_url_path("file:///srv/x.pth").unwrap(), PathBuf::from("/srv/x.pth"));
        assert_eq!(file_url_path("file://localhost/srv/x.pth").unwrap(), PathBuf::from("/srv/x.pth"));
        for bad in ["file://../x", "file://x.pth", "file://", "http://x/y"] {
            let e = file_url_path(bad).unwrap_err();
            assert!(matches!(e, Error::InvalidUrl { .. }), "{bad}: {e}");
        }
    }

    #[test]
    fn only_http_urls_with_a_host_are_followed() {
        assert!(check_http_url("https://example.com/a").is_ok());
        for bad in ["file:///etc/passwd", "data:text/plain,hi", "http://", "ftp://x/y", "javascript:alert(1)", "http://:80/"] {
            assert!(check_http_url(bad).is_err(), "{bad}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_directories_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        for (url, kind) in [("file:///dev/zero".to_owned(), "a character device"), (format!("file://{}", dir.path().display()), "a directory")] {
            let e = open_local(&url).unwrap_err();
            assert!(matches!(e, Error::NotARegularFile { kind: k, .. } if k == kind), "{url}: {e}");
        }
        let e = open_local(&format!("file://{}/missing", dir.path().display())).unwrap_err();
        assert!(matches!(e, Error::HttpStatus { status: 404, .. }), "{e}");
    }
}
