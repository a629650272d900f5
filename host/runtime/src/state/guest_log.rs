//! A guest's stdout and stderr, turned into log lines tagged with the component,
//! inside the invocation's span.
//!
//! One invocation logs at most [`MAX_INVOCATION_BYTES`] across both streams: whoever can
//! make a guest print (a panic message quoting its input, say) must not be able to flood
//! the logs.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// A line longer than this is logged in pieces.
const MAX_LINE: usize = 4 * 1024;
/// What one invocation may log in all; the rest is dropped, and that is said once.
const MAX_INVOCATION_BYTES: usize = 16 * 1024;

#[derive(Clone)]
pub struct GuestLog {
    component: Arc<str>,
    stream: &'static str,
    /// Bytes the invocation may still log, shared by its stdout and stderr.
    budget: Arc<AtomicUsize>,
}

impl GuestLog {
    /// The stdout and stderr of one invocation, sharing its budget.
    pub fn pair(component: Arc<str>) -> (Self, Self) {
        let budget = Arc::new(AtomicUsize::new(MAX_INVOCATION_BYTES));
        let stdout = Self { component: component.clone(), stream: "stdout", budget: budget.clone() };
        (stdout, Self { component, stream: "stderr", budget })
    }

    /// Takes `bytes` from the budget; false once it is spent.
    fn take(&self, bytes: usize) -> bool {
        if self.budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(bytes)).is_ok() {
            return true;
        }
        // Spend the rest, so that the drop is announced once.
        if self.budget.swap(0, Ordering::Relaxed) > 0 {
            tracing::warn!(
                target: "guest",
                component = %self.component,
                limit = MAX_INVOCATION_BYTES,
                "the invocation's further output is dropped"
            );
        }
        false
    }
}

impl IsTerminal for GuestLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestLog {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter { log: self.clone(), line: Vec::new() })
    }
}

struct LineWriter {
    log: GuestLog,
    line: Vec<u8>,
}

impl LineWriter {
    fn emit(&mut self) {
        if self.line.is_empty() {
            return;
        }
        if self.log.take(self.line.len()) {
            let text = String::from_utf8_lossy(&self.line);
            let text = text.trim_end_matches(['\n', '\r']);
            tracing::info!(target: "guest", component = %self.log.component, stream = self.log.stream, "{text}");
        }
        self.line.clear();
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        for &byte in bytes {
            self.line.push(byte);
            if byte == b'\n' || self.line.len() >= MAX_LINE {
                self.emit();
            }
        }
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.emit();
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        self.emit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invocation_logs_within_its_budget_across_both_streams() {
        let (stdout, stderr) = GuestLog::pair("flood".into());
        let mut logged = 0;
        while stdout.take(MAX_LINE) {
            logged += MAX_LINE;
        }
        assert_eq!(logged, MAX_INVOCATION_BYTES);
        assert!(!stderr.take(1), "the streams share one budget");
        let (fresh, _) = GuestLog::pair("flood".into());
        assert!(fresh.take(MAX_LINE), "each invocation has its own");
    }
}
