//! The payment provider stub: accepts every payment unless asked to fail.

use serde_json::Value;

/// Charges an invoice; returns the provider's reference, or why it failed.
pub fn charge(invoice: &Value, fail: bool) -> Result<String, String> {
    if fail {
        return Err("the payment provider declined the payment".into());
    }
    let id = invoice["id"].as_str().unwrap_or_default();
    Ok(format!("stub-{}", id.split('-').next().unwrap_or(id)))
}
