//! Reading `PATCH /me`. Every problem is collected, so one 422 names each bad field; the
//! shapes checked here are the `pattern`s openapi.yaml gives the same fields.

use joule_sdk::api::{ApiError, Problems, Reader};
use serde_json::Value;

use super::{Preferences, Profile};

const FIELDS: [&str; 5] = ["displayName", "email", "phone", "locale", "notificationPreferences"];
const CHANNELS: [&str; 3] = ["email", "webhook", "log"];
const MAX_DISPLAY_NAME: usize = 100;
/// The longest address SMTP carries (RFC 5321's path limit less its brackets).
const MAX_EMAIL: usize = 254;
/// Longer than any valid phone number or locale: their shapes bound them tighter.
const MAX_SHAPED: usize = 32;

const EMAIL_PROBLEM: &str = "must be an email address such as \"ada@example.com\"";
const PHONE_PROBLEM: &str = "must be an E.164 number: '+', then 7 to 15 digits, such as \"+31201234567\"";
const LOCALE_PROBLEM: &str = "must be a language tag such as \"en\", \"de-DE\" or \"zh-Hant-TW\"";

/// A partial update: `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfilePatch {
    pub display_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub locale: Option<Option<String>>,
    pub preferences: Option<PreferencesPatch>,
}

/// The channels a patch turns on or off; the rest stay as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreferencesPatch {
    pub email: Option<bool>,
    pub webhook: Option<bool>,
    pub log: Option<bool>,
}

impl ProfilePatch {
    /// Applies the patch; returns the names of the fields whose value changed.
    pub fn apply(self, profile: &mut Profile) -> Vec<&'static str> {
        let mut changed = Vec::new();
        set(&mut profile.display_name, self.display_name, "displayName", &mut changed);
        set(&mut profile.email, self.email, "email", &mut changed);
        set(&mut profile.phone, self.phone, "phone", &mut changed);
        set(&mut profile.locale, self.locale, "locale", &mut changed);
        let current = profile.notification_preferences;
        let preferences = self.preferences.map(|patch| Preferences {
            email: patch.email.unwrap_or(current.email),
            webhook: patch.webhook.unwrap_or(current.webhook),
            log: patch.log.unwrap_or(current.log),
        });
        set(&mut profile.notification_preferences, preferences, "notificationPreferences", &mut changed);
        changed
    }
}

fn set<T: PartialEq>(field: &mut T, value: Option<T>, name: &'static str, changed: &mut Vec<&'static str>) {
    if let Some(value) = value
        && *field != value
    {
        *field = value;
        changed.push(name);
    }
}

pub fn profile_patch(body: &Value) -> Result<ProfilePatch, ApiError> {
    let mut problems = Problems::new();
    let reader = Reader::body(body, &mut problems);
    reader.only(&FIELDS, &mut problems);
    let mut patch = ProfilePatch::default();
    if reader.has("displayName") {
        patch.display_name = reader.optional_string("displayName", MAX_DISPLAY_NAME, &mut problems);
    }
    if reader.has("email") {
        patch.email = shaped(&reader, "email", MAX_EMAIL, email, EMAIL_PROBLEM, &mut problems);
    }
    if reader.has("phone") {
        patch.phone = shaped(&reader, "phone", MAX_SHAPED, phone, PHONE_PROBLEM, &mut problems);
    }
    if reader.has("locale") {
        patch.locale = shaped(&reader, "locale", MAX_SHAPED, locale, LOCALE_PROBLEM, &mut problems);
    }
    if let Some(channels) = reader.object("notificationPreferences", false, &mut problems) {
        patch.preferences = preferences(&channels, &body["notificationPreferences"], &mut problems);
    }
    problems.finish()?;
    Ok(patch)
}

/// An optional string that must also have a shape: `normalise` gives its stored form, or
/// `None` when it does not fit.
fn shaped(
    reader: &Reader<'_>,
    key: &str,
    max: usize,
    normalise: fn(&str) -> Option<String>,
    problem: &str,
    problems: &mut Problems,
) -> Option<Option<String>> {
    match reader.optional_string(key, max, problems)? {
        None => Some(None),
        Some(text) => match normalise(&text) {
            Some(normalised) => Some(Some(normalised)),
            None => {
                problems.add(reader.path(key), problem);
                None
            }
        },
    }
}

fn preferences(reader: &Reader<'_>, object: &Value, problems: &mut Problems) -> Option<PreferencesPatch> {
    reader.only(&CHANNELS, problems);
    let mut flag = |key: &str| match object.get(key) {
        None => Some(None),
        Some(Value::Bool(on)) => Some(Some(*on)),
        Some(_) => {
            problems.add(reader.path(key), "must be true or false");
            None
        }
    };
    let (email, webhook, log) = (flag("email"), flag("webhook"), flag("log"));
    Some(PreferencesPatch { email: email?, webhook: webhook?, log: log? })
}

/// Characters an email address never holds here: whitespace (and U+FEFF, which JSON Schema's
/// `\s` counts) and a second `@`. Control characters never reach this far.
fn in_address(c: char) -> bool {
    !c.is_whitespace() && c != '\u{feff}' && c != '@'
}

/// A basic shape, as the spec's pattern says: `local@domain.tld`, with no whitespace and one
/// `@`. Whether it reaches anyone is for the mail server to tell.
fn email(text: &str) -> Option<String> {
    let (local, domain) = text.split_once('@')?;
    let fits = !local.is_empty() && local.chars().all(in_address) && domain.chars().all(in_address);
    let dotted = domain.char_indices().any(|(i, c)| c == '.' && i > 0 && i + 1 < domain.len());
    (fits && dotted).then(|| text.to_string())
}

