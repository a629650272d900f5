//! The problems found in a request, collected so one 422 names every bad field at once.

use std::collections::BTreeMap;

use super::ApiError;

/// The problems found in a request, by field path.
#[derive(Debug, Default)]
pub struct Problems {
    fields: BTreeMap<String, String>,
}

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.fields.entry(field.into()).or_insert_with(|| problem.into());
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The problems found, by field path.
    pub fn into_fields(self) -> impl Iterator<Item = (String, String)> {
        self.fields.into_iter()
    }

    /// The 422 for one bad field, found after the rest were read.
    pub fn one(field: &str, problem: &str) -> ApiError {
        let mut problems = Self::new();
        problems.add(field, problem);
        problems.finish().expect_err("one problem was added")
    }

    /// `Ok` when nothing was found, otherwise the 422 naming each field.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.fields.is_empty() {
            return Ok(());
        }
        let count = self.fields.len();
        let message = if count == 1 { "1 field is invalid".to_string() } else { format!("{count} fields are invalid") };
        let details = serde_json::to_value(&self.fields).expect("strings serialise");
        Err(ApiError::new(422, "validation_failed", message).with_details(details))
    }
}
