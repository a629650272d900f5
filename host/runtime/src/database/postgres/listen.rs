//! Wakes a local task when another replica commits: the relay for events, the timer
//! trigger for timers. The platform's functions `pg_notify` at commit.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::Notify;

/// Wakes `signal` on every notification on `channel`, reconnecting when the connection
/// drops; a wake-up after each reconnect covers whatever was notified while it was down.
pub(super) async fn listen(admin: PgPool, channel: &'static str, signal: Arc<Notify>) {
    loop {
        let listened = async {
            let mut listener = PgListener::connect_with(&admin).await?;
            listener.listen(channel).await?;
            loop {
                listener.recv().await?;
                signal.notify_one();
            }
        };
        let result: Result<(), sqlx::Error> = listened.await;
        if let Err(e) = result {
            tracing::debug!(channel, error = %e, "a listener stopped; its task polls meanwhile");
        }
        signal.notify_one();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
