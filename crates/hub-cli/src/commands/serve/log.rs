//! Structured JSON log lines on stderr, panics and downloads as log lines.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// One structured log line on stderr: `{"ts": unix seconds, "level", "msg", ...fields}`.
pub(crate) fn log(level: &str, msg: &str, fields: serde_json::Value) {
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default();
    let mut line = serde_json::json!({ "ts": (ts * 1e3).round() / 1e3, "level": level, "msg": msg });
    if let (Some(map), serde_json::Value::Object(extra)) = (line.as_object_mut(), fields) {
        map.extend(extra);
    }
    eprintln!("{line}");
}

/// A panic is a bug, but one request's bug must not take the server down: it is logged (the
/// request that hit it gets a 500) instead of ending the process as `hub`'s other commands do.
pub(crate) fn install_panic_logger() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload().downcast_ref::<String>().cloned().or_else(|| info.payload().downcast_ref::<&str>().map(|s| (*s).to_owned())).unwrap_or_default();
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let thread = std::thread::current().name().unwrap_or("?").to_owned();
        log("error", "panic (a bug in hub, please report it)", serde_json::json!({ "panic": message, "at": location, "thread": thread }));
    }));
}

/// Downloads as log lines: start, every 10 %, finish.
#[derive(Default)]
pub(crate) struct LogProgress {
    state: std::sync::Mutex<Option<Download>>,
}

struct Download {
    url: String,
    total: Option<u64>,
    done: u64,
    logged_tenth: u64,
    start: Instant,
}

impl hub_core::Progress for LogProgress {
    fn start(&self, url: &str, total: Option<u64>, resumed_from: u64) {
        log("info", "download started", serde_json::json!({ "url": url, "bytes": total, "resumed_from": resumed_from }));
        if let Ok(mut s) = self.state.lock() {
            *s = Some(Download { url: url.to_owned(), total, done: resumed_from, logged_tenth: 0, start: Instant::now() });
        }
    }

    fn advance(&self, bytes: u64) {
        let Ok(mut s) = self.state.lock() else { return };
        let Some(d) = s.as_mut() else { return };
        d.done += bytes;
        if let Some(total) = d.total.filter(|t| *t > 0) {
            let tenth = d.done.saturating_mul(10) / total;
            if tenth > d.logged_tenth && tenth < 10 {
                d.logged_tenth = tenth;
                log("info", "download progress", serde_json::json!({ "url": d.url, "percent": tenth * 10, "bytes": d.done }));
            }
        }
    }

    fn finish(&self, url: &str) {
        let seconds = self.state.lock().ok().and_then(|s| s.as_ref().map(|d| (d.done, d.start.elapsed().as_secs_f64())));
        let (bytes, seconds) = seconds.unwrap_or_default();
        log("info", "download finished", serde_json::json!({ "url": url, "bytes": bytes, "seconds": seconds }));
    }

    fn waiting(&self, lock: &std::path::Path, holder: &str) {
        log("info", "waiting for another process's download", serde_json::json!({ "lock": lock.display().to_string(), "holder": holder }));
    }
}
