//! Facts in the key-value store, each kept in a few slots that writers take in turn; a
//! reader takes the newest by the fact's own order.
//!
//! The store has no compare-and-set, and handlers run several at once: if each fact were
//! one value, read, compared and written back, an older event handled beside a newer one
//! could write last and win. Here a writer skips a fact older than what it reads, and takes
//! a slot of its own from an atomic counter, so writes made at once all land and the newest
//! is read back. It is lost only if more older facts than there are slots land after it
//! at once.

use joule_sdk::kv;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A value of the live state that newer events replace.
pub trait Fact: Serialize + DeserializeOwned {
    type Order: Ord;

    /// Slots kept: more for facts that come in bursts.
    const SLOTS: i64 = 3;

    fn order(&self) -> Self::Order;
}

/// The newest fact kept at `key`. A slot that does not read (written by an older version of
/// this component) is passed over.
pub fn latest<F: Fact>(key: &str) -> Result<Option<F>, kv::Error> {
    let mut kept = Vec::new();
    for slot in 0..F::SLOTS {
        if let Some(bytes) = kv::get(&slot_key(key, slot))? {
            kept.extend(serde_json::from_slice::<F>(&bytes).ok());
        }
    }
    Ok(newest(kept))
}

/// Keeps `fact` at `key` unless a newer one is kept there already; returns whether it was.
pub fn record<F: Fact>(key: &str, fact: &F) -> Result<bool, kv::Error> {
    if !is_news(latest::<F>(key)?.as_ref(), fact) {
        return Ok(false);
    }
    let turn = kv::incr(&turn_key(key), 1)?;
    let value = serde_json::to_vec(fact).expect("facts always serialise");
    kv::set(&slot_key(key, turn.rem_euclid(F::SLOTS)), &value, None)?;
    Ok(true)
}

/// Removes every slot of the fact at `key`.
pub fn forget<F: Fact>(key: &str) -> Result<(), kv::Error> {
    for slot in 0..F::SLOTS {
        kv::delete(&slot_key(key, slot))?;
    }
    kv::delete(&turn_key(key)).map(drop)
}

/// The newest of `facts`; of equals, the first.
fn newest<F: Fact>(facts: impl IntoIterator<Item = F>) -> Option<F> {
    facts.into_iter().reduce(|newest, fact| if fact.order() > newest.order() { fact } else { newest })
}

/// Whether `fact` is newer than what is kept. The same fact again (a redelivery) is not.
fn is_news<F: Fact>(kept: Option<&F>, fact: &F) -> bool {
    kept.is_none_or(|kept| fact.order() > kept.order())
}

fn slot_key(key: &str, slot: i64) -> String {
    format!("{key}#{slot}")
}

fn turn_key(key: &str) -> String {
    format!("{key}#turn")
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Reading(u32, char);

    impl Fact for Reading {
        type Order = u32;
        fn order(&self) -> u32 {
            self.0
        }
    }

    #[test]
    fn the_newest_fact_is_read_back_whatever_slot_it_landed_in() {
        assert_eq!(newest(Vec::<Reading>::new()), None);
        assert_eq!(newest([Reading(2, 'b'), Reading(7, 'c'), Reading(1, 'a')]), Some(Reading(7, 'c')));
        assert_eq!(newest([Reading(3, 'f'), Reading(3, 's')]), Some(Reading(3, 'f')));
    }

    #[test]
    fn only_a_newer_fact_is_written() {
        assert!(is_news(None, &Reading(1, 'a')));
        assert!(is_news(Some(&Reading(1, 'a')), &Reading(2, 'b')));
        assert!(!is_news(Some(&Reading(2, 'b')), &Reading(1, 'a')), "an older event comes late");
        assert!(!is_news(Some(&Reading(2, 'b')), &Reading(2, 'b')), "the same event twice");
    }

    #[test]
    fn slots_and_the_counter_are_keys_beside_the_facts() {
        assert_eq!(slot_key("meter:s:1", 5), "meter:s:1#5");
        assert_eq!(turn_key("meter:s:1"), "meter:s:1#turn");
    }
}
