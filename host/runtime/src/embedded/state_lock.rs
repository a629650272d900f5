//! The lock on a state directory: one process at a time may use it.
//!
//! The lock is an `flock` on `<state>/lock`, which the kernel releases when its holder dies.
//! A process killed with SIGKILL takes a moment to die, though: the kernel tears down its
//! address space (the instance pool reserves terabytes of it) before it closes its files. A
//! host restarted in that moment waits for the dying one instead of refusing to start; a
//! live holder is refused at once.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// How long to wait for a dying holder to let go.
const DYING_HOLDER_WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(20);

/// Locks `path`, writing this process's id into it for the next one to read.
pub(super) fn lock(path: &Path, state_dir: &Path) -> anyhow::Result<File> {
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("failed to open {}", path.display()))?;
    let started = Instant::now();
    loop {
        if file.try_lock().is_ok() {
            file.set_len(0).and_then(|()| file.seek(SeekFrom::Start(0))).and_then(|_| write!(file, "{}", std::process::id()))?;
            return Ok(file);
        }
        let holder = holder(&mut file);
        let dying = holder.is_none_or(|pid| !Process(pid).is_alive());
        if !dying || started.elapsed() > DYING_HOLDER_WAIT {
            let who = holder.map_or_else(|| "another joule process".to_string(), |pid| format!("joule process {pid}"));
            anyhow::bail!(
                "the state directory {} is in use by {who}; stop it or pass a different --state-dir",
                state_dir.display()
            );
        }
        std::thread::sleep(POLL);
    }
}

/// The process id the holder wrote, if it got that far.
fn holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

struct Process(u32);

impl Process {
    /// Whether the process exists and is not on its way out: not a zombie, and not exiting
    /// (`PF_EXITING` in the flags of `/proc/<pid>/stat`).
    fn is_alive(&self) -> bool {
        const PF_EXITING: u64 = 0x4;
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.0)) else {
            // Gone, or no procfs to tell: a live holder keeps its lock, so waiting is safe.
            return false;
        };
        // `pid (comm) state ppid pgrp session tty_nr tpgid flags ...`; comm may hold anything.
        let fields: Vec<&str> = stat.rsplit_once(')').map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
        let state = fields.first().copied().unwrap_or("X");
        let flags = fields.get(6).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        !matches!(state, "Z" | "X" | "x") && flags & PF_EXITING == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_holder_is_refused_at_once_naming_its_pid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let _held = lock(&path, dir.path()).unwrap();
        let started = Instant::now();
        let error = lock(&path, dir.path()).unwrap_err().to_string();
        assert!(started.elapsed() < Duration::from_secs(1), "no wait for a live holder");
        assert!(error.contains(&format!("process {}", std::process::id())), "{error}");
    }

    #[test]
    fn this_process_is_alive_and_a_reaped_one_is_not() {
        assert!(Process(std::process::id()).is_alive());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!Process(pid).is_alive());
    }
}
