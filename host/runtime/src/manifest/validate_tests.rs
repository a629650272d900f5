use std::path::Path;
use std::time::Duration;

use super::*;

const VALID: &str = r#"
spin_manifest_version = 2

[application]
name = "ev-platform"

[variables]
page_size = { default = "20" }
api_key = { required = true, secret = true }

[[trigger.http]]
route = "/api/v1/stations/..."
component = "stations"

[[trigger.http]]
route = { private = true }
component = "stations"

[component.stations]
source = "target/stations.wasm"
key_value_stores = ["default"]
allowed_outbound_hosts = ["https://hooks.example.com"]
variables = { default_limit = "{{ page_size }}" }
build = { command = "cargo build", workdir = "components" }
database = { migrations = "components/stations/migrations" }
events = { publish = ["station.created.v1", "station.status-changed.v1"] }
limits = { memory = "64MiB", timeout = "2s", max_concurrency = 10 }
"#;

fn parse(text: &str) -> Result<Manifest, ManifestError> {
    Manifest::parse(Path::new("app/spin.toml"), text)
}

fn with_component_line(line: &str) -> String {
    VALID.replace("[component.stations]\n", &format!("[component.stations]\n{line}\n"))
}

#[test]
fn reads_spin_fields_and_joule_extensions() {
    let manifest = parse(VALID).unwrap();
    assert_eq!(manifest.application.name, "ev-platform");
    assert_eq!(manifest.application.http_base, "/");
    let stations = manifest.component("stations").unwrap();
    assert_eq!(stations.source, Path::new("app/target/stations.wasm"));
    assert!(stations.grants.key_value);
    assert!(stations.grants.variables);
    assert_eq!(
        stations.grants.database.as_ref().unwrap().migrations.as_deref(),
        Some(Path::new("app/components/stations/migrations"))
    );
    assert!(stations.grants.events_publish.contains("station.status-changed.v1"));
    assert_eq!(stations.limits.memory_bytes, 64 << 20);
    assert_eq!(stations.limits.timeout, Duration::from_secs(2));
    assert_eq!(stations.limits.max_concurrency, Some(10));
    assert_eq!(stations.build.as_ref().unwrap().workdir, Path::new("app/components"));
    assert_eq!(manifest.http_triggers.len(), 2);
    assert_eq!(manifest.http_triggers[0].route.as_deref(), Some("/api/v1/stations/..."));
    assert_eq!(manifest.http_triggers[1].route, None);
}

#[test]
fn defaults_apply_when_nothing_is_granted() {
    let manifest = parse(
        "spin_manifest_version = 2\n[application]\nname = \"a\"\n[component.hello]\nsource = \"h.wasm\"\n",
    )
    .unwrap();
    let hello = manifest.component("hello").unwrap();
    assert!(hello.grants.database.is_none());
    assert!(!hello.grants.key_value);
    assert!(hello.grants.events_publish.is_empty());
    assert_eq!(hello.limits, Limits::default());
}

#[test]
fn an_unknown_key_names_file_component_and_key() {
    let error = parse(&with_component_line("sourcee = \"x\"")).unwrap_err();
    assert_eq!(error.file, Path::new("app/spin.toml"));
    assert_eq!(error.component.as_deref(), Some("stations"));
    assert!(error.message.contains("sourcee"), "{error}");
    assert!(error.line.is_some(), "{error}");
}

#[test]
fn a_bad_nested_value_names_its_key() {
    let error = parse(&VALID.replace("memory = \"64MiB\"", "memory = 64")).unwrap_err();
    assert_eq!(error.component.as_deref(), Some("stations"));
    assert_eq!(error.key.as_deref(), Some("limits.memory"));
    let error = parse(&VALID.replace("\"64MiB\"", "\"lots\"")).unwrap_err();
    assert_eq!(error.key.as_deref(), Some("limits.memory"));
    assert!(error.to_string().contains("\"lots\""), "{error}");
    let error = parse(&VALID.replace("\"2s\"", "\"soon\"")).unwrap_err();
    assert_eq!(error.key.as_deref(), Some("limits.timeout"));
}

#[test]
fn refuses_what_joule_does_not_support() {
    let cases = [
        (VALID.replace("[\"default\"]", "[\"cache\"]"), "key_value_stores[0]"),
        (VALID.replace("station.created.v1", "station.*"), "events.publish[0]"),
        (VALID.replace("https://hooks.example.com", "ftp://x"), "allowed_outbound_hosts[0]"),
        (
            VALID.replace("source = \"target/stations.wasm\"", "source = { url = \"https://x\", digest = \"d\" }"),
            "source",
        ),
        (VALID.replace("{{ page_size }}", "{{ nope }}"), "variables.default_limit"),
        (VALID.replace("max_concurrency = 10", "max_concurrency = 0"), "limits.max_concurrency"),
    ];
    for (text, key) in cases {
        let error = parse(&text).unwrap_err();
        assert_eq!(error.component.as_deref(), Some("stations"), "{error}");
        assert_eq!(error.key.as_deref(), Some(key), "{error}");
    }
}

