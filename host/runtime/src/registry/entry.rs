//! One component in the registry: its active version, and the versions loaded lately.

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use tokio::sync::MutexGuard;

use crate::component::{ComponentHost, LoadedComponent};
use crate::loader::RequiredExport;

/// Versions besides the active one kept compiled, for pinned calls and quick switches back.
const KEEP_LOADED: usize = 4;

pub(super) struct Entry {
    pub host: Arc<ComponentHost>,
    /// Exports every version must have, for the triggers and callers that use it.
    pub required: Vec<RequiredExport>,
    active: ArcSwap<LoadedComponent>,
    /// Most recent first; the active version is among them.
    recent: Mutex<Vec<Arc<LoadedComponent>>>,
    /// Held from storing an activation to switching to it, so this process switches in
    /// the order the store recorded.
    turn: tokio::sync::Mutex<()>,
}

impl Entry {
    pub fn new(host: Arc<ComponentHost>, active: Arc<LoadedComponent>, required: Vec<RequiredExport>) -> Self {
        Self {
            host,
            required,
            recent: Mutex::new(vec![active.clone()]),
            active: ArcSwap::new(active),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    pub fn active(&self) -> Arc<LoadedComponent> {
        self.active.load_full()
    }

    pub async fn turn(&self) -> MutexGuard<'_, ()> {
        self.turn.lock().await
    }

    /// Makes `version` the one new invocations use.
    pub fn switch(&self, version: Arc<LoadedComponent>) {
        self.active.store(version.clone());
        self.remember(version);
    }

    /// Keeps `version` loaded for a while.
    pub fn remember(&self, version: Arc<LoadedComponent>) {
        let active = self.active.load().version;
        let mut recent = self.recent.lock().expect("recent versions lock");
        recent.retain(|kept| kept.version != version.version);
        recent.insert(0, version);
        evict_least_recent(&mut recent, KEEP_LOADED + 1, |kept| kept.version == active);
    }

    pub fn loaded(&self, version: u32) -> Option<Arc<LoadedComponent>> {
        self.find(|loaded| loaded.version == version)
    }

    /// A loaded version with these bytes: checked and compiled already.
    pub fn loaded_with_sha256(&self, sha256: &str) -> Option<Arc<LoadedComponent>> {
        self.find(|loaded| loaded.sha256 == sha256)
    }

    fn find(&self, matches: impl Fn(&LoadedComponent) -> bool) -> Option<Arc<LoadedComponent>> {
        let recent = self.recent.lock().expect("recent versions lock");
        recent.iter().find(|loaded| matches(loaded)).cloned()
    }
}

/// Drops the least recent of `recent` (most recent first) beyond `keep`, never the active one:
/// the registry looks the active version up here too, by number and by bytes.
fn evict_least_recent<T>(recent: &mut Vec<T>, keep: usize, is_active: impl Fn(&T) -> bool) {
    while recent.len() > keep {
        match recent.iter().rposition(|kept| !is_active(kept)) {
            Some(least_recent) => recent.remove(least_recent),
            None => break,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_loads_never_evict_the_active_version() {
        // Version 1 is active, and four pinned versions were loaded after it.
        let mut recent = vec![5, 4, 3, 2, 1];
        for pinned in [6, 7, 8] {
            recent.insert(0, pinned);
            evict_least_recent(&mut recent, 5, |&v| v == 1);
        }
        assert_eq!(recent, [8, 7, 6, 5, 1]);
    }
}
