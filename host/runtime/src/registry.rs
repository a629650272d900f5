//! The loaded components, by id: the versions new invocations use.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::component::LoadedComponent;

#[derive(Default)]
pub struct Registry {
    components: RwLock<HashMap<String, Arc<LoadedComponent>>>,
}

impl Registry {
    /// The version of `id` that new invocations use.
    pub fn get(&self, id: &str) -> Option<Arc<LoadedComponent>> {
        self.components.read().expect("registry lock").get(id).cloned()
    }

    pub(crate) fn insert(&self, component: Arc<LoadedComponent>) {
        self.components.write().expect("registry lock").insert(component.id.to_string(), component);
    }

    pub fn ids(&self) -> Vec<String> {
        self.components.read().expect("registry lock").keys().cloned().collect()
    }
}
