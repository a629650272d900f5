//! Which replica holds which charge point, in the key-value store all replicas share (Redis
//! in production): an entry per charge point, written at connect and renewed while the
//! connection lives, and a liveness entry per replica. Both expire, so a replica that dies
//! without a word drops out of the directory by itself; a reconnect elsewhere overwrites
//! the entry at once.

use std::sync::Arc;
use std::time::Duration;

use joule_runtime::capabilities::kv::KeyValueBackend;
use serde::{Deserialize, Serialize};

/// How often a replica renews its entries; they live three times as long.
pub const RENEW_EVERY: Duration = Duration::from_secs(10);
const REPLICA_TTL: Duration = Duration::from_secs(30);
const ENTRY_TTL: Duration = Duration::from_secs(60);
/// How long it is remembered that a call was sent.
const SENT_TTL: Duration = Duration::from_secs(24 * 3600);

/// Where a charge point's connection is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    pub replica: String,
    pub connection_id: String,
}

#[derive(Clone)]
pub struct Directory {
    store: Arc<dyn KeyValueBackend>,
    /// The host's own key space: `<application>::ocpp`, which no component's `<app>:<id>` is.
    space: String,
}

impl Directory {
    pub fn new(store: Arc<dyn KeyValueBackend>, application: &str) -> Self {
        Self { store, space: format!("{application}::ocpp") }
    }

    pub async fn hold(&self, charge_point_id: &str, holder: &Holder) -> anyhow::Result<()> {
        let entry = serde_json::to_vec(holder)?;
        self.store.set(&self.space, &cp_key(charge_point_id), &entry, Some(ENTRY_TTL)).await.map_err(kv_error)
    }

    /// Forgets the charge point's entry if it is still this connection's: a newer connection
    /// (here or on another replica) keeps its own.
    pub async fn release(&self, charge_point_id: &str, connection_id: &str) -> anyhow::Result<()> {
        if self.holder(charge_point_id).await?.is_some_and(|h| h.connection_id == connection_id) {
            self.store.delete(&self.space, &cp_key(charge_point_id)).await.map_err(kv_error)?;
        }
        Ok(())
    }

    pub async fn holder(&self, charge_point_id: &str) -> anyhow::Result<Option<Holder>> {
        let entry = self.store.get(&self.space, &cp_key(charge_point_id)).await.map_err(kv_error)?;
        Ok(entry.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }

    pub async fn renew_replica(&self, replica: &str) -> anyhow::Result<()> {
        self.store.set(&self.space, &format!("replica/{replica}"), b"1", Some(REPLICA_TTL)).await.map_err(kv_error)
    }

    pub async fn replica_alive(&self, replica: &str) -> anyhow::Result<bool> {
        self.store.exists(&self.space, &format!("replica/{replica}")).await.map_err(kv_error)
    }

    /// Marks the call as sent; false if it was marked before, by a replica that then died.
    pub async fn first_send(&self, request_id: &str) -> anyhow::Result<bool> {
        let key = sent_key(request_id);
        let sends = self.store.incr(&self.space, &key, 1).await.map_err(kv_error)?;
        if sends == 1 {
            self.store.set(&self.space, &key, b"1", Some(SENT_TTL)).await.map_err(kv_error)?;
        }
        Ok(sends == 1)
    }
}

fn cp_key(charge_point_id: &str) -> String {
    format!("cp/{charge_point_id}")
}

fn sent_key(request_id: &str) -> String {
    format!("sent/{request_id}")
}

fn kv_error(e: joule_world::kv::Error) -> anyhow::Error {
    anyhow::anyhow!("the key-value store failed: {e:?}")
}
