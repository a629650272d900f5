//! Time-ordered ids for rows that are listed in creation order.

use uuid::{ContextV7, Timestamp, Uuid};

/// A UUIDv7 whose 12 bits after the millisecond hold the time within it (about a quarter of
/// a microsecond), so ids created one after another sort in that order even within one
/// millisecond. `Uuid::now_v7` keeps that order with a counter, which starts afresh in every
/// invocation's new instance: two rows made in the same millisecond by two invocations would
/// sort at random.
pub fn time_ordered() -> Uuid {
    Uuid::new_v7(Timestamp::now(ContextV7::new().with_additional_precision()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_one_after_another_sort_in_that_order() {
        // Fresh contexts each time, as in separate invocations; a sleep of a microsecond
        // stands in for the time between two requests.
        let mut previous = time_ordered();
        for _ in 0..200 {
            std::thread::sleep(std::time::Duration::from_micros(1));
            let next = time_ordered();
            assert!(next > previous, "{next} was made after {previous}");
            previous = next;
        }
    }
}
