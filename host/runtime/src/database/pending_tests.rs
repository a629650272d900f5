//! Published events wait in the unit of work and reach the outbox in batches: checked with
//! a transaction that records what it was given and can be told to fail.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use joule_world::database::{Error, RowSet, Value};

use super::{ComponentDatabase, DatabaseState, PENDING_BYTES, PENDING_EVENTS, Transaction};
use crate::events::Envelope;

#[derive(Default)]
struct Journal {
    /// The ids of each batch written to the outbox, in order.
    batches: Vec<Vec<String>>,
    /// How the unit of work ended: true for a commit.
    ended: Option<bool>,
    /// Whether the next outbox write fails.
    fail_next_write: bool,
}

struct Recording(Arc<Mutex<Journal>>);

impl ComponentDatabase for Recording {
    fn begin(&self, _deadline: Instant) -> Box<dyn Transaction> {
        Box::new(Recording(self.0.clone()))
    }
}

#[async_trait]
impl Transaction for Recording {
    async fn query(&mut self, _: &str, _: &[Value]) -> Result<RowSet, Error> {
        unreachable!("these tests run no SQL")
    }
    async fn execute(&mut self, _: &str, _: &[Value]) -> Result<u64, Error> {
        unreachable!("these tests run no SQL")
    }
    async fn commit(self: Box<Self>) -> Result<(), Error> {
        self.0.lock().unwrap().ended = Some(true);
        Ok(())
    }
    async fn rollback(self: Box<Self>) -> Result<(), Error> {
        self.0.lock().unwrap().ended = Some(false);
        Ok(())
    }
    async fn enqueue(&mut self, events: &[Envelope]) -> Result<(), Error> {
        let mut journal = self.0.lock().unwrap();
        if std::mem::take(&mut journal.fail_next_write) {
            return Err(Error::Unavailable("the outbox write failed".into()));
        }
        journal.batches.push(events.iter().map(|e| e.id.clone()).collect());
        Ok(())
    }
    async fn record_delivery(&mut self, _: &str) -> Result<bool, Error> {
        unreachable!("these tests handle no deliveries")
    }
    async fn schedule_timer(&mut self, _: &crate::timers::NewTimer) -> Result<(), Error> {
        unreachable!("these tests schedule no timers")
    }
    async fn cancel_timer(&mut self, _: &str) -> Result<bool, Error> {
        unreachable!("these tests schedule no timers")
    }
}

fn state() -> (DatabaseState, Arc<Mutex<Journal>>) {
    let journal = Arc::new(Mutex::new(Journal::default()));
    let database: Arc<dyn ComponentDatabase> = Arc::new(Recording(journal.clone()));
    let deadline = Instant::now() + Duration::from_secs(10);
    (DatabaseState::new("publisher".into(), Some(database), deadline, None), journal)
}

fn event(index: usize) -> Envelope {
    Envelope::new(format!("e{index}"), "publisher", "test.event.v1", serde_json::json!({}), None, None)
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("e{i}")).collect()
}

#[tokio::test]
async fn events_reach_the_outbox_in_order_in_batches_and_the_rest_at_commit() {
    let (mut state, journal) = state();
    let total = 2 * PENDING_EVENTS + 7;
    for index in 0..total {
        state.enqueue(event(index), 2).await.unwrap();
    }
    assert_eq!(journal.lock().unwrap().batches.len(), 2, "two full batches are written as they fill");
    state.finish(true).await.unwrap();
    let journal = journal.lock().unwrap();
    let expected = [ids(0..PENDING_EVENTS), ids(PENDING_EVENTS..2 * PENDING_EVENTS), ids(2 * PENDING_EVENTS..total)];
    assert_eq!(journal.batches, expected);
    assert_eq!(journal.ended, Some(true));
}

#[tokio::test]
async fn large_event_data_fills_a_batch_sooner() {
    let (mut state, journal) = state();
    state.enqueue(event(0), PENDING_BYTES / 2).await.unwrap();
    assert!(journal.lock().unwrap().batches.is_empty());
    state.enqueue(event(1), PENDING_BYTES / 2).await.unwrap();
    assert_eq!(journal.lock().unwrap().batches, [ids(0..2)]);
}

#[tokio::test]
async fn a_rolled_back_unit_of_work_writes_no_pending_event() {
    let (mut state, journal) = state();
    for index in 0..PENDING_EVENTS + 3 {
        state.enqueue(event(index), 2).await.unwrap();
    }
    state.finish(false).await.unwrap();
    let journal = journal.lock().unwrap();
    // The full batch went into the transaction, which rolled back; the rest never left.
    assert_eq!(journal.batches, [ids(0..PENDING_EVENTS)]);
    assert_eq!(journal.ended, Some(false));
}

#[tokio::test]
async fn a_failed_batch_fails_only_the_publish_that_filled_it() {
    let (mut state, journal) = state();
    for index in 0..PENDING_EVENTS - 1 {
        state.enqueue(event(index), 2).await.unwrap();
    }
    journal.lock().unwrap().fail_next_write = true;
    let failed = state.enqueue(event(PENDING_EVENTS - 1), 2).await;
    assert!(matches!(failed, Err(Error::Unavailable(_))), "{failed:?}");
    // The events published before it are kept, and written at commit.
    state.finish(true).await.unwrap();
    let journal = journal.lock().unwrap();
    assert_eq!(journal.batches, [ids(0..PENDING_EVENTS - 1)]);
    assert_eq!(journal.ended, Some(true));
}

#[tokio::test]
async fn a_failed_write_at_commit_rolls_the_unit_of_work_back() {
    let (mut state, journal) = state();
    state.enqueue(event(0), 2).await.unwrap();
    journal.lock().unwrap().fail_next_write = true;
    assert!(matches!(state.finish(true).await, Err(Error::Unavailable(_))));
    let journal = journal.lock().unwrap();
    assert!(journal.batches.is_empty());
    assert_eq!(journal.ended, Some(false));
}

#[tokio::test]
async fn publishing_needs_a_database() {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut state = DatabaseState::new("publisher".into(), None, deadline, None);
    assert!(matches!(state.enqueue(event(0), 2).await, Err(Error::AccessDenied(_))));
}