/// E.164: a plus sign and up to 15 digits, the first not 0; at least 7 digits, as the
/// shortest numbers in use are.
fn phone(text: &str) -> Option<String> {
    let digits = text.strip_prefix('+')?;
    let fits =
        (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    fits.then(|| text.to_string())
}

/// A BCP 47 tag of language, optional script and optional region (`en`, `de-DE`,
/// `zh-Hant-TW`, `es-419`), in any case; kept in the canonical case.
fn locale(text: &str) -> Option<String> {
    let letters =
        |part: &str, counts: &[usize]| counts.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphabetic());
    let mut parts = text.split('-');
    let language = parts.next().filter(|p| letters(p, &[2, 3]))?;
    let mut tag = language.to_ascii_lowercase();
    let mut next = parts.next();
    if let Some(script) = next.filter(|p| letters(p, &[4])) {
        tag.push('-');
        tag.push_str(&script[..1].to_ascii_uppercase());
        tag.push_str(&script[1..].to_ascii_lowercase());
        next = parts.next();
    }
    if let Some(region) = next {
        let numeric = region.len() == 3 && region.bytes().all(|b| b.is_ascii_digit());
        if !letters(region, &[2]) && !numeric {
            return None;
        }
        tag.push('-');
        tag.push_str(&region.to_ascii_uppercase());
    }
    parts.next().is_none().then_some(tag)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn details(body: Value) -> Value {
        let error = profile_patch(&body).unwrap_err();
        assert_eq!(error.status, 422);
        error.details.unwrap()
    }

    fn empty_profile() -> Profile {
        let now = Utc::now();
        Profile {
            id: Uuid::nil(),
            subject: "ada".into(),
            display_name: None,
            email: None,
            phone: None,
            locale: None,
            notification_preferences: Preferences::default(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn reads_and_normalises_a_full_patch() {
        let patch = profile_patch(&json!({
            "displayName": "Ada Lovelace", "email": "ada@example.com", "phone": "+31201234567",
            "locale": "zh-hant-tw", "notificationPreferences": { "webhook": false }
        }))
        .unwrap();
        assert_eq!(patch.locale, Some(Some("zh-Hant-TW".into())));
        assert_eq!(patch.preferences, Some(PreferencesPatch { webhook: Some(false), ..Default::default() }));
        let mut profile = empty_profile();
        let changed = patch.apply(&mut profile);
        assert_eq!(changed, ["displayName", "email", "phone", "locale", "notificationPreferences"]);
        assert_eq!(profile.notification_preferences, Preferences { email: true, webhook: false, log: true });
    }

    #[test]
    fn names_each_bad_field() {
        let found = details(json!({
            "email": "ada.example.com", "phone": "0201234567", "locale": "english",
            "displayName": " ", "notificationPreferences": { "email": "yes", "sms": true }, "password": "x"
        }));
        assert_eq!(found["email"], EMAIL_PROBLEM);
        assert_eq!(found["phone"], PHONE_PROBLEM);
        assert_eq!(found["locale"], LOCALE_PROBLEM);
        assert_eq!(found["displayName"], "must not be blank");
        assert_eq!(found["notificationPreferences.email"], "must be true or false");
        assert_eq!(found["notificationPreferences.sms"], "is not a known field");
        assert_eq!(found["password"], "is not a known field");
        assert!(details(json!({ "notificationPreferences": null }))["notificationPreferences"].is_string());
    }

    #[test]
    fn null_clears_and_an_unchanged_value_is_no_change() {
        let mut profile = empty_profile();
        profile.email = Some("ada@example.com".into());
        let patch = profile_patch(&json!({ "email": null, "phone": null, "notificationPreferences": { "log": true } }))
            .unwrap();
        assert_eq!(patch.apply(&mut profile), ["email"]);
        assert_eq!(profile.email, None);
        assert!(profile_patch(&json!({})).unwrap().apply(&mut profile).is_empty());
    }

    #[test]
    fn email_shapes() {
        for good in ["ada@example.com", "a.b+c@mail.example.co.uk", "x@a..b", "ø@ø.dk"] {
            assert_eq!(email(good).as_deref(), Some(good), "{good:?}");
        }
        for bad in [
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@.com",
            "ada@example.",
            "a@b@c.d",
            "a b@c.d",
            "a@c.d\u{feff}",
        ] {
            assert_eq!(email(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn phone_shapes() {
        for good in ["+31201234567", "+1234567", "+123456789012345"] {
            assert!(phone(good).is_some(), "{good:?}");
        }
        for bad in
            ["31201234567", "+0201234567", "+123456", "+1234567890123456", "+31 20 123 4567", "+3120-1234567", "+"]
        {
            assert_eq!(phone(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn locale_shapes() {
        for (given, kept) in
            [("en", "en"), ("DE-de", "de-DE"), ("es-419", "es-419"), ("sr-latn", "sr-Latn"), ("fil-PH", "fil-PH")]
        {
            assert_eq!(locale(given).as_deref(), Some(kept), "{given:?}");
        }
        for bad in ["e", "english", "en_US", "en-", "en-USA", "en-US-x", "en-1234", "-en", "de-DE-DE", "12"] {
            assert_eq!(locale(bad), None, "{bad:?}");
        }
    }
}
