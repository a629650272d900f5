//! Work the runtime does in the background: relaying the outbox, listening for other
//! replicas' commits and deploys, sweeping expired entries. Every task is started here, so
//! [`Background::shutdown`] can stop them all and wait until they have.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long shutdown waits for tasks after cancelling them; each stops at its next await,
/// and the relay bounds its last send itself.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The runtime's background tasks.
#[derive(Clone, Default)]
pub struct Background {
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Background {
    /// Runs `task` until it ends or shutdown cancels the token it is given.
    pub fn spawn<F>(&self, name: &'static str, task: impl FnOnce(CancellationToken) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let task = task(self.cancel.child_token());
        self.tracker.spawn(async move {
            task.await;
            tracing::debug!(task = name, "background task stopped");
        });
    }

    /// Runs `task` until it ends or shutdown comes; it is dropped at its next await then.
    pub fn spawn_cancellable(&self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        self.spawn(name, |cancel| async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                () = task => {}
            }
        });
    }

    /// Cancels every task and waits for them to end.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(STOP_TIMEOUT, self.tracker.wait()).await.is_err() {
            tracing::warn!(tasks = self.tracker.len(), "background tasks still running after {STOP_TIMEOUT:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test]
    async fn shutdown_cancels_every_task_and_waits_for_each() {
        let background = Background::default();
        let cleaned_up = Arc::new(AtomicBool::new(false));
        let flag = cleaned_up.clone();
        background.spawn("cooperative", |cancel| async move {
            cancel.cancelled().await;
            // What a task does after cancellation, such as a last send, is awaited too.
            tokio::time::sleep(Duration::from_millis(50)).await;
            flag.store(true, Ordering::SeqCst);
        });
        background.spawn_cancellable("forever", std::future::pending());
        tokio::time::timeout(Duration::from_secs(5), background.shutdown()).await.expect("shutdown finishes");
        assert!(cleaned_up.load(Ordering::SeqCst), "shutdown returned before the task ended");
        assert!(background.tracker.is_empty());
    }
}
