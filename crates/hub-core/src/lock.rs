//! Cross-process locks on files in `locks/` (advisory `flock`-style locks through std).
//!
//! The OS drops a lock when its process dies, so a killed download never blocks the next one.
//! The holder writes its process id into the lock file, so that a process waiting for it can say
//! who it waits for; a wait ends after a timeout with [`Error::LockTimeout`].

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::progress::Progress;

/// An exclusive lock, held until dropped.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    fn open(path: &Path) -> Result<File> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        }
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| Error::io("opening lock file", path, e))
    }

    fn held(mut file: File, path: &Path) -> FileLock {
        // Who holds it, for processes that wait (best effort: the lock works without it).
        let _ = file.set_len(0).and_then(|_| file.seek(SeekFrom::Start(0))).and_then(|_| writeln!(file, "pid {}", std::process::id()));
        FileLock { file, path: path.to_path_buf() }
    }

    /// Takes the lock, waiting up to `timeout` for another holder to release it. While waiting,
    /// `progress` is told once who holds it. After `timeout`: [`Error::LockTimeout`].
    pub fn acquire(path: &Path, timeout: Duration, progress: &dyn Progress) -> Result<FileLock> {
        let file = FileLock::open(path)?;
        let started = Instant::now();
        let mut told = false;
        let mut pause = Duration::from_millis(10);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(FileLock::held(file, path)),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => return Err(Error::io("locking", path, e)),
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(Error::LockTimeout { path: path.to_path_buf(), holder: holder(path), waited_secs: waited.as_secs() });
            }
            if !told {
                progress.waiting(path, &holder(path));
                told = true;
            }
            std::thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// Takes the lock if nobody holds it.
    pub fn try_acquire(path: &Path) -> Result<Option<FileLock>> {
        let file = FileLock::open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock::held(file, path))),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(Error::io("locking", path, e)),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Who holds the lock at `path`, from what its holder wrote: `process 1234`, else
/// `another process`.
pub fn holder(path: &Path) -> String {
    let text = std::fs::read(path).map(|b| String::from_utf8_lossy(&b[..b.len().min(64)]).into_owned()).unwrap_or_default();
    match text.trim().strip_prefix("pid ").and_then(|p| p.trim().parse::<u32>().ok()) {
        Some(pid) => format!("process {pid}"),
        None => "another process".to_owned(),
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use std::sync::Mutex;

    #[test]
    fn exclusive_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("locks/x.lock");
        let held = FileLock::acquire(&p, Duration::from_secs(1), &NoProgress).unwrap();
        assert!(FileLock::try_acquire(&p).unwrap().is_none());
        drop(held);
        assert!(FileLock::try_acquire(&p).unwrap().is_some());
    }

    #[derive(Default)]
    struct Record(Mutex<Vec<String>>);
    impl Progress for Record {
        fn start(&self, _: &str, _: Option<u64>, _: u64) {}
        fn advance(&self, _: u64) {}
        fn finish(&self, _: &str) {}
        fn waiting(&self, _: &Path, holder: &str) {
            self.0.lock().unwrap().push(holder.to_owned());
        }
    }

    #[test]
    fn a_waiter_says_who_holds_the_lock_and_gives_up() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("locks/y.lock");
        let _held = FileLock::acquire(&p, Duration::from_secs(1), &NoProgress).unwrap();
        assert_eq!(holder(&p), format!("process {}", std::process::id()));
        let record = Record::default();
        let started = Instant::now();
        let e = FileLock::acquire(&p, Duration::from_millis(300), &record).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(300) && started.elapsed() < Duration::from_secs(3));
        let msg = e.to_string();
        assert!(matches!(e, Error::LockTimeout { .. }), "{msg}");
        assert!(msg.contains(&format!("process {}", std::process::id())) && msg.contains("lock_timeout_secs"), "{msg}");
        assert_eq!(*record.0.lock().unwrap(), vec![format!("process {}", std::process::id())]);
        // A lock file with garbage in it: still a clear answer.
        std::fs::write(dir.path().join("g.lock"), b"\xff\xfe junk").unwrap();
        assert_eq!(holder(&dir.path().join("g.lock")), "another process");
    }
}
