//! The event handler: each event's change, kept in the key-value store.
//!
//! Key-value writes are not part of the unit of work, so a retried event writes again: each
//! write keeps only a newer fact, which makes doing it twice the same as doing it once.

use chrono::{DateTime, Utc};
use joule_sdk::events::{Event, Handler, HandlerError};
use joule_sdk::kv;
use uuid::Uuid;

use crate::changes::{self, Change};
use crate::live::{Heartbeat, Link, Meter, Session, Station, Status, keys};
use crate::store;

/// How long a removed station stays removed to the events that come late.
const REMOVED_FOR_SECONDS: u32 = 7 * 24 * 3600;

/// The event handler that keeps the live view.
pub struct Telemetry;

impl Handler for Telemetry {
    fn handle(event: Event) -> Result<(), HandlerError> {
        let published = DateTime::parse_from_rfc3339(&event.time)
            .map_err(|e| HandlerError::Permanent(format!("the event's time {:?} does not read: {e}", event.time)))?
            .with_timezone(&Utc);
        let Some(change) = changes::of(&event.event_type, &event.data, published).map_err(HandlerError::Permanent)? else {
            return Ok(());
        };
        apply(change).map_err(|e| HandlerError::Retryable(format!("the key-value store: {e:?}")))
    }
}

fn apply(change: Change) -> Result<(), kv::Error> {
    let station_id = change.station_id();
    if kv::exists(&keys::removed(station_id))? {
        return Ok(());
    }
    match change {
        Change::Station { station, link, statuses, .. } => described(station_id, &station, &link, &statuses),
        Change::Removed { .. } => removed(station_id),
        Change::Status { connector_id, status, .. } => {
            store::record(&keys::status(station_id, &connector_id), &status).map(drop)
        }
        Change::Session { connector_id, session, .. } => {
            store::record(&keys::session(station_id, &connector_id), &session).map(drop)
        }
        Change::Meter { connector_id, meter, .. } => store::record(&keys::meter(station_id, &connector_id), &meter).map(drop),
        Change::Heartbeat { heartbeat, .. } => store::record(&keys::heartbeat(station_id), &heartbeat).map(drop),
        Change::Link { link, .. } => store::record(&keys::link(station_id), &link).map(drop),
    }
}

/// A station as an event described it. Connectors it no longer has are forgotten.
fn described(station_id: Uuid, station: &Station, link: &Link, statuses: &[(String, Status)]) -> Result<(), kv::Error> {
    let before = store::latest::<Station>(&keys::station(station_id))?;
    if store::record(&keys::station(station_id), station)? {
        let gone = before.iter().flat_map(|b| &b.connectors).filter(|c| !station.connectors.contains(c));
        for connector in gone {
            forget_connector(station_id, connector)?;
        }
    }
    store::record(&keys::link(station_id), link)?;
    for (connector, status) in statuses {
        store::record(&keys::status(station_id, connector), status)?;
    }
    Ok(())
}

/// Forgets the station. Marked removed first, so handlers that come after write nothing.
fn removed(station_id: Uuid) -> Result<(), kv::Error> {
    kv::set(&keys::removed(station_id), b"1", Some(REMOVED_FOR_SECONDS))?;
    if let Some(station) = store::latest::<Station>(&keys::station(station_id))? {
        for connector in &station.connectors {
            forget_connector(station_id, connector)?;
        }
    }
    store::forget::<Station>(&keys::station(station_id))?;
    store::forget::<Link>(&keys::link(station_id))?;
    store::forget::<Heartbeat>(&keys::heartbeat(station_id))
}

fn forget_connector(station_id: Uuid, connector: &str) -> Result<(), kv::Error> {
    store::forget::<Status>(&keys::status(station_id, connector))?;
    store::forget::<Session>(&keys::session(station_id, connector))?;
    store::forget::<Meter>(&keys::meter(station_id, connector))
}
