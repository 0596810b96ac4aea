//! The thread count of every kernel, and of burn's flex backend (both run on rayon's global
//! pool).
//!
//! By default hub uses one thread per physical core (SMT siblings share the FMA units that
//! these kernels saturate). `HUB_NUM_THREADS=N` or [`init`] choose another count; rayon's own
//! `RAYON_NUM_THREADS` is honoured when neither is given.

use std::sync::OnceLock;

use crate::KernelError;

static CHOSEN: OnceLock<usize> = OnceLock::new();

/// The most threads hub starts (a count from the environment or a caller above it is refused
/// before any thread is spawned).
pub const MAX_THREADS: usize = 1024;

/// The default thread count: `HUB_NUM_THREADS`, else `RAYON_NUM_THREADS`, else the number of
/// physical cores.
///
/// # Errors
/// When one of the variables is set but is not a count between 1 and [`MAX_THREADS`].
pub fn default_threads() -> Result<usize, KernelError> {
    for name in ["HUB_NUM_THREADS", "RAYON_NUM_THREADS"] {
        if let Ok(v) = std::env::var(name) {
            return match v.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
                _ => Err(KernelError::Threads(format!("{name}={v:?} is not a thread count from 1 to {MAX_THREADS}"))),
            };
        }
    }
    Ok(num_cpus::get_physical().clamp(1, MAX_THREADS))
}

/// Sets up the global pool with `threads` threads (the default when `None`) and returns the
/// count in use. The pool can be set up once per process: a later call with another count
/// returns [`KernelError::Threads`], one with the same count (or `None`) succeeds.
///
/// # Errors
/// When `threads` or the environment's count is not from 1 to [`MAX_THREADS`], or the pool
/// already runs with another thread count.
pub fn init(threads: Option<usize>) -> Result<usize, KernelError> {
    let want = match threads {
        Some(n) if (1..=MAX_THREADS).contains(&n) => n,
        Some(n) => return Err(KernelError::Threads(format!("{n} threads: choose from 1 to {MAX_THREADS}"))),
        None => default_threads()?,
    };
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
