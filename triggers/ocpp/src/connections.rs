//! The charge points connected to this replica, one connection each: a charge point that
//! connects again (its old TCP connection may linger half-open) replaces the old one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::calls::{CallQueue, Outgoing};

#[derive(Default)]
pub struct Connections {
    open: Mutex<HashMap<String, Entry>>,
    next: AtomicU64,
}

struct Entry {
    number: u64,
    connection_id: String,
    replaced: CancellationToken,
    /// Where calls to the charge point are queued for this connection to send.
    calls: mpsc::UnboundedSender<Outgoing>,
}

/// One connection's place in [`Connections`]; cancelled when a newer one replaces it.
pub struct Registration {
    pub number: u64,
    pub replaced: CancellationToken,
    pub calls: CallQueue,
}

impl Connections {
    /// Registers a connection of `charge_point_id`, replacing (cancelling) its earlier one.
    /// Its token is a child of `stopping`, so shutting down ends it too.
    pub fn register(&self, charge_point_id: &str, connection_id: &str, stopping: &CancellationToken) -> Registration {
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        let replaced = stopping.child_token();
        let (sender, calls) = mpsc::unbounded_channel();
        let entry = Entry { number, connection_id: connection_id.to_string(), replaced: replaced.clone(), calls: sender };
        let earlier = self.open.lock().expect("not poisoned").insert(charge_point_id.to_string(), entry);
        if let Some(earlier) = earlier {
            earlier.replaced.cancel();
        }
        Registration { number, replaced, calls }
    }

    /// Where to queue a call to the charge point.
    pub fn queue(&self, charge_point_id: &str) -> Option<mpsc::UnboundedSender<Outgoing>> {
        let open = self.open.lock().expect("not poisoned");
        open.get(charge_point_id).map(|entry| entry.calls.clone())
    }

    /// Every charge point held, with its connection's id.
    pub fn held(&self) -> Vec<(String, String)> {
        let open = self.open.lock().expect("not poisoned");
        open.iter().map(|(id, entry)| (id.clone(), entry.connection_id.clone())).collect()
    }

    /// Forgets connection `number` of `charge_point_id`, unless a newer one replaced it.
    pub fn unregister(&self, charge_point_id: &str, number: u64) {
        let mut open = self.open.lock().expect("not poisoned");
        if open.get(charge_point_id).is_some_and(|entry| entry.number == number) {
            open.remove(charge_point_id);
        }
    }

    pub fn len(&self) -> usize {
        self.open.lock().expect("not poisoned").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reconnecting_charge_point_replaces_its_old_connection() {
        let (connections, stopping) = (Connections::default(), CancellationToken::new());
        let first = connections.register("CP-1", "c1", &stopping);
        let second = connections.register("CP-1", "c2", &stopping);
        assert_eq!(connections.held(), [("CP-1".to_string(), "c2".to_string())]);
        assert!(first.replaced.is_cancelled());
        assert!(!second.replaced.is_cancelled());
        // The old connection ending does not forget the new one.
        connections.unregister("CP-1", first.number);
        assert_eq!(connections.len(), 1);
        connections.unregister("CP-1", second.number);
        assert_eq!(connections.len(), 0);
        assert!(connections.queue("CP-1").is_none());
        let third = connections.register("CP-1", "c3", &stopping);
        stopping.cancel();
        assert!(third.replaced.is_cancelled());
    }
}
