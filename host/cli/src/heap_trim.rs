//! Hands freed heap back to the kernel now and then.
//!
//! glibc keeps memory that a burst of load freed in its arenas: after a thousand connections,
//! tens of MiB that the process no longer uses stay resident for good. Trimming every
//! [`INTERVAL`] returns them within a minute of the load; under steady load there is little
//! to trim, and the pages it does return are cheap to fault back in.

use std::time::Duration;

const INTERVAL: Duration = Duration::from_secs(20);

/// Trims until `shutdown` completes.
pub async fn run(shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    let mut ticks = tokio::time::interval(INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = ticks.tick() => {
                // Walking the arenas takes their locks for a moment: off the async workers.
                let _ = tokio::task::spawn_blocking(trim).await;
            }
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn trim() {
    // SAFETY: malloc_trim only releases free memory in the allocator's own arenas; it takes
    // their locks, so it is safe to call while other threads allocate.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators give memory back by themselves, or offer no way to ask.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
