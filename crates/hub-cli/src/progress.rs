//! Download progress bars on stderr, drawn only when stderr is a terminal.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

/// Draws one bar per download.
pub struct Bars {
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bars {
    pub fn new() -> Self {
        Bars { enabled: std::io::stderr().is_terminal(), bar: Mutex::new(None) }
    }
}

impl hub_core::Progress for Bars {
    fn start(&self, url: &str, total: Option<u64>, resumed_from: u64) {
        if !self.enabled {
            return;
        }
        let bar = match total {
            Some(t) => ProgressBar::new(t),
            None => ProgressBar::new_spinner(),
        };
        let style = ProgressStyle::with_template("{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(hub_core::manifest::file_name_of(url).to_owned());
        bar.set_position(resumed_from);
        *self.bar.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar);
    }

    fn advance(&self, bytes: u64) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            bar.inc(bytes);
        }
    }

    fn finish(&self, _url: &str) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

/// A bar of steps (`hub bench`'s measured calls) on stderr, or nothing when stderr is not a
/// terminal or the caller asks for quiet.
pub struct Steps(Option<ProgressBar>);

impl Steps {
    /// A bar of `total` steps labelled `message`; none when `quiet` or stderr is not a terminal.
    pub fn new(total: u64, message: String, quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Steps(None);
        }
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template("{msg:24} {wide_bar} {pos}/{len} {elapsed}").unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(message);
        Steps(Some(bar))
    }

    /// Sets the position to `done` of the total.
    pub fn set(&self, done: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(done);
        }
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}
