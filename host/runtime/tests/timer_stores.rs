//! Both timer stores behave alike: a timer exists only once its unit of work commits, a key
//! replaces and a cancellation removes, claims are exclusive while they last, and settling
//! retries, buries or moves a schedule to its next tick. SQLite always runs; Postgres when
//! `JOULE_TEST_DATABASE_URL` is set, where two stores also claim side by side.

mod postgres_support;
mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use joule_runtime::Background;
use joule_runtime::database::sqlite::SqliteBackend;
use joule_runtime::database::{ComponentDatabase, DatabaseBackend, OpenOptions};
use joule_runtime::timers::{NewTimer, ScheduleRow, Settle, TimerStore};
use postgres_support::App;
use tokio::sync::Notify;

/// One backend's view: a component database to schedule in, and the store to fire from.
struct Subject {
    name: &'static str,
    database: Arc<dyn ComponentDatabase>,
    store: Arc<dyn TimerStore>,
    _keep: Box<dyn std::any::Any>,
}

const COMPONENT: &str = "alarm";

async fn subjects() -> Vec<Subject> {
    let dir = tempfile::tempdir().unwrap();
    let backend = SqliteBackend::new(dir.path().join("databases"));
    let publishes = BTreeSet::new();
    let options = OpenOptions { migrations: None, timeout: Duration::from_secs(5), publishes: &publishes };
    let database = backend.open(COMPONENT, &options).await.unwrap();
    let store = backend.timers(Arc::new(Notify::new()), &Background::default());
    let mut subjects = vec![Subject { name: "sqlite", database, store, _keep: Box::new((dir, backend)) }];
    if let Some(app) = App::fresh("timers", 4).await {
        let database = app.open(COMPONENT).await;
        let store = app.backend.timers(Arc::new(Notify::new()), &Background::default());
        subjects.push(Subject { name: "postgres", database, store, _keep: Box::new(app) });
    }
    subjects
}

fn timer(key: Option<&str>, due_at: DateTime<Utc>, data: serde_json::Value) -> NewTimer {
    NewTimer {
        id: uuid::Uuid::now_v7().to_string(),
        key: key.map(str::to_string),
        event_type: "alarm.rang.v1".into(),
        data,
        due_at,
        correlation_id: Some("corr-1".into()),
        traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
        actor: Some("driver-1".into()),
    }
}

/// Schedules `timers` in one unit of work, committed or rolled back.
async fn schedule(subject: &Subject, timers: &[NewTimer], commit: bool) {
    let mut transaction = subject.database.begin(support::soon());
    for timer in timers {
        transaction.schedule_timer(timer).await.unwrap();
    }
    if commit { transaction.commit().await.unwrap() } else { transaction.rollback().await.unwrap() }
}

async fn cancel(subject: &Subject, key: &str, commit: bool) -> bool {
    let mut transaction = subject.database.begin(support::soon());
    let cancelled = transaction.cancel_timer(key).await.unwrap();
    if commit { transaction.commit().await.unwrap() } else { transaction.rollback().await.unwrap() }
    cancelled
}

const LEASE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_timer_exists_only_once_its_unit_of_work_commits_and_a_claim_is_exclusive() {
    for subject in subjects().await {
        let name = subject.name;
        assert_eq!(subject.store.next_due().await.unwrap(), None, "{name}");
        let due = Utc::now() - TimeDelta::seconds(1);
        schedule(&subject, &[timer(None, due, serde_json::json!({ "n": 1 }))], false).await;
        assert_eq!(subject.store.pending().await.unwrap(), 0, "{name}: a rolled-back timer is gone");
        assert!(subject.store.claim(10, LEASE).await.unwrap().is_empty(), "{name}");

        let scheduled = timer(None, due, serde_json::json!({ "n": 2 }));
        schedule(&subject, std::slice::from_ref(&scheduled), true).await;
        assert_eq!(subject.store.next_due().await.unwrap(), Some(Duration::ZERO), "{name}: it is due");
        let claimed = subject.store.claim(10, LEASE).await.unwrap();
        assert_eq!(claimed.len(), 1, "{name}");
        let due_timer = &claimed[0];
        assert_eq!(
            (due_timer.component.as_str(), due_timer.id.as_str(), due_timer.event_type.as_str(), &due_timer.data),
            (COMPONENT, scheduled.id.as_str(), "alarm.rang.v1", &serde_json::json!({ "n": 2 })),
            "{name}"
        );
        assert_eq!(due_timer.correlation_id, scheduled.correlation_id, "{name}");
        assert_eq!(due_timer.traceparent, scheduled.traceparent, "{name}");
        assert_eq!(due_timer.actor.as_deref(), Some("driver-1"), "{name}");
        assert_eq!(due_timer.due_at.timestamp_micros(), due.timestamp_micros(), "{name}");
        assert_eq!(due_timer.attempts, 0, "{name}");
        assert!(subject.store.claim(10, LEASE).await.unwrap().is_empty(), "{name}: claimed once while the lease lasts");
        let wait = subject.store.next_due().await.unwrap().unwrap();
        assert!(wait > Duration::from_secs(50), "{name}: the next due is the lease's end, {wait:?}");

        subject.store.settle(due_timer, Settle::Delivered { next_tick: None }).await.unwrap();
        assert_eq!(subject.store.pending().await.unwrap(), 0, "{name}: a delivered timer is gone");
    }
}