#[test]
fn trigger_errors_name_the_entry() {
    let error = parse(&VALID.replacen("component = \"stations\"", "component = \"ghost\"", 1)).unwrap_err();
    assert_eq!(error.key.as_deref(), Some("trigger.http[0].component"));
    assert!(error.message.contains("ghost"));
}

#[test]
fn a_route_policy_defaults_to_required_and_names_the_key_it_refuses() {
    let manifest = parse(VALID).unwrap();
    assert_eq!(manifest.http_triggers[0].policy, joule_identity::RoutePolicy::default());
    let with = |lines: &str| VALID.replacen("component = \"stations\"\n", &format!("component = \"stations\"\n{lines}\n"), 1);
    let manifest = parse(&with("roles = [\"operator\"]")).unwrap();
    assert_eq!(manifest.http_triggers[0].policy.roles, ["operator"]);
    assert_eq!(parse(&with("auth = \"public\"")).unwrap().http_triggers[0].policy.auth, joule_identity::Auth::Public);
    let limited = parse(&with("rate_limit = { per_second = 2.5 }")).unwrap();
    let limit = limited.http_triggers[0].rate_limit.unwrap();
    assert_eq!((limit.per_second, limit.burst, limit.key), (2.5, 3, RateLimitKey::Subject), "a second's worth of burst");
    let cases = [
        ("auth = \"sometimes\"", "trigger.http[0].auth"),
        ("roles = [\"\"]", "trigger.http[0].roles[0]"),
        ("auth = \"optional\"\nroles = [\"operator\"]", "trigger.http[0].roles"),
        ("rate_limit = { per_second = 0 }", "trigger.http[0].rate_limit.per_second"),
        ("rate_limit = { per_second = 5, burst = 0 }", "trigger.http[0].rate_limit.burst"),
        ("rate_limit = { per_second = 5, key = \"cookie\" }", "trigger.http[0].rate_limit.key"),
        ("auth = \"public\"\nrate_limit = { per_second = 5 }", "trigger.http[0].rate_limit.key"),
    ];
    for (lines, key) in cases {
        let error = parse(&with(lines)).unwrap_err();
        assert_eq!(error.key.as_deref(), Some(key), "{error}");
    }
}

#[test]
fn manifest_level_errors() {
    let error = parse(&VALID.replace("spin_manifest_version = 2", "spin_manifest_version = 1")).unwrap_err();
    assert_eq!(error.key.as_deref(), Some("spin_manifest_version"));
    let error = parse("spin_manifest_version = 2\n[application\n").unwrap_err();
    assert_eq!(error.line, Some(2));
    let error = parse(&VALID.replace("[[trigger.http]]", "[[trigger.redis]]")).unwrap_err();
    assert!(error.message.contains("redis"), "{error}");
    let error = parse(&VALID.replace("required = true, secret", "default = \"x\", required = true, secret"))
        .unwrap_err();
    assert_eq!(error.key.as_deref(), Some("variables.api_key"));
}

#[test]
fn component_ids_must_be_usable_as_schema_and_key_names() {
    let error = parse(&VALID.replace("[component.stations]", "[component.Stations_X]")).unwrap_err();
    assert_eq!(error.component.as_deref(), Some("Stations_X"));
}

#[test]
fn queue_triggers() {
    let text = VALID.replace(
        "[component.stations]\n",
        "[[trigger.amqp]]\ncomponent = \"stations\"\nevents = [\"station.*\", \"charging.#\"]\nmax_attempts = 3\nbackoff = \"100ms\"\n\n[component.stations]\n",
    );
    let manifest = parse(&text).unwrap();
    let trigger = &manifest.amqp_triggers[0];
    assert_eq!(trigger.events, ["station.*", "charging.#"]);
    assert_eq!(trigger.prefetch, AmqpTriggerConfig::DEFAULT_PREFETCH);
    assert_eq!(trigger.retry.retry_delay(1), Duration::from_millis(100));
    assert_eq!(trigger.retry.retry_delay(3), Duration::from_millis(400));

    for (bad, key) in [
        ("events = [\"station.*\", \"charging.#\"]", "trigger.amqp[0].events"),
        ("\"charging.#\"", "trigger.amqp[0].events[1]"),
        ("max_attempts = 3", "trigger.amqp[0].max_attempts"),
        ("backoff = \"100ms\"", "trigger.amqp[0].backoff"),
    ] {
        let replacement = match key {
            "trigger.amqp[0].events" => "events = []",
            "trigger.amqp[0].events[1]" => "\"charging..x\"",
            "trigger.amqp[0].max_attempts" => "max_attempts = 0",
            _ => "backoff = \"soon\"",
        };
        let error = parse(&text.replace(bad, replacement)).unwrap_err();
        assert_eq!(error.key.as_deref(), Some(key), "{error}");
    }
    let twice = text.replace("[component.stations]\n", "[[trigger.amqp]]\ncomponent = \"stations\"\nevents = [\"x.y\"]\n[component.stations]\n");
    let error = parse(&twice).unwrap_err();
    assert_eq!(error.key.as_deref(), Some("trigger.amqp[1].component"), "{error}");
}

