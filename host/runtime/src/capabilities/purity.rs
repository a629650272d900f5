//! Pricing rules and notification templates run on a caller's behalf, inside the caller's
//! unit of work: with capabilities of their own they could write outside it, or call back
//! into their caller. So a component that another names as a rule or template holds none.

use crate::manifest::{Manifest, ManifestError};

/// Refuses a manifest in which a component run as a rule or template is granted a capability.
pub(crate) fn check_pure_callees(manifest: &Manifest) -> Result<(), ManifestError> {
    for (caller, config) in &manifest.components {
        let rules = config.grants.pricing.iter().flat_map(|p| &p.rules).map(|id| (id, "pricing rule"));
        let templates = config.grants.templates.iter().flat_map(|t| &t.names).map(|id| (id, "notification template"));
        for (callee, role) in rules.chain(templates) {
            let Some(callee_config) = manifest.components.get(callee) else { continue };
            if let Some(capability) = super::granted(&callee_config.grants).first() {
                return Err(manifest
                    .error(format!(
                        "component {caller:?} runs it as a {role}, and rules and templates are pure, \
                         but it is granted the {capability} capability; remove that grant"
                    ))
                    .in_component(callee));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn check(caller_grant: &str, callee: &str) -> Result<(), ManifestError> {
        let text = format!(
            "spin_manifest_version = 2\n[application]\nname = \"app\"\n\
             [component.caller]\nsource = \"c.wasm\"\n{caller_grant}\n[component.callee]\n{callee}\n"
        );
        check_pure_callees(&Manifest::parse(Path::new("app/spin.toml"), &text).unwrap())
    }

    #[test]
    fn a_component_run_as_a_rule_or_template_must_hold_no_capability() {
        let rule = "pricing = { rules = [\"callee\"] }";
        check(rule, "source = \"ocpi.wasm\"").unwrap();
        let message = check(rule, "source = \"o.wasm\"\nkey_value_stores = [\"default\"]").unwrap_err().to_string();
        assert!(message.contains("app/spin.toml") && message.contains("\"callee\""), "{message}");
        assert!(message.contains("pricing rule") && message.contains("key-value"), "{message}");

        let template = "templates = { names = [\"callee\"] }";
        let message = check(template, "source = \"r.wasm\"\npricing = {}").unwrap_err().to_string();
        assert!(message.contains("notification template") && message.contains("pricing"), "{message}");
    }
}
