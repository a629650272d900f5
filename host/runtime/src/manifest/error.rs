use std::fmt;
use std::path::PathBuf;

/// A problem in `spin.toml`, located by file, line, component and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ManifestError {
    pub file: PathBuf,
    pub line: Option<usize>,
    /// The component whose table holds the problem, if any.
    pub component: Option<String>,
    /// The key, relative to the component's table when there is a component.
    pub key: Option<String>,
    pub message: String,
}

impl ManifestError {
    pub(crate) fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self { file: file.into(), line: None, component: None, key: None, message: message.into() }
    }

    pub fn at_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    pub fn in_component(mut self, component: impl Into<String>) -> Self {
        self.component = Some(component.into());
        self
    }

    /// Locates an error found while deserialising, from serde's path (`component.x.limits.memory`).
    pub(crate) fn from_path(file: PathBuf, line: Option<usize>, path: &str, message: String) -> Self {
        let mut error = Self { file, line, component: None, key: None, message };
        let mut parts = path.splitn(3, '.');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("component"), Some(id), rest) => {
                error.component = Some(id.to_string());
                error.key = rest.map(str::to_string);
            }
            _ if path.is_empty() || path == "." => {}
            _ => error.key = Some(path.to_string()),
        }
        error
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        match (&self.component, &self.key) {
            (Some(component), Some(key)) => write!(f, ": component {component:?}, key {key:?}")?,
            (Some(component), None) => write!(f, ": component {component:?}")?,
            (None, Some(key)) => write!(f, ": key {key:?}")?,
            (None, None) => {}
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_file_line_component_and_key() {
        let error = ManifestError::from_path(
            "spin.toml".into(),
            Some(12),
            "component.stations.limits.memory",
            "expected a size".into(),
        );
        assert_eq!(
            error.to_string(),
            r#"spin.toml:12: component "stations", key "limits.memory": expected a size"#
        );
    }

    #[test]
    fn top_level_keys_have_no_component() {
        let error = ManifestError::from_path("spin.toml".into(), None, "application.name", "missing".into());
        assert_eq!(error.to_string(), r#"spin.toml: key "application.name": missing"#);
    }
}
