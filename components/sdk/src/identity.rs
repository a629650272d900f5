//! Who is calling: the caller the host verified before the component ran (a component
//! granted `identity = true`).

use crate::api::ApiError;
use crate::bindings::joule::platform::identity as wit;

pub use wit::Principal;

/// The verified caller, or `None` for an anonymous request.
pub fn caller() -> Option<Principal> {
    wit::caller()
}

/// On whose behalf this invocation acts: the caller's subject in a request, the event's
/// `actor` in a handler (the subject of the request that published it).
pub fn actor() -> Option<String> {
    wit::actor()
}

/// The caller's subject, or `None` for an anonymous request.
pub fn subject() -> Option<String> {
    caller().map(|caller| caller.subject)
}

/// The caller, who must have one of `roles`: 401 for an anonymous request, 403 without one
/// of them. With no roles named, any verified caller will do.
pub fn require_role(roles: &[&str]) -> Result<Principal, ApiError> {
    let caller = caller()
        .ok_or_else(|| ApiError::new(401, "unauthorized", "this needs a bearer token: send Authorization: Bearer <JWT>"))?;
    if roles.is_empty() || has_any_role(&caller, roles) {
        return Ok(caller);
    }
    Err(ApiError::new(403, "forbidden", format!("this needs one of the roles: {}", roles.join(", "))))
}

/// Whether `caller` has any of `roles`.
pub fn has_any_role(caller: &Principal, roles: &[&str]) -> bool {
    caller.roles.iter().any(|role| roles.contains(&role.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: &[&str]) -> Principal {
        Principal {
            subject: "driver-1".into(),
            issuer: "joule-dev".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            claims: "{}".into(),
        }
    }

    #[test]
    fn any_of_the_roles_will_do() {
        assert!(has_any_role(&principal(&["driver", "operator"]), &["operator"]));
        assert!(!has_any_role(&principal(&["driver"]), &["operator", "admin"]));
        assert!(!has_any_role(&principal(&[]), &["driver"]));
    }
}