#[tokio::test]
async fn a_key_replaces_the_earlier_timer_and_a_committed_cancel_removes_it() {
    for subject in subjects().await {
        let name = subject.name;
        let later = Utc::now() + TimeDelta::hours(1);
        schedule(&subject, &[timer(Some("booking-1"), later, serde_json::json!({ "v": 1 }))], true).await;
        let replacement = timer(Some("booking-1"), Utc::now() - TimeDelta::seconds(1), serde_json::json!({ "v": 2 }));
        schedule(&subject, std::slice::from_ref(&replacement), true).await;
        assert_eq!(subject.store.pending().await.unwrap(), 1, "{name}: one timer per key");
        let claimed = subject.store.claim(10, Duration::from_millis(1)).await.unwrap();
        assert_eq!(claimed.len(), 1, "{name}");
        assert_eq!((claimed[0].id.as_str(), &claimed[0].data), (replacement.id.as_str(), &serde_json::json!({ "v": 2 })));
        assert_eq!(claimed[0].key.as_deref(), Some("booking-1"));

        assert!(cancel(&subject, "booking-1", false).await, "{name}: found inside the unit of work");
        assert_eq!(subject.store.pending().await.unwrap(), 1, "{name}: a rolled-back cancel keeps the timer");
        assert!(cancel(&subject, "booking-1", true).await, "{name}");
        assert_eq!(subject.store.pending().await.unwrap(), 0, "{name}");
        assert!(!cancel(&subject, "booking-1", true).await, "{name}: nothing left to cancel");
        // Settling a timer that was cancelled meanwhile does nothing.
        subject.store.settle(&claimed[0], Settle::Delivered { next_tick: None }).await.unwrap();
    }
}

#[tokio::test]
async fn a_failed_delivery_is_retried_later_and_the_last_is_kept_as_dead() {
    for subject in subjects().await {
        let name = subject.name;
        schedule(&subject, &[timer(None, Utc::now() - TimeDelta::seconds(1), serde_json::json!({}))], true).await;
        let first = subject.store.claim(10, LEASE).await.unwrap().remove(0);
        let at = Utc::now() + TimeDelta::seconds(30);
        let retry = Settle::Retry { at, error: "busy".into(), counted: true };
        subject.store.settle(&first, retry).await.unwrap();
        let wait = subject.store.next_due().await.unwrap().unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30), "{name}: {wait:?}");
        assert!(subject.store.claim(10, LEASE).await.unwrap().is_empty(), "{name}: not before its retry");

        let now = Settle::Retry { at: Utc::now() - TimeDelta::seconds(1), error: "again".into(), counted: true };
        subject.store.settle(&first, now).await.unwrap();
        let second = subject.store.claim(10, LEASE).await.unwrap().remove(0);
        assert_eq!(second.attempts, 2, "{name}: both failures counted");
        let uncounted = Settle::Retry { at: Utc::now() - TimeDelta::seconds(1), error: "overloaded".into(), counted: false };
        subject.store.settle(&second, uncounted).await.unwrap();
        let third = subject.store.claim(10, LEASE).await.unwrap().remove(0);
        assert_eq!(third.attempts, 2, "{name}: an overloaded attempt is not counted");

        subject.store.settle(&third, Settle::Dead { error: "gave up".into(), next_tick: None }).await.unwrap();
        assert_eq!(subject.store.pending().await.unwrap(), 0, "{name}");
        let dead = subject.store.dead(10).await.unwrap();
        assert_eq!(dead.len(), 1, "{name}");
        assert_eq!((dead[0].timer.id.as_str(), dead[0].timer.attempts, dead[0].error.as_str()), (third.id.as_str(), 3, "gave up"));
        assert_eq!(dead[0].timer.component, COMPONENT);
        assert_eq!(dead[0].timer.actor.as_deref(), Some("driver-1"), "{name}: the dead timer keeps its actor");
    }
}

