//! The `variables` capability: the values of a component's `[component.<id>.variables]`,
//! rendered from the application's `[variables]`, which environment variables override.

mod host;

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::Linker;

use super::shape::{Capability, Load, Start, View, ViewOf};
use crate::manifest::{Grants, Manifest, ManifestError};

/// The prefix of environment variables that override `[variables]`: `JOULE_VARIABLE_API_KEY`
/// sets `api_key`.
pub const ENV_PREFIX: &str = "JOULE_VARIABLE_";

/// Resolved values of one component's variables.
pub type ComponentVariables = Arc<BTreeMap<String, String>>;

/// Resolves every application variable, then every component's templates, once at startup.
pub fn resolve(
    manifest: &Manifest,
    env: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, ComponentVariables>, ManifestError> {
    let mut values = BTreeMap::new();
    for (name, variable) in &manifest.variables {
        let env_name = format!("{ENV_PREFIX}{}", name.to_ascii_uppercase());
        match env(&env_name).or_else(|| variable.default.clone()) {
            Some(value) => {
                values.insert(name.clone(), value);
            }
            None => {
                return Err(manifest
                    .error(format!("the variable is required; set {env_name}"))
                    .at_key(format!("variables.{name}")));
            }
        }
    }
    manifest
        .components
        .iter()
        .map(|(id, component)| {
            let rendered = component
                .variables
                .iter()
                .map(|(name, template)| {
                    let value = template.render(&values).map_err(|missing| {
                        manifest
                            .error(format!("refers to {missing:?}, which has no value"))
                            .in_component(id)
                            .at_key(format!("variables.{name}"))
                    })?;
                    Ok((name.clone(), value))
                })
                .collect::<Result<BTreeMap<_, _>, ManifestError>>()?;
            Ok((id.clone(), Arc::new(rendered)))
        })
        .collect()
}

/// Every component's variables, resolved once at startup.
pub(crate) struct Variables {
    pub values: BTreeMap<String, ComponentVariables>,
}

/// The variables side of one invocation.
pub struct VariablesState {
    values: ComponentVariables,
}

impl Capability for Variables {
    const NAME: &'static str = "variables";
    const GRANT_HINT: &'static str = "declare them in [component.<id>.variables]";
    const INTERFACES: &'static [&'static str] = &[joule_world::interface_names::VARIABLES];
    type Component = ComponentVariables;
    type State = VariablesState;

    fn is_granted(grants: &Grants) -> bool {
        grants.variables
    }

    fn component(&self, load: &Load<'_>) -> ComponentVariables {
        self.values.get(&**load.component).cloned().unwrap_or_default()
    }

    fn state(values: &ComponentVariables, _: &Start<'_>) -> VariablesState {
        VariablesState { values: values.clone() }
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, VariablesState>,
    ) -> anyhow::Result<()> {
        Ok(joule_world::variables::add_to_linker::<_, ViewOf<VariablesState>>(linker, view)?)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "app"
[variables]
page_size = { default = "20" }
api_key = { required = true }
[component.web]
source = "web.wasm"
variables = { limit = "{{ page_size }}", auth = "Bearer {{ api_key }}" }
"#;

    #[test]
    fn environment_overrides_defaults_and_fills_required() {
        let manifest = Manifest::parse(Path::new("spin.toml"), MANIFEST).unwrap();
        let env = |name: &str| match name {
            "JOULE_VARIABLE_API_KEY" => Some("secret".to_string()),
            "JOULE_VARIABLE_PAGE_SIZE" => Some("50".to_string()),
            _ => None,
        };
        let resolved = resolve(&manifest, env).unwrap();
        assert_eq!(resolved["web"]["limit"], "50");
        assert_eq!(resolved["web"]["auth"], "Bearer secret");
    }

    #[test]
    fn a_missing_required_variable_names_the_environment_variable() {
        let manifest = Manifest::parse(Path::new("spin.toml"), MANIFEST).unwrap();
        let error = resolve(&manifest, |_| None).unwrap_err();
        assert_eq!(error.key.as_deref(), Some("variables.api_key"));
        assert!(error.message.contains("JOULE_VARIABLE_API_KEY"));
    }
}
