use chrono::{DateTime, Utc};
use joule_world::timers::{Error, Host};

use super::TimersState;
use crate::capabilities::events::MAX_DATA_BYTES;
use crate::capabilities::shape::View;
use crate::timers::NewTimer;

/// Keys are kept short and printable, as event ids are.
const MAX_KEY_BYTES: usize = 256;

impl Host for View<'_, TimersState> {
    async fn schedule(
        &mut self,
        at: String,
        event_type: String,
        data: String,
        key: Option<String>,
    ) -> wasmtime::Result<Result<String, Error>> {
        let timers = &*self.state;
        if !timers.events.contains(&event_type) {
            return Ok(Err(Error::NotGranted(format!(
                "component {:?} may not schedule {event_type:?}; its manifest declares timers for {:?}",
                timers.component, timers.events
            ))));
        }
        let due_at = match DateTime::parse_from_rfc3339(&at) {
            Ok(at) => at.with_timezone(&Utc),
            Err(e) => return Ok(Err(Error::InvalidTimer(format!("{at:?} is not an RFC 3339 time: {e}")))),
        };
        if data.len() > MAX_DATA_BYTES {
            return Ok(Err(Error::InvalidTimer(format!("data is {} bytes; at most {MAX_DATA_BYTES}", data.len()))));
        }
        let data = match serde_json::from_str(&data) {
            Ok(data) => data,
            Err(e) => return Ok(Err(Error::InvalidTimer(format!("data is not valid JSON: {e}")))),
        };
        if let Some(Err(e)) = key.as_deref().map(check_key) {
            return Ok(Err(e));
        }
        let timer = NewTimer {
            id: uuid::Uuid::now_v7().to_string(),
            key,
            event_type,
            data,
            due_at,
            correlation_id: timers.context.correlation_id.clone(),
            traceparent: timers.context.traceparent.clone(),
            actor: timers.context.actor.clone(),
        };
        Ok(match self.unit.schedule_timer(&timer).await {
            Ok(()) => Ok(timer.id),
            Err(e) => Err(Error::Unavailable(format!("the timer could not be written: {e:?}"))),
        })
    }

    async fn cancel(&mut self, key: String) -> wasmtime::Result<Result<bool, Error>> {
        if let Err(e) = check_key(&key) {
            return Ok(Err(e));
        }
        Ok(self.unit.cancel_timer(&key).await.map_err(|e| Error::Unavailable(format!("the timer could not be cancelled: {e:?}"))))
    }
}

fn check_key(key: &str) -> Result<(), Error> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES || key.chars().any(char::is_control) {
        return Err(Error::InvalidTimer(format!("a timer key is 1 to {MAX_KEY_BYTES} printable bytes")));
    }
    Ok(())
}
