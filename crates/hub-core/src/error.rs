//! The one error type of hub-core.

use std::path::PathBuf;

/// Everything that can go wrong in the hub layer.
///
/// Every variant names the spec, file, URL or key concerned and, where it helps, what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A repo spec string could not be parsed.
    #[error("invalid repo spec {input:?}: {reason} (expected owner/repo[:ref], an http(s):// or file:// URL, or a local directory such as ./models)")]
    InvalidSpec {
        /// The string as given.
        input: String,
        /// What was wrong with it.
        reason: String,
    },

    /// A model id (`owner/name[@revision]`) could not be parsed.
    #[error("invalid model id {input:?}: {reason} (expected name or owner/name, optionally @revision)")]
    InvalidModelId {
        /// The string as given.
        input: String,
        /// What was wrong with it.
        reason: String,
    },

    /// A model id's files are not on its hub.
    #[error("{model} has {files} at {url}: check the model id and revision (the files must be published for this model type)")]
    ModelFilesMissing {
        /// `id@revision`.
        model: String,
        /// What is missing.
        files: String,
        /// The model's base URL.
        url: String,
    },

    /// A manifest could not be parsed or failed validation.
    #[error("{file}:{line}:{column}: {message}")]
    Manifest {
        /// The manifest file (or built-in manifest name).
        file: String,
        /// 1-based line of the problem (0 when not tied to a place).
        line: usize,
        /// 1-based column of the problem (0 when not tied to a place).
        column: usize,
        /// What was wrong.
        message: String,
    },

    /// The manifest needs architectures or features that this build does not provide.
    #[error("{repo} needs {missing:?}, which this build of hub does not provide: upgrade hub or enable the cargo features that provide them")]
    MissingDependencies {
        /// The repo whose manifest was checked.
        repo: String,
        /// The missing dependency names.
        missing: Vec<String>,
    },

    /// An entrypoint is not in the manifest.
    #[error("{repo} has no entrypoint {entry:?}; available: {available}")]
    UnknownEntry {
        /// The repo.
        repo: String,
        /// The entrypoint asked for.
        entry: String,
        /// The entrypoints it does have, comma-separated.
        available: String,
    },

    /// A weight variant is not published for an entrypoint.
    #[error("{entry} has no weights {weights:?}; available: {available}")]
    UnknownWeights {
        /// The entrypoint.
        entry: String,
        /// The weights asked for.
        weights: String,
        /// The weights it does have, comma-separated.
        available: String,
    },

    /// The server answered with an HTTP error status.
    #[error("GET {url} failed with HTTP {status}{}", hint_for_status(*status))]
    HttpStatus {
        /// The URL requested.
        url: String,
        /// The HTTP status code.
        status: u16,
    },

    /// The server's response could not be parsed (a malformed status or header line).
    #[error("GET {url}: the server sent a malformed HTTP response ({detail}); check the URL or the server, or set HUB_MIRRORS to use another")]
    MalformedResponse {
        /// The URL requested.
        url: String,
        /// What the HTTP client reported.
        detail: String,
    },

    /// A network-level failure (connection, TLS, timeout, truncated body).
    #[error("GET {url} failed: {message}")]
    Network {
        /// The URL requested.
        url: String,
        /// What happened.
        message: String,
        /// The underlying error, where there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// The body ended before the announced length.
    #[error("GET {url}: body truncated at {received} of {expected} bytes ({reason}); the bytes so far are kept and the next try resumes")]
    Truncated {
        /// The URL requested.
        url: String,
        /// Bytes received in total.
        received: u64,
        /// Bytes announced by the server or the manifest.
        expected: u64,
        /// Why the body ended (a timeout, a reset, or the server closing).
        reason: String,
    },

    /// A downloaded or cached file does not have the expected content hash.
    #[error("sha256 mismatch for {url}: expected {expected}, got {actual}; the bad download was discarded (nothing was cached). If the publisher changed the file, update the manifest's sha256")]
    HashMismatch {
        /// Where the bytes came from.
        url: String,
        /// The expected sha256 (full or prefix).
        expected: String,
        /// The actual sha256 of what was received.
        actual: String,
    },

    /// A downloaded file does not have the size the manifest or lockfile says.
    #[error("size mismatch for {url}: expected {expected} bytes, got {actual}; the download was discarded")]
    SizeMismatch {
        /// Where the bytes came from.
        url: String,
        /// The expected size.
        expected: u64,
        /// The actual size.
        actual: u64,
    },

    /// Offline mode is on and the thing asked for is not in the cache.
    #[error("offline (HUB_OFFLINE=1): {what} is not in the cache at {cache}; {hint}")]
    Offline {
        /// What was missing: a URL or a repo spec.
        what: String,
        /// The cache root that was searched.
        cache: PathBuf,
        /// How to get it into the cache.
        hint: String,
    },

    /// `--locked` is on and resolving would change the lockfile.
    #[error("{lockfile}: {message} (run `hub lock` to update the lockfile, or drop --locked)")]
    Locked {
        /// The lockfile.
        lockfile: PathBuf,
        /// What would change.
        message: String,
    },

    /// A lockfile could not be read or parsed.
    #[error("lockfile {path}: {message}")]
    Lockfile {
        /// The lockfile.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },

    /// An archive entry would escape the extraction directory or is a link.
    #[error("archive {archive} rejected: entry {entry:?} {reason}")]
    UnsafeArchive {
        /// The archive file or URL.
        archive: String,
        /// The offending entry name.
        entry: String,
        /// Why it was rejected.
        reason: &'static str,
    },

    /// An archive could not be read.
    #[error("archive {archive} is not a valid zip file")]
    Archive {
        /// The archive file or URL.
        archive: String,
        /// The zip error.
        #[source]
        source: zip::result::ZipError,
    },

    /// A mirror rule or configuration value is malformed.
    #[error("invalid configuration in {origin}: {message}")]
    Config {
        /// Where the value came from (environment variable, file path, API).
        origin: String,
        /// What was wrong.
        message: String,
    },

    /// No cache root could be determined.
    #[error("cannot find a cache directory: set HUB_HOME (or XDG_CACHE_HOME or HOME)")]
    NoCacheDir,

    /// A local repo directory has no manifest.
    #[error("{dir} has no hubconf.toml: a hub repo publishes its entrypoints in a hubconf.toml at its root (see docs/manifest.md)")]
    NoManifest {
        /// The directory searched.
        dir: PathBuf,
    },

    /// A manifest that came from a remote repo names a local (`file://`) URL. Only the user
    /// decides what local files hub reads: local repos, `HUB_MIRRORS`, `config.toml` and the API
    /// may use `file://`; a manifest from GitHub or an http(s) base URL may not.
    #[error("{manifest} names the local URL {url:?} ({place}), but it comes from a remote repo ({source_kind}): a remote manifest may only name http:// and https:// URLs. To use a local copy, add a file:// rule to HUB_MIRRORS or config.toml")]
    LocalUrlInRemoteManifest {
        /// The manifest (URL or file in the cache).
        manifest: String,
        /// The offending URL.
        url: String,
        /// Where in the manifest it is (entrypoint, weights, field).
        place: String,
        /// What kind of remote source the manifest came from.
        source_kind: &'static str,
    },

    /// A `file://` URL names something that is not a regular file (a directory, a device, a fifo).
    #[error("{url}: {path} is not a regular file ({kind}); hub reads only regular files through file:// URLs")]
    NotARegularFile {
        /// The URL.
        url: String,
        /// The path it names.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },

    /// A URL is malformed or of a kind this operation does not accept.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A redirect was refused (to another scheme, without a target, or too many).
    #[error("GET {url}: {reason}; hub follows redirects only to http:// and https:// URLs, at most {max}")]
    Redirect {
        /// The URL that answered with the redirect.
        url: String,
        /// Why it was refused (including the `Location`).
        reason: String,
        /// The most redirects followed.
        max: u32,
    },

    /// Something from outside is larger than a limit allows (a download, a manifest, an archive).
    #[error("{what} is larger than {limit}: {detail}; nothing was kept. If this is expected, raise `{setting}` in $HUB_HOME/config.toml (or hub_core::Limits)")]
    TooLarge {
        /// What was too large (a URL, a file, an archive).
        what: String,
        /// The limit, in words (`8388608 bytes`, `200000 entries`).
        limit: String,
        /// What was seen.
        detail: String,
        /// The config key that sets the limit.
        setting: &'static str,
    },

    /// A download took longer than its deadline or fell below the low-speed limit.
    #[error("GET {url}: {reason} after {received} bytes; the bytes so far are kept and a later run resumes. Settings: `{setting}` in $HUB_HOME/config.toml")]
    TooSlow {
        /// The URL requested.
        url: String,
        /// Bytes received in total.
        received: u64,
        /// What happened (deadline passed, speed under the limit).
        reason: String,
        /// The config key of the limit that ended the download.
        setting: &'static str,
        /// Whether retrying may help (a slow spell, not the deadline).
        retry: bool,
    },

    /// Another process held a lock for longer than the lock timeout.
    #[error("gave up after {waited_secs} s waiting for {holder}, which holds {path} (a download or extraction of the same file or repo); if no such process is running, the lock is free again once it exits. Setting: `lock_timeout_secs` in $HUB_HOME/config.toml")]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as written in the lock file (`process 1234`), or `another process`.
        holder: String,
        /// How long this process waited.
        waited_secs: u64,
    },

    /// A file changed on disk while hub was writing or verifying it.
    #[error("{path} changed on disk while {url} was being downloaded into it (another writer?); it was discarded")]
    ChangedOnDisk {
        /// The URL being downloaded.
        url: String,
        /// The file.
        path: PathBuf,
    },

    /// A file-system operation failed.
    #[error("{action} {path}")]
    Io {
        /// What was being done ("reading", "creating", ...).
        action: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn hint_for_status(status: u16) -> &'static str {
    match status {
        401 | 403 => " (access denied: check credentials, or serve the file from a mirror with HUB_MIRRORS)",
        404 => " (not found: check the URL, ref and file name in the manifest)",
        429 => " (rate limited: retry later or use a mirror)",
        500..=599 => " (server error, retried with backoff)",
        _ => "",
    }
}

impl Error {
    /// Wraps an I/O error with the action and path concerned.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { action, path: path.into(), source }
    }

    /// Whether retrying the same request may succeed (server errors, rate limits, network failures).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::HttpStatus { status, .. } => matches!(status, 408 | 425 | 429 | 500..=599),
            Error::Network { .. } | Error::Truncated { .. } => true,
            Error::TooSlow { retry, .. } => *retry,
            _ => false,
        }
    }
}

/// `Result` with hub-core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
