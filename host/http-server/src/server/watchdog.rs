//! When a connection has waited long enough: no request in flight for the idle timeout, or
//! no request at all within the header timeout of its start.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Clone)]
pub(super) struct Watchdog(Arc<Mutex<State>>);

struct State {
    /// Requests the service is handling now.
    in_flight: usize,
    /// When the connection last stopped having requests in flight (or was accepted).
    idle_since: Instant,
    /// The wait allowed from `idle_since`: the header timeout until a first request comes,
    /// then the idle timeout.
    allowed: Duration,
    idle_timeout: Duration,
}

impl Watchdog {
    pub(super) fn new(header_timeout: Duration, idle_timeout: Duration) -> Self {
        let state = State { in_flight: 0, idle_since: Instant::now(), allowed: header_timeout, idle_timeout };
        Self(Arc::new(Mutex::new(state)))
    }

    /// Counts `request` as in flight until it completes.
    pub(super) async fn track<F: Future>(self, request: F) -> F::Output {
        self.lock().in_flight += 1;
        let _done = Done(self);
        request.await
    }

    /// Completes once the connection has been idle past what it is allowed.
    pub(super) async fn expired(&self) {
        loop {
            let deadline = {
                let state = self.lock();
                // With a request in flight, look again after a full idle period at the earliest.
                if state.in_flight > 0 { Instant::now() + state.idle_timeout } else { state.idle_since + state.allowed }
            };
            if deadline <= Instant::now() {
                return;
            }
            tokio::time::sleep_until(deadline).await;
            let state = self.lock();
            if state.in_flight == 0 && state.idle_since + state.allowed <= Instant::now() {
                return;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Marks a request done, however its future ends.
struct Done(Watchdog);

impl Drop for Done {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.in_flight -= 1;
        if state.in_flight == 0 {
            state.idle_since = Instant::now();
            state.allowed = state.idle_timeout;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_connection_without_a_request_expires_after_the_header_timeout() {
        let watchdog = Watchdog::new(Duration::from_secs(10), Duration::from_secs(60));
        let started = Instant::now();
        watchdog.expired().await;
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_holds_the_connection_and_idleness_counts_from_its_end() {
        let watchdog = Watchdog::new(Duration::from_secs(10), Duration::from_secs(60));
        let started = Instant::now();
        let request = tokio::spawn(watchdog.clone().track(tokio::time::sleep(Duration::from_secs(100))));
        tokio::task::yield_now().await;
        watchdog.expired().await;
        request.await.unwrap();
        assert_eq!(started.elapsed(), Duration::from_secs(160), "100 s in flight, then 60 s idle");
    }
}
