//! A host that cannot serve correctly refuses to start, saying why.

use joule_tests::{Joule, State, build_guests, build_platform, repo_root};

fn write_manifest(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("spin.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn an_ungranted_import_is_refused_naming_component_and_capability() {
    build_guests();
    let (status, stderr) = Joule::with("tests/manifests/ungranted.toml").fails();
    assert!(!status.success());
    assert!(stderr.contains("component \"ungranted\""), "{stderr}");
    assert!(stderr.contains("key-value capability"), "{stderr}");
    assert!(stderr.contains("joule:platform/kv@0.1.0"), "{stderr}");
    assert!(stderr.contains("key_value_stores"), "the error says how to grant it: {stderr}");
}

#[tokio::test]
async fn a_manifest_error_names_file_component_and_key() {
    build_guests();
    let dir = tempfile::tempdir().unwrap();
    let hello = repo_root().join("tests/guests/target/wasm32-wasip2/release/hello.wasm");
    let manifest = write_manifest(
        dir.path(),
        &format!(
            "spin_manifest_version = 2\n[application]\nname = \"bad\"\n\
             [[trigger.http]]\nroute = \"/\"\ncomponent = \"hello\"\n\
             [component.hello]\nsource = {hello:?}\nlimits = {{ timeout = \"forever\" }}\n"
        ),
    );
    let (status, stderr) = Joule::with(manifest.to_str().unwrap()).fails();
    assert!(!status.success());
    assert!(stderr.contains(&manifest.display().to_string()), "names the file: {stderr}");
    assert!(stderr.contains("component \"hello\""), "{stderr}");
    assert!(stderr.contains("key \"limits.timeout\""), "{stderr}");
    assert!(stderr.contains("\"forever\""), "{stderr}");
}

#[tokio::test]
async fn other_startup_failures_say_what_failed() {
    build_guests();
    let dir = tempfile::tempdir().unwrap();
    let hello = repo_root().join("tests/guests/target/wasm32-wasip2/release/hello.wasm");
    let header = "spin_manifest_version = 2\n[application]\nname = \"bad\"\n";
    let cases = [
        (
            format!("{header}[[trigger.http]]\nroute = \"/\"\ncomponent = \"ghost\"\n[component.hello]\nsource = {hello:?}\n"),
            vec!["trigger.http[0].component", "ghost"],
        ),
        (
            format!("{header}[[trigger.http]]\nroute = \"/\"\ncomponent = \"missing\"\n[component.missing]\nsource = \"nowhere.wasm\"\n"),
            vec!["component \"missing\"", "nowhere.wasm"],
        ),
        (
            format!("{header}[component.hello]\nsource = {hello:?}\nunknown_key = 1\n"),
            vec!["component \"hello\"", "unknown_key"],
        ),
        (format!("{header}[component.hello\n"), vec!["spin.toml:4"]),
    ];
    for (text, expected) in cases {
        let manifest = write_manifest(dir.path(), &text);
        let (status, stderr) = Joule::with(manifest.to_str().unwrap()).fails();
        assert!(!status.success(), "{text}");
        for part in expected {
            assert!(stderr.contains(part), "expected {part:?} in: {stderr}");
        }
    }
}

#[tokio::test]
async fn a_component_that_does_not_serve_http_cannot_take_a_route() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_component = dir.path().join("core.wasm");
    std::fs::write(&not_a_component, b"\0asm\x01\0\0\0").unwrap();
    let manifest = write_manifest(
        dir.path(),
        &format!(
            "spin_manifest_version = 2\n[application]\nname = \"bad\"\n[[trigger.http]]\nroute = \"/\"\n\
             component = \"core\"\n[component.core]\nsource = {not_a_component:?}\n"
        ),
    );
    let (status, stderr) = Joule::with(manifest.to_str().unwrap()).fails();
    assert!(!status.success());
    assert!(stderr.contains("component \"core\""), "{stderr}");
    assert!(stderr.contains("not a component"), "{stderr}");
}

#[tokio::test]
async fn two_hosts_cannot_share_one_state_directory() {
    let state = State::new();
    let _first = Joule::with("spin.toml").state(&state).ready().await;
    let (status, stderr) = Joule::with("spin.toml").state(&state).fails();
    assert!(!status.success());
    assert!(stderr.contains("is in use by joule process"), "names the process holding it: {stderr}");
}

#[tokio::test]
async fn a_pricing_rule_with_capabilities_is_refused() {
    build_platform();
    let dir = tempfile::tempdir().unwrap();
    let rule = repo_root().join("components/target/wasm32-wasip2/release/ocpi_rule.wasm");
    // Named by no caller, so only its export tells that it is a rule.
    let manifest = write_manifest(
        dir.path(),
        &format!(
            "spin_manifest_version = 2\n[application]\nname = \"impure\"\n\
             [component.ocpi]\nsource = {rule:?}\nkey_value_stores = [\"default\"]\n"
        ),
    );
    let (status, stderr) = Joule::with(manifest.to_str().unwrap()).fails();
    assert!(!status.success());
    assert!(stderr.contains("\"ocpi\""), "names the component: {stderr}");
    assert!(stderr.contains("joule:platform/rule@0.1") && stderr.contains("pure"), "{stderr}");
    assert!(stderr.contains("key-value"), "names the capability: {stderr}");
}

#[tokio::test]
async fn a_host_restarted_right_after_kill_9_takes_over_its_state_directory() {
    let state = State::new();
    let guests = || Joule::with("tests/manifests/guests.toml").env("JOULE_VARIABLE_API_TOKEN", "s3cret").state(&state);
    let first = guests().ready().await;
    // SIGKILL, and no wait: the dying process may still hold the lock when the next starts.
    first.signal("KILL");
    let second = guests().ready().await;
    let response = joule_tests::client().get(second.url("/hello")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}
