use joule_world::events::{Error, Host, PublishOptions};

use super::{EventsState, MAX_DATA_BYTES};
use crate::capabilities::shape::View;
use crate::events::Envelope;

/// Caller-chosen ids are kept short and printable.
const MAX_ID_BYTES: usize = 128;

impl Host for View<'_, EventsState> {
    async fn publish(
        &mut self,
        event_type: String,
        data: String,
        options: PublishOptions,
    ) -> wasmtime::Result<Result<String, Error>> {
        let events = &*self.state;
        if !events.publishes.contains(&event_type) {
            return Ok(Err(Error::NotGranted(format!(
                "component {:?} may not publish {event_type:?}; its manifest grants {:?}",
                events.component, events.publishes
            ))));
        }
        if data.len() > MAX_DATA_BYTES {
            return Ok(Err(Error::InvalidEvent(format!("data is {} bytes; at most {MAX_DATA_BYTES}", data.len()))));
        }
        let data_bytes = data.len();
        let data = match serde_json::from_str(&data) {
            Ok(data) => data,
            Err(e) => return Ok(Err(Error::InvalidEvent(format!("data is not valid JSON: {e}")))),
        };
        let id = match options.id {
            Some(id) if id.is_empty() || id.len() > MAX_ID_BYTES || id.chars().any(char::is_control) => {
                return Ok(Err(Error::InvalidEvent(format!(
                    "an event id is 1 to {MAX_ID_BYTES} printable bytes"
                ))));
            }
            Some(id) => id,
            None => uuid::Uuid::now_v7().to_string(),
        };
        let correlation_id = options.correlation_id.or_else(|| events.context.correlation_id.clone());
        let mut envelope =
            Envelope::new(id, &events.component, &event_type, data, correlation_id, events.context.traceparent.clone());
        envelope.actor = events.context.actor.clone();
        let id = envelope.id.clone();
        Ok(match self.unit.enqueue(envelope, data_bytes).await {
            Ok(()) => Ok(id),
            Err(e) => Err(Error::Unavailable(format!("the outbox could not be written: {e:?}"))),
        })
    }
}
