//! Hub settings: cache root, offline mode, mirrors, lockfile, network timeouts and retries.
//!
//! Precedence, highest first: values set through the API, environment variables
//! (`HUB_HOME`, `HUB_OFFLINE`, `HUB_MIRRORS`), the config file `$HUB_HOME/config.toml`, defaults.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::mirrors::Mirrors;
use crate::progress::{NoProgress, Progress};

/// Everything a [`Hub`](crate::Hub) needs to know.
#[derive(Clone)]
#[non_exhaustive]
pub struct HubOptions {
    /// Cache root (`$HUB_HOME`, else `$XDG_CACHE_HOME/hub`, else `~/.cache/hub`).
    pub root: PathBuf,
    /// No network at all: cached things work, a miss is an error naming what is missing.
    pub offline: bool,
    /// URL rewrite rules, tried before the original URLs.
    pub mirrors: Mirrors,
    /// Re-resolve refs and re-download artifacts even when cached.
    pub force_reload: bool,
    /// The lockfile to record resolutions in and check against (`hub.lock`).
    pub lockfile: Option<PathBuf>,
    /// Anything that would change the lockfile is an error.
    pub locked: bool,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Time allowed between two reads of a response body.
    pub read_timeout: Duration,
    /// Retries of a transient failure (HTTP 5xx/429, connection reset, truncated body).
    pub retries: u32,
    /// Delay before the first retry; doubles each time, capped at 30 s.
    pub backoff: Duration,
    /// A torch.hub checkpoint directory to reuse files from by hash (`$TORCH_HOME/hub/checkpoints`).
    pub torch_checkpoints: Option<PathBuf>,
    /// Receives download progress.
    pub progress: Arc<dyn Progress>,
    /// The size and time limits applied to everything that comes from outside (see `docs/security.md`).
    pub limits: Limits,
}

/// Limits on what untrusted input (servers, manifests, archives) can make hub spend.
///
/// Every limit ends the operation with a typed error naming the limit and how to change it
/// (`$HUB_HOME/config.toml`, or these fields through the API).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most bytes one download may write: a file whose size the manifest, the lockfile or the
    /// server declares stops at that size; a file with no declared size stops here. A declared
    /// size above this is refused before anything is downloaded. Config: `max_download_mb`.
    pub max_download_bytes: u64,
    /// The most time one file may take, all retries included. Config: `download_deadline_secs`.
    pub download_deadline: Duration,
    /// A download whose average speed over `low_speed_time` stays under this many bytes per
    /// second is abandoned (as curl's `--speed-limit`); 0 turns the check off.
    /// Config: `low_speed_limit_bytes`.
    pub low_speed_limit: u64,
    /// The window of the low-speed check (curl's `--speed-time`). Config: `low_speed_time_secs`.
    pub low_speed_time: Duration,
    /// How long to wait for another process's lock on the same download or repo before giving
    /// up. Config: `lock_timeout_secs`.
    pub lock_timeout: Duration,
    /// The largest manifest (`hubconf.toml`) read, from any source. Config: `max_manifest_kb`.
    pub max_manifest_bytes: u64,
    /// The largest input the user names by URL (`hub run --image https://…`), read into
    /// memory. Config: `max_input_mb`.
    pub max_input_bytes: u64,
    /// The most bytes a repo archive may extract to. Config: `max_repo_mb`.
    pub max_repo_bytes: u64,
    /// The most entries a repo archive may hold. Config: `max_repo_entries`.
    pub max_repo_entries: u64,
    /// The most redirects followed for one request (each must be to http:// or https://).
    pub max_redirects: u32,
}

/// The most retries accepted for one request (with backoff capped at 30 s, about 15 minutes).
pub const MAX_RETRIES: u32 = 32;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_download_bytes: 64 << 30,
            download_deadline: Duration::from_secs(4 * 3600),
            low_speed_limit: 1024,
            low_speed_time: Duration::from_secs(60),
            lock_timeout: Duration::from_secs(4 * 3600 + 300),
            max_manifest_bytes: 8 << 20,
            max_input_bytes: 64 << 20,
            max_repo_bytes: 4 << 30,
            max_repo_entries: 200_000,
            max_redirects: 10,
        }
    }
}

