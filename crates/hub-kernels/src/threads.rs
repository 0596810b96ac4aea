//! The thread count of every kernel, and of burn's flex backend (both run on rayon's global
//! pool).
//!
//! By default hub uses one thread per physical core (SMT siblings share the FMA units that
//! these kernels saturate). `HUB_NUM_THREADS=N` or [`init`] choose another count; rayon's own
//! `RAYON_NUM_THREADS` is honoured when neither is given.

use std::sync::OnceLock;

use crate::KernelError;

static CHOSEN: OnceLock<usize> = OnceLock::new();

/// The default thread count: `HUB_NUM_THREADS`, else `RAYON_NUM_THREADS`, else the number of
/// physical cores.
pub fn default_threads() -> usize {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.trim().parse::<usize>().ok()).filter(|&n| n > 0);
    env("HUB_NUM_THREADS").or_else(|| env("RAYON_NUM_THREADS")).unwrap_or_else(num_cpus::get_physical).max(1)
}

/// Sets up the global pool with `threads` threads (the default when `None`) and returns the
/// count in use. The pool can be set up once per process: a later call with another count
/// returns [`KernelError::Threads`], one with the same count (or `None`) succeeds.
///
/// # Errors
/// When the pool already runs with another thread count, or cannot be started.
pub fn init(threads: Option<usize>) -> Result<usize, KernelError> {
    let want = threads.filter(|&n| n > 0).unwrap_or_else(default_threads);
    if let Some(&have) = CHOSEN.get() {
        return if threads.is_none() || have == want {
            Ok(have)
        } else {
            Err(KernelError::Threads(format!("already running with {have} threads, cannot switch to {want}")))
        };
    }
    match rayon::ThreadPoolBuilder::new().num_threads(want).build_global() {
        Ok(()) => {
            let _ = CHOSEN.set(want);
            Ok(want)
        }
        // Someone (burn, a test, the application) started the global pool first.
        Err(_) => {
            let have = rayon::current_num_threads();
            let _ = CHOSEN.set(have);
            if threads.is_none() || have == want {
                Ok(have)
            } else {
                Err(KernelError::Threads(format!("the global thread pool already runs {have} threads, cannot switch to {want}")))
            }
        }
    }
}

/// The thread count kernels use now.
pub fn current() -> usize {
    rayon::current_num_threads()
}
