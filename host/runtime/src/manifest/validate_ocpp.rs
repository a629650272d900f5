//! `[[trigger.ocpp]]`: the route charge points connect on, and the components that answer.
//!
//! Whether each name in `actions` is an OCPP action is the OCPP trigger's to check: it knows
//! the protocol; the manifest only knows components.

use std::collections::BTreeMap;

use super::raw::RawOcppTrigger;
use super::validate::Validator;
use super::{ComponentConfig, ManifestError, OcppTriggerConfig};

impl Validator<'_> {
    pub(super) fn ocpp_triggers(
        &self,
        raw: Vec<RawOcppTrigger>,
        components: &BTreeMap<String, ComponentConfig>,
    ) -> Result<Vec<OcppTriggerConfig>, ManifestError> {
        let mut triggers: Vec<OcppTriggerConfig> = Vec::new();
        for (index, raw) in raw.into_iter().enumerate() {
            let trigger = self.ocpp_trigger(index, raw, components)?;
            if let Some(twin) = triggers.iter().find(|t| t.prefix == trigger.prefix) {
                return Err(self.error(
                    trigger.key("route"),
                    format!("{:?} is already the route of trigger.ocpp[{}]", trigger.route, twin.index),
                ));
            }
            triggers.push(trigger);
        }
        Ok(triggers)
    }

    fn ocpp_trigger(
        &self,
        index: usize,
        raw: RawOcppTrigger,
        components: &BTreeMap<String, ComponentConfig>,
    ) -> Result<OcppTriggerConfig, ManifestError> {
        let key = |field: &str| format!("trigger.ocpp[{index}].{field}");
        let prefix = raw
            .route
            .strip_suffix(OcppTriggerConfig::ID_SEGMENT)
            .and_then(|prefix| prefix.strip_suffix('/'))
            .filter(|prefix| is_plain_path(prefix))
            .ok_or_else(|| {
                self.error(
                    key("route"),
                    format!(
                        "{:?} must be a path of plain segments ending in /{}, such as \"/ocpp/{}\"",
                        raw.route,
                        OcppTriggerConfig::ID_SEGMENT,
                        OcppTriggerConfig::ID_SEGMENT
                    ),
                )
            })?;
        if !components.contains_key(&raw.component) {
            return Err(self.error(key("component"), format!("no [component.{}] is declared", raw.component)));
        }
        for (action, component) in &raw.actions {
            if !components.contains_key(component) {
                return Err(self.error(key(&format!("actions.{action}")), format!("no [component.{component}] is declared")));
            }
        }
        Ok(OcppTriggerConfig { index, prefix: prefix.to_string(), route: raw.route, component: raw.component, actions: raw.actions })
    }
}

/// "/ocpp" or "/v1/charge-points": segments of letters, digits, '-', '_' and '.'.
fn is_plain_path(path: &str) -> bool {
    let segment = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    path.strip_prefix('/').is_some_and(|rest| rest.split('/').all(segment))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::Manifest;

    const COMPONENTS: &str = r#"
spin_manifest_version = 2
[application]
name = "cpms"
[component.stations]
source = "stations.wasm"
[component.accounts]
source = "accounts.wasm"
"#;

    fn parse(triggers: &str) -> Result<Manifest, String> {
        Manifest::parse(Path::new("spin.toml"), &format!("{COMPONENTS}{triggers}")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_route_names_its_prefix_and_actions_their_components() {
        let manifest = parse(
            "[[trigger.ocpp]]\nroute = \"/ocpp/:chargePointId\"\ncomponent = \"stations\"\nactions = { Authorize = \"accounts\" }\n",
        )
        .unwrap();
        let trigger = &manifest.ocpp_triggers[0];
        assert_eq!(trigger.prefix, "/ocpp");
        assert_eq!(trigger.component_for("Authorize"), "accounts");
        assert_eq!(trigger.component_for("BootNotification"), "stations");
        assert_eq!(trigger.components().collect::<Vec<_>>(), ["stations", "accounts"]);
    }

    #[test]
    fn bad_routes_and_unknown_components_are_named() {
        for route in ["/ocpp", "ocpp/:chargePointId", "/:chargePointId", "/ocpp/*/:chargePointId", "/ocpp/:id"] {
            let error = parse(&format!("[[trigger.ocpp]]\nroute = \"{route}\"\ncomponent = \"stations\"\n")).unwrap_err();
            assert!(error.contains("trigger.ocpp[0].route") && error.contains(":chargePointId"), "{route}: {error}");
        }
        let error = parse("[[trigger.ocpp]]\nroute = \"/ocpp/:chargePointId\"\ncomponent = \"nope\"\n").unwrap_err();
        assert!(error.contains("trigger.ocpp[0].component") && error.contains("[component.nope]"), "{error}");
        let error = parse(
            "[[trigger.ocpp]]\nroute = \"/ocpp/:chargePointId\"\ncomponent = \"stations\"\nactions = { Authorize = \"nope\" }\n",
        )
        .unwrap_err();
        assert!(error.contains("trigger.ocpp[0].actions.Authorize"), "{error}");
        let twice = "[[trigger.ocpp]]\nroute = \"/ocpp/:chargePointId\"\ncomponent = \"stations\"\n";
        let error = parse(&format!("{twice}{twice}")).unwrap_err();
        assert!(error.contains("trigger.ocpp[1].route") && error.contains("trigger.ocpp[0]"), "{error}");
    }
}