impl std::fmt::Debug for HubOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubOptions")
            .field("root", &self.root)
            .field("offline", &self.offline)
            .field("mirrors", &self.mirrors.to_string())
            .field("force_reload", &self.force_reload)
            .field("lockfile", &self.lockfile)
            .field("locked", &self.locked)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .field("torch_checkpoints", &self.torch_checkpoints)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// The optional `$HUB_HOME/config.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    offline: Option<bool>,
    #[serde(default)]
    mirrors: Vec<String>,
    connect_timeout_secs: Option<u64>,
    read_timeout_secs: Option<u64>,
    retries: Option<u32>,
    max_download_mb: Option<u64>,
    download_deadline_secs: Option<u64>,
    low_speed_limit_bytes: Option<u64>,
    low_speed_time_secs: Option<u64>,
    lock_timeout_secs: Option<u64>,
    max_manifest_kb: Option<u64>,
    max_input_mb: Option<u64>,
    max_repo_mb: Option<u64>,
    max_repo_entries: Option<u64>,
}

impl HubOptions {
    /// Defaults rooted at `root`: online, no mirrors, 30 s timeouts, 4 retries.
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        HubOptions {
            root: root.into(),
            offline: false,
            mirrors: Mirrors::new(),
            force_reload: false,
            lockfile: None,
            locked: false,
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(30),
            retries: 4,
            backoff: Duration::from_millis(500),
            torch_checkpoints: None,
            progress: Arc::new(NoProgress),
            limits: Limits::default(),
        }
    }

    /// Checks the timeouts, retries and limits: a zero timeout or limit (which would make every
    /// request fail, or none ever end) and more than [`MAX_RETRIES`] retries are errors.
    /// [`Hub::new`](crate::Hub::new) calls this; `origin` names where the values came from.
    pub fn validate(&self, origin: &str) -> Result<()> {
        let bad = |message: String| Err(Error::Config { origin: origin.to_owned(), message });
        let l = &self.limits;
        for (name, d) in [
            ("connect_timeout_secs", self.connect_timeout),
            ("read_timeout_secs", self.read_timeout),
            ("download_deadline_secs", l.download_deadline),
            ("low_speed_time_secs", l.low_speed_time),
            ("lock_timeout_secs", l.lock_timeout),
        ] {
            if d.is_zero() {
                return bad(format!("{name} is 0: a timeout must be at least 1 second"));
            }
            if d > MAX_TIMEOUT {
                return bad(format!("{name} is {} s: the most accepted is {} s (30 days)", d.as_secs(), MAX_TIMEOUT.as_secs()));
            }
        }
        if self.retries > MAX_RETRIES {
            return bad(format!("retries = {} is more than the {MAX_RETRIES} accepted", self.retries));
        }
        if self.backoff > Duration::from_secs(30) {
            return bad(format!("a backoff of {:?} is more than the 30 s accepted", self.backoff));
        }
        for (name, v) in [
            ("max_download_mb", l.max_download_bytes),
            ("max_manifest_kb", l.max_manifest_bytes),
            ("max_input_mb", l.max_input_bytes),
            ("max_repo_mb", l.max_repo_bytes),
            ("max_repo_entries", l.max_repo_entries),
        ] {
            if v == 0 {
                return bad(format!("{name} is 0: nothing could ever be read"));
            }
        }
        if l.max_redirects > 50 {
            return bad(format!("max_redirects = {} is more than the 50 accepted", l.max_redirects));
        }
        Ok(())
    }

    /// Reads the environment and the config file.
    pub fn from_env() -> Result<Self> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let root = default_root(env("HUB_HOME"), env("XDG_CACHE_HOME"), env("HOME"))?;
        let mut o = HubOptions::with_root(root);
        o.apply_config_file()?;
        if let Some(v) = env("HUB_OFFLINE") {
            o.offline = parse_bool(&v).ok_or_else(|| Error::Config {
                origin: "HUB_OFFLINE".into(),
                message: format!("{v:?} is not a boolean (use 1/0, true/false, yes/no)"),
            })?;
        }
        if let Some(v) = env("HUB_MIRRORS") {
            // Environment rules come first; the config file's follow.
            let mut m = Mirrors::parse(&v, "HUB_MIRRORS")?;
            m.extend(std::mem::take(&mut o.mirrors));
            o.mirrors = m;
        }
        let torch_home = env("TORCH_HOME").map(PathBuf::from).or_else(|| {
            env("XDG_CACHE_HOME").map(|x| Path::new(&x).join("torch")).or_else(|| env("HOME").map(|h| Path::new(&h).join(".cache/torch")))
        });
        o.torch_checkpoints = torch_home.map(|t| t.join("hub/checkpoints"));
        Ok(o)
    }

    fn apply_config_file(&mut self) -> Result<()> {
        let path = self.root.join("config.toml");
        let src = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("reading", path, e)),
        };
        let origin = path.display().to_string();
        let cfg: ConfigFile =
            toml::from_str(&src).map_err(|e| Error::Config { origin: origin.clone(), message: e.message().to_owned() })?;
        if let Some(v) = cfg.offline {
            self.offline = v;
        }
        self.mirrors = Mirrors::parse(&cfg.mirrors.join(","), &origin)?;
        if let Some(s) = cfg.connect_timeout_secs {
            self.connect_timeout = Duration::from_secs(s);
        }
        if let Some(s) = cfg.read_timeout_secs {
            self.read_timeout = Duration::from_secs(s);
        }
        if let Some(r) = cfg.retries {
            self.retries = r;
        }
        let secs = |v: Option<u64>, to: &mut Duration| {
            if let Some(s) = v {
                *to = Duration::from_secs(s);
            }
        };
        secs(cfg.download_deadline_secs, &mut self.limits.download_deadline);
        secs(cfg.low_speed_time_secs, &mut self.limits.low_speed_time);
        secs(cfg.lock_timeout_secs, &mut self.limits.lock_timeout);
        let scaled = |v: Option<u64>, unit: u64, name: &str, to: &mut u64| -> Result<()> {
            if let Some(n) = v {
                *to = n.checked_mul(unit).ok_or_else(|| Error::Config { origin: origin.clone(), message: format!("{name} = {n} is too large") })?;
            }
            Ok(())
        };
        scaled(cfg.max_download_mb, 1 << 20, "max_download_mb", &mut self.limits.max_download_bytes)?;
        scaled(cfg.max_manifest_kb, 1 << 10, "max_manifest_kb", &mut self.limits.max_manifest_bytes)?;
        scaled(cfg.max_input_mb, 1 << 20, "max_input_mb", &mut self.limits.max_input_bytes)?;
        scaled(cfg.max_repo_mb, 1 << 20, "max_repo_mb", &mut self.limits.max_repo_bytes)?;
        scaled(cfg.max_repo_entries, 1, "max_repo_entries", &mut self.limits.max_repo_entries)?;
        scaled(cfg.low_speed_limit_bytes, 1, "low_speed_limit_bytes", &mut self.limits.low_speed_limit)?;
        self.validate(&origin)
    }
}

