//! Event-type patterns an endpoint subscribes with, as AMQP topics: dot-separated words,
//! `*` for exactly one word and `#` for any number of words (none included).

/// Whether `pattern` is well formed: words of letters, digits and hyphens, or `*` or `#`.
pub fn is_valid(pattern: &str) -> bool {
    !pattern.is_empty()
        && pattern.len() <= 200
        && pattern.split('.').all(|word| {
            word == "*" || word == "#" || (!word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        })
}

/// Whether `event_type` matches `pattern`.
pub fn matches(pattern: &str, event_type: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('.').collect();
    let words: Vec<&str> = event_type.split('.').collect();
    matches_words(&pattern, &words)
}

fn matches_words(pattern: &[&str], words: &[&str]) -> bool {
    match pattern.split_first() {
        None => words.is_empty(),
        Some((&"#", rest)) => (0..=words.len()).any(|skip| matches_words(rest, &words[skip..])),
        Some((&word, rest)) => match words.split_first() {
            Some((&first, others)) => (word == "*" || word == first) && matches_words(rest, others),
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_match_as_amqp_binds_them() {
        assert!(matches("invoice.created.v1", "invoice.created.v1"));
        assert!(!matches("invoice.created.v1", "invoice.created.v2"));
        assert!(matches("invoice.*.v1", "invoice.created.v1"));
        assert!(!matches("invoice.*", "invoice.created.v1"));
        assert!(matches("invoice.#", "invoice.created.v1"));
        assert!(matches("#", "charger.offline.v1"));
        assert!(matches("charging.#.v1", "charging.session.completed.v1"));
        assert!(matches("charging.#.v1", "charging.v1"));
        assert!(!matches("payment.#", "invoice.created.v1"));
    }

    #[test]
    fn patterns_are_words_or_wildcards() {
        assert!(is_valid("charger.offline.v1"));
        assert!(is_valid("reservation.#"));
        assert!(!is_valid(""));
        assert!(!is_valid("invoice..v1"));
        assert!(!is_valid("invoice.cre ated"));
        assert!(!is_valid("invoice.cre*"));
    }
}
