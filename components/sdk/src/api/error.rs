use spin_sdk::http::{IntoResponse, Response};

use crate::{db, ocpp, timers};

/// An error answered to the API's caller in the contract's JSON shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: code.to_string(), message: message.into(), details: None }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// 404 for an id that names nothing.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(404, "not_found", format!("no {what} has the id {id:?}"))
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }

    /// 500 for a change whose event or timer could not be recorded with it.
    pub(crate) fn unrecorded() -> Self {
        Self::new(500, "internal_error", "the change could not be recorded")
    }
}

impl From<db::Error> for ApiError {
    /// A database error is the platform's or the component's fault, never the caller's:
    /// it becomes a 5xx, which also rolls the unit of work back.
    fn from(error: db::Error) -> Self {
        eprintln!("database error: {error:?}");
        match error {
            db::Error::Conflict(_) | db::Error::Unavailable(_) => {
                Self::new(503, "temporarily_unavailable", "the request could not be completed; retry it")
            }
            db::Error::Timeout => Self::new(504, "timeout", "the request took too long"),
            _ => Self::new(500, "internal_error", "the request failed inside the service"),
        }
    }
}

impl From<ocpp::CallFailed> for ApiError {
    /// A call to a charge point that could not be made: a 503, which rolls back the change
    /// the call belongs to, and may be retried.
    fn from(error: ocpp::CallFailed) -> Self {
        eprintln!("a call to a charge point could not be made: {error:?}");
        Self::new(503, "temporarily_unavailable", "the call to the charge point could not be made; retry it")
    }
}

impl From<timers::Error> for ApiError {
    /// As with a failed publish: a 500, which rolls back the change the timer belongs to.
    fn from(error: timers::Error) -> Self {
        eprintln!("timer error: {error:?}");
        Self::unrecorded()
    }
}

impl From<ApiError> for Response {
    fn from(error: ApiError) -> Self {
        let mut body = serde_json::json!({ "code": error.code, "message": error.message });
        if let Some(details) = error.details {
            body["details"] = details;
        }
        let mut response = super::json(error.status, &serde_json::json!({ "error": body }));
        match error.status {
            // As the host answers a route that needs a token (RFC 6750).
            401 => response.set_header("www-authenticate", r#"Bearer realm="joule""#),
            403 => response.set_header("www-authenticate", r#"Bearer realm="joule", error="insufficient_scope""#),
            503 => response.set_header("retry-after", "1"),
            _ => {}
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timer_error_fails_the_request_and_so_rolls_it_back() {
        let error = ApiError::from(timers::Error::Unavailable("down".into()));
        assert_eq!((error.status, error.code.as_str()), (500, "internal_error"));
    }
}
