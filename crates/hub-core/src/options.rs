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
        }
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
        Ok(())
    }
}

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
