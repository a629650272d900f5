//! Who may do what in the EV platform (DOMAIN.md): a driver acts for themselves, an
//! operator for anyone. The host has verified the token; these rules are the components'.

use crate::api::ApiError;
use crate::identity;

/// The role of a driver, who owns their reservations, sessions, invoices and notifications.
pub const DRIVER: &str = "driver";
/// The role of an operator, who may do everything a driver may for any driver, and more.
pub const OPERATOR: &str = "operator";

/// A verified caller with one of the platform's roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Driver { subject: String },
    Operator { subject: String },
}

impl Caller {
    /// A driver or an operator: 401 for an anonymous request, 403 for a token with neither role.
    pub fn require() -> Result<Self, ApiError> {
        let principal = identity::require_role(&[DRIVER, OPERATOR])?;
        Ok(Self::of(principal.subject, &principal.roles))
    }

    /// An operator: 401 for an anonymous request, 403 for anyone else.
    pub fn require_operator() -> Result<Self, ApiError> {
        let principal = identity::require_role(&[OPERATOR])?;
        Ok(Self::Operator { subject: principal.subject })
    }

    /// The caller as a platform role; operator wins when a token has both.
    pub fn of(subject: String, roles: &[String]) -> Self {
        if roles.iter().any(|role| role == OPERATOR) { Self::Operator { subject } } else { Self::Driver { subject } }
    }

    pub fn subject(&self) -> &str {
        match self {
            Self::Driver { subject } | Self::Operator { subject } => subject,
        }
    }

    pub fn is_operator(&self) -> bool {
        matches!(self, Self::Operator { .. })
    }

    /// Whether the caller may see or act on what belongs to `driver_id`.
    pub fn may_access(&self, driver_id: &str) -> bool {
        self.is_operator() || self.subject() == driver_id
    }

    /// The driver a request acts for. A driver acts for themselves: naming nobody means them,
    /// naming another driver is 403. An operator acts for the driver they name, or for
    /// themselves when they name nobody.
    pub fn driver_id(&self, named: Option<&str>) -> Result<String, ApiError> {
        match (self, named) {
            (_, None) => Ok(self.subject().to_string()),
            (Self::Operator { .. }, Some(named)) => Ok(named.to_string()),
            (Self::Driver { subject }, Some(named)) if named == subject => Ok(named.to_string()),
            (Self::Driver { .. }, Some(_)) => Err(ApiError::new(
                403,
                "forbidden",
                "a driver acts only for themselves: driverId must be the subject of your token, or left out",
            )
            .with_details(serde_json::json!({ "driverId": "names another driver" }))),
        }
    }

    /// Whose things a listing shows: a driver sees their own (naming another driver is 403),
    /// an operator the named driver's, or everyone's (`None`) when they name nobody.
    pub fn listing(&self, named: Option<&str>) -> Result<Option<String>, ApiError> {
        match (self, named) {
            (Self::Operator { .. }, named) => Ok(named.map(str::to_string)),
            (Self::Driver { .. }, named) => self.driver_id(named).map(Some),
        }
    }

    /// `found` when the caller may see it, and otherwise the same 404 as for an unknown id,
    /// so a driver learns nothing of another driver's things.
    pub fn visible<T>(&self, found: Option<T>, owner: impl Fn(&T) -> &str, what: &str, id: &str) -> Result<T, ApiError> {
        found.filter(|thing| self.may_access(owner(thing))).ok_or_else(|| ApiError::not_found(what, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver(subject: &str) -> Caller {
        Caller::Driver { subject: subject.into() }
    }

    #[test]
    fn operator_wins_over_driver_in_one_token() {
        let roles = vec!["driver".to_string(), "operator".to_string()];
        assert!(Caller::of("ops".into(), &roles).is_operator());
        assert!(!Caller::of("ada".into(), &["driver".to_string()]).is_operator());
    }

    #[test]
    fn a_driver_acts_only_for_themselves() {
        assert_eq!(driver("ada").driver_id(None).unwrap(), "ada");
        assert_eq!(driver("ada").driver_id(Some("ada")).unwrap(), "ada");
        assert_eq!(driver("ada").driver_id(Some("bob")).unwrap_err().status, 403);
    }

    #[test]
    fn an_operator_acts_for_whoever_they_name() {
        let operator = Caller::Operator { subject: "ops".into() };
        assert_eq!(operator.driver_id(Some("bob")).unwrap(), "bob");
        assert_eq!(operator.driver_id(None).unwrap(), "ops");
        assert!(operator.may_access("bob"));
    }

    #[test]
    fn a_listing_is_a_drivers_own_and_an_operators_choice() {
        assert_eq!(driver("ada").listing(None).unwrap().as_deref(), Some("ada"));
        assert_eq!(driver("ada").listing(Some("bob")).unwrap_err().status, 403);
        let operator = Caller::Operator { subject: "ops".into() };
        assert_eq!(operator.listing(None).unwrap(), None);
        assert_eq!(operator.listing(Some("bob")).unwrap().as_deref(), Some("bob"));
    }

    #[test]
    fn another_drivers_thing_is_not_found() {
        let thing = ("r1", "bob");
        let error = driver("ada").visible(Some(thing), |t| t.1, "reservation", "r1").unwrap_err();
        assert_eq!((error.status, error.code.as_str()), (404, "not_found"));
        assert!(driver("bob").visible(Some(thing), |t| t.1, "reservation", "r1").is_ok());
    }
}