#[test]
fn timers_grants_declare_the_event_types_their_timers_deliver() {
    let manifest = parse(&with_component_line(
        "timers = { events = [\"booking.no-show-check.v1\"], max_attempts = 2, backoff = \"50ms\" }",
    ))
    .unwrap();
    let grant = manifest.components["stations"].grants.timers.as_ref().unwrap();
    assert_eq!(grant.events.iter().collect::<Vec<_>>(), ["booking.no-show-check.v1"]);
    assert_eq!((grant.retry.max_attempts, grant.retry.retry_delay(2)), (2, Duration::from_millis(100)));
    assert_eq!(parse(VALID).unwrap().components["stations"].grants.timers, None);

    for (line, key) in [
        ("timers = {}", "timers.events"),
        ("timers = { events = [\"booking.*\"] }", "timers.events[0]"),
        ("timers = { events = [\"a.b\"], backoff = \"soon\" }", "timers.backoff"),
        ("timers = { events = [\"a.b\"], max_attempts = 0 }", "timers.max_attempts"),
        ("timers = { events = [\"a.b\"], every = \"1s\" }", "timers.every"),
    ] {
        let error = parse(&with_component_line(line)).unwrap_err();
        assert_eq!((error.component.as_deref(), error.key.as_deref()), (Some("stations"), Some(key)), "{line}: {error}");
    }
}

#[test]
fn schedule_triggers_take_five_fields_or_six_with_seconds_and_an_iana_time_zone() {
    let schedule = |fields: &str| {
        VALID.replace(
            "[component.stations]\n",
            &format!("[[trigger.schedule]]\ncomponent = \"stations\"\n{fields}\n\n[component.stations]\n"),
        )
    };
    let manifest = parse(&schedule("cron = \"30 2 * * *\"\ntime_zone = \"Europe/Oslo\"\nevent = \"report.rollup.v1\"")).unwrap();
    let trigger = &manifest.schedule_triggers[0];
    assert_eq!((trigger.component.as_str(), trigger.event.as_str()), ("stations", "report.rollup.v1"));
    // 02:30 in Oslo is 01:30 UTC in winter.
    let after = chrono::DateTime::parse_from_rfc3339("2026-12-03T12:00:00Z").unwrap().to_utc();
    assert_eq!(trigger.next_tick(after).unwrap().to_rfc3339(), "2026-12-04T01:30:00+00:00");
    let every_two_seconds = parse(&schedule("cron = \"*/2 * * * * *\"\nevent = \"test.tick.v1\"")).unwrap();
    let trigger = &every_two_seconds.schedule_triggers[0];
    assert_eq!(trigger.time_zone, chrono_tz::UTC);
    assert_eq!(trigger.next_tick(after).unwrap().to_rfc3339(), "2026-12-03T12:00:02+00:00");
    assert_ne!(trigger.identity(), manifest.schedule_triggers[0].identity());

    for (fields, key) in [
        ("cron = \"every minute\"\nevent = \"a.b\"", "trigger.schedule[0].cron"),
        ("cron = \"* * * * *\"\ntime_zone = \"Mars/Olympus\"\nevent = \"a.b\"", "trigger.schedule[0].time_zone"),
        ("cron = \"* * * * *\"\nevent = \"a.*\"", "trigger.schedule[0].event"),
        ("cron = \"0 0 30 2 *\"\nevent = \"a.b\"", "trigger.schedule[0].cron"),
    ] {
        let error = parse(&schedule(fields)).unwrap_err();
        assert_eq!(error.key.as_deref(), Some(key), "{fields}: {error}");
    }
    let error = parse(&schedule("cron = \"* * * * *\"\nevent = \"a.b\"").replace("component = \"stations\"\ncron", "component = \"nobody\"\ncron"))
        .unwrap_err();
    assert_eq!(error.key.as_deref(), Some("trigger.schedule[0].component"), "{error}");
}

#[test]
fn smtp_grants_name_a_sender_mailbox() {
    let manifest = parse(&with_component_line("smtp = { from = \"Joule <noreply@joule.example>\" }")).unwrap();
    let grant = manifest.components["stations"].grants.smtp.as_ref().unwrap();
    assert_eq!(grant.from.email.to_string(), "noreply@joule.example");
    assert_eq!(grant.from.name.as_deref(), Some("Joule"));
    assert_eq!(parse(VALID).unwrap().components["stations"].grants.smtp, None);

    for (line, key) in [
        ("smtp = { from = \"not an address\" }", "smtp.from"),
        ("smtp = { from = \"Joule <noreply>\" }", "smtp.from"),
        ("smtp = {}", "smtp"),
        ("smtp = { from = \"a@b.example\", reply_to = \"c@d.example\" }", "smtp.reply_to"),
    ] {
        let error = parse(&with_component_line(line)).unwrap_err();
        assert_eq!((error.component.as_deref(), error.key.as_deref()), (Some("stations"), Some(key)), "{line}: {error}");
    }
    let error = parse(&with_component_line("smtp = { from = \"nobody\" }")).unwrap_err();
    assert!(error.to_string().contains("\"nobody\"") && error.to_string().contains("mailbox"), "{error}");
}
