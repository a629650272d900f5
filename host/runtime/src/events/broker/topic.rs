//! AMQP topic matching: words split by '.', `*` matches one word, `#` zero or more.

pub fn matches(pattern: &str, routing_key: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('.').collect();
    let key: Vec<&str> = routing_key.split('.').collect();
    words(&pattern, &key)
}

fn words(pattern: &[&str], key: &[&str]) -> bool {
    match (pattern.first(), key.first()) {
        (None, None) => true,
        (Some(&"#"), _) => words(&pattern[1..], key) || (!key.is_empty() && words(pattern, &key[1..])),
        (Some(&"*"), Some(_)) => words(&pattern[1..], &key[1..]),
        (Some(word), Some(part)) => word == part && words(&pattern[1..], &key[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_wildcards() {
        assert!(matches("station.created.v1", "station.created.v1"));
        assert!(!matches("station.created.v1", "station.removed.v1"));
        assert!(matches("station.*.v1", "station.created.v1"));
        assert!(!matches("station.*", "station.created.v1"));
        assert!(matches("station.#", "station.created.v1"));
        assert!(matches("station.#", "station"));
        assert!(matches("#", "charging.session.completed.v1"));
        assert!(matches("#.v1", "charging.session.completed.v1"));
        assert!(!matches("#.v2", "charging.session.completed.v1"));
        assert!(matches("charging.#.v1", "charging.session.completed.v1"));
    }
}