#[tokio::test]
async fn a_schedule_keeps_one_row_that_moves_to_its_next_tick() {
    for subject in subjects().await {
        let name = subject.name;
        let missed = Utc::now() - TimeDelta::minutes(5);
        let row = ScheduleRow { schedule: "*/5 * * * * | UTC | alarm.tick.v1".into(), event_type: "alarm.tick.v1".into(), first_tick: missed };
        subject.store.keep_schedules(COMPONENT, std::slice::from_ref(&row)).await.unwrap();
        // Kept again at start-up, an overdue tick stays due: it fires once.
        let later = ScheduleRow { first_tick: Utc::now() + TimeDelta::minutes(5), ..row.clone() };
        subject.store.keep_schedules(COMPONENT, std::slice::from_ref(&later)).await.unwrap();
        let tick = subject.store.claim(10, LEASE).await.unwrap();
        assert_eq!(tick.len(), 1, "{name}");
        assert_eq!(tick[0].schedule.as_deref(), Some(row.schedule.as_str()), "{name}");
        assert_eq!(tick[0].due_at.timestamp(), missed.timestamp(), "{name}");

        let next = Utc::now() + TimeDelta::seconds(40);
        subject.store.settle(&tick[0], Settle::Delivered { next_tick: Some(next) }).await.unwrap();
        assert_eq!(subject.store.pending().await.unwrap(), 1, "{name}: the schedule's row stays");
        let wait = subject.store.next_due().await.unwrap().unwrap();
        assert!(wait > Duration::from_secs(35), "{name}: waits for the next tick, {wait:?}");
        subject.store.settle(&tick[0], Settle::Delivered { next_tick: None }).await.unwrap();
        assert_eq!(subject.store.pending().await.unwrap(), 1, "{name}: the old tick's id no longer names it");

        subject.store.keep_schedules(COMPONENT, &[]).await.unwrap();
        assert_eq!(subject.store.pending().await.unwrap(), 0, "{name}: a schedule the manifest dropped goes");
    }
}

#[tokio::test]
async fn replicas_claiming_at_once_share_the_due_timers_without_overlap() {
    let Some(app) = App::fresh("timers_shared", 4).await else { return };
    let database = app.open(COMPONENT).await;
    let due = Utc::now() - TimeDelta::seconds(1);
    let timers: Vec<NewTimer> = (0..300).map(|n| timer(None, due, serde_json::json!({ "n": n }))).collect();
    let mut transaction = database.begin(support::soon());
    for timer in &timers {
        transaction.schedule_timer(timer).await.unwrap();
    }
    transaction.commit().await.unwrap();
    let stores: Vec<Arc<dyn TimerStore>> =
        (0..3).map(|_| app.backend.timers(Arc::new(Notify::new()), &Background::default())).collect();
    let claims = futures::future::join_all(stores.iter().map(|store| async move {
        let mut ids = Vec::new();
        loop {
            let claimed = store.claim(25, LEASE).await.unwrap();
            if claimed.is_empty() {
                return ids;
            }
            ids.extend(claimed.into_iter().map(|t| t.id));
        }
    }))
    .await;
    let total: usize = claims.iter().map(Vec::len).sum();
    let distinct: BTreeSet<&String> = claims.iter().flatten().collect();
    assert_eq!((total, distinct.len()), (300, 300), "every timer claimed exactly once");
    assert!(claims.iter().filter(|ids| !ids.is_empty()).count() >= 2, "the replicas shared the work: {:?}", claims.iter().map(Vec::len).collect::<Vec<_>>());
}
