//! `[[trigger.schedule]]`: each schedule is one timer row, named by the schedule's identity,
//! that moves to its next tick each time it is delivered. Replicas share it as they share
//! every timer, so each tick fires once; a tick missed while no replica ran is still due
//! at start-up and fires once, and the row then moves to the first tick after now.

use chrono::{DateTime, Utc};
use joule_runtime::Runtime;
use joule_runtime::manifest::ScheduleTriggerConfig;
use joule_runtime::timers::{DueTimer, ScheduleRow};

/// Makes each component's schedule rows those the manifest lists.
pub(crate) async fn keep(runtime: &Runtime) -> anyhow::Result<()> {
    let manifest = runtime.manifest();
    let now = Utc::now();
    // Every component with a database: one whose schedules were all removed loses its rows.
    for id in manifest.components.keys() {
        let Some(component) = runtime.component(id) else { continue };
        if !component.has_database() {
            continue;
        }
        let rows: Vec<ScheduleRow> = manifest
            .schedule_triggers
            .iter()
            .filter(|trigger| trigger.component == *id)
            .filter_map(|trigger| {
                Some(ScheduleRow { schedule: trigger.identity(), event_type: trigger.event.clone(), first_tick: trigger.next_tick(now)? })
            })
            .collect();
        runtime
            .timers()
            .0
            .keep_schedules(id, &rows)
            .await
            .map_err(|e| e.context(format!("failed to keep the schedules of component {id:?}")))?;
    }
    Ok(())
}

/// The tick after a delivered one: the first after now, so ticks missed meanwhile collapse
/// into the one just delivered. `None` when the manifest no longer lists the schedule.
pub(crate) fn next_tick(runtime: &Runtime, timer: &DueTimer, schedule: &str) -> Option<DateTime<Utc>> {
    let trigger: &ScheduleTriggerConfig = runtime
        .manifest()
        .schedule_triggers
        .iter()
        .find(|trigger| trigger.component == timer.component && trigger.identity() == schedule)?;
    trigger.next_tick(Utc::now())
}
