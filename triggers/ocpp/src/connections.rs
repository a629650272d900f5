//! The charge points connected to this replica, one connection each: a charge point that
//! connects again (its old TCP connection may linger half-open) replaces the old one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio_util::sync::CancellationToken;

#[derive(Default)]
pub struct Connections {
    open: Mutex<HashMap<String, Entry>>,
    next: AtomicU64,
}

struct Entry {
    number: u64,
    replaced: CancellationToken,
}

/// One connection's place in [`Connections`]; cancelled when a newer one replaces it.
pub struct Registration {
    pub number: u64,
    pub replaced: CancellationToken,
}

impl Connections {
    /// Registers a connection of `charge_point_id`, replacing (cancelling) its earlier one.
    /// Its token is a child of `stopping`, so shutting down ends it too.
    pub fn register(&self, charge_point_id: &str, stopping: &CancellationToken) -> Registration {
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        let replaced = stopping.child_token();
        let entry = Entry { number, replaced: replaced.clone() };
        let earlier = self.open.lock().expect("not poisoned").insert(charge_point_id.to_string(), entry);
        if let Some(earlier) = earlier {
            earlier.replaced.cancel();
        }
        Registration { number, replaced }
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
        let first = connections.register("CP-1", &stopping);
        let second = connections.register("CP-1", &stopping);
        assert!(first.replaced.is_cancelled());
        assert!(!second.replaced.is_cancelled());
        // The old connection ending does not forget the new one.
        connections.unregister("CP-1", first.number);
        assert_eq!(connections.len(), 1);
        connections.unregister("CP-1", second.number);
        assert_eq!(connections.len(), 0);
        let third = connections.register("CP-1", &stopping);
        stopping.cancel();
        assert!(third.replaced.is_cancelled());
    }
}
