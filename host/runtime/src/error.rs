use crate::capabilities::ImportError;
use crate::manifest::ManifestError;

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("component {component:?}: {message}")]
    Component { component: String, message: String },
    #[error("{0}")]
    Backend(String),
}

impl RuntimeError {
    pub(crate) fn component(component: &str, error: anyhow::Error) -> Self {
        Self::Component { component: component.to_string(), message: format!("{error:#}") }
    }
}