/// The longest timeout accepted (30 days): longer ones are certainly typos.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(30 * 24 * 3600);

/// `$HUB_HOME`, else `$XDG_CACHE_HOME/hub`, else `$HOME/.cache/hub`.
pub fn default_root(hub_home: Option<String>, xdg_cache: Option<String>, home: Option<String>) -> Result<PathBuf> {
    if let Some(h) = hub_home {
        return Ok(PathBuf::from(h));
    }
    if let Some(x) = xdg_cache {
        return Ok(Path::new(&x).join("hub"));
    }
    home.map(|h| Path::new(&h).join(".cache").join("hub")).ok_or(Error::NoCacheDir)
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_precedence() {
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(default_root(s("/h"), s("/x"), s("/home/u")).unwrap(), PathBuf::from("/h"));
        assert_eq!(default_root(None, s("/x"), s("/home/u")).unwrap(), PathBuf::from("/x/hub"));
        assert_eq!(default_root(None, None, s("/home/u")).unwrap(), PathBuf::from("/home/u/.cache/hub"));
        assert!(matches!(default_root(None, None, None), Err(Error::NoCacheDir)));
    }

    #[test]
    fn config_file_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "offline = true\nmirrors = [\"https://a/=http://b/\"]\nretries = 1\n").unwrap();
        let mut o = HubOptions::with_root(dir.path());
        o.apply_config_file().unwrap();
        assert!(o.offline);
        assert_eq!(o.retries, 1);
        assert_eq!(o.mirrors.candidates("https://a/x"), ["http://b/x", "https://a/x"]);
        std::fs::write(dir.path().join("config.toml"), "ofline = true\n").unwrap();
        let e = o.apply_config_file().unwrap_err().to_string();
        assert!(e.contains("config.toml") && e.contains("unknown field `ofline`"), "{e}");
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_bool("1"), Some(true));
        assert_eq!(parse_bool("No"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }
}
