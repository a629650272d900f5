//! A component cannot reach another component's data or the platform's, whatever SQL it
//! runs or key it names. Every attempt is an error for the guest, the host keeps running,
//! and nothing is touched.

use joule_tests::{Joule, State, client, read, real_backends};
use serde_json::{Value, json};

async fn guests(state: &State) -> Joule {
    Joule::with("tests/manifests/guests.toml").env("JOULE_VARIABLE_API_TOKEN", "t").state(state).ready().await
}

/// Escape attempts, each a sequence run in one invocation, for the backend in use.
fn attempts(state: &State) -> Vec<Vec<String>> {
    let lines = |attempts: &[&[&str]]| -> Vec<Vec<String>> {
        attempts.iter().map(|a| a.iter().map(|s| s.to_string()).collect()).collect()
    };
    if real_backends() {
        // The probe's schema is `<application>_<component>`; the platform's is `joule`.
        return lines(&[
            &["SELECT * FROM joule_tests_probe.items"],
            &["INSERT INTO joule_tests_probe.items VALUES ('forged')"],
            &["SET search_path = joule_tests_probe", "INSERT INTO items VALUES ('forged')"],
            &["SET ROLE postgres"],
            &["SET LOCAL ROLE postgres"],
            &["RESET ROLE", "DELETE FROM joule_tests_probe.items"],
            &["SET SESSION AUTHORIZATION postgres"],
            &["RESET SESSION AUTHORIZATION", "DELETE FROM joule_tests_probe.items"],
            &["SELECT * FROM joule.component_databases"],
            &["INSERT INTO joule.component_databases VALUES ('forged', 'x', 'y')"],
            &["DELETE FROM joule.component_databases"],
            &["DROP SCHEMA joule_tests_probe CASCADE"],
            &["ALTER ROLE CURRENT_USER SUPERUSER"],
            &["GRANT USAGE ON SCHEMA joule_tests_probe TO CURRENT_USER"],
            &["CREATE SCHEMA evil"],
        ]);
    }
    let databases = state.path().join("joule/databases");
    let probe = databases.join("probe.db").display().to_string();
    let platform = state.path().join("joule/platform.db").display().to_string();
    vec![
        vec![format!("ATTACH DATABASE '{probe}' AS victim"), "DELETE FROM victim.items".into()],
        vec![format!("ATTACH DATABASE '{platform}' AS platform"), "DELETE FROM platform.kv_entries".into()],
        vec![format!("VACUUM INTO '{}'", databases.join("stolen.db").display())],
        vec!["DELETE FROM items".into()],
    ]
}

async fn probe_items(joule: &Joule) -> Value {
    let (status, body) = read(client().get(joule.url("/probe/items")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    body["items"].clone()
}

#[tokio::test]
async fn sql_escapes_are_refused_and_touch_nothing() {
    let state = State::new();
    let joule = guests(&state).await;
    let http = client();
    assert_eq!(http.post(joule.url("/probe/items/crown-jewels")).send().await.unwrap().status(), 201);

    for attempt in attempts(&state) {
        let (status, body) = read(http.post(joule.url("/escape/sql")).json(&attempt).send().await.unwrap()).await;
        assert_eq!(status, 200, "{body}");
        let results = body["results"].as_array().unwrap();
        let last = results.last().unwrap();
        let error = last["error"].as_str().unwrap_or_else(|| panic!("{attempt:?} was not refused: {body}"));
        assert!(error.contains("AccessDenied") || error.contains("InvalidQuery"), "{attempt:?}: {error}");
    }

    assert_eq!(probe_items(&joule).await, json!(["crown-jewels"]), "the victim's rows are untouched");
    assert!(!state.path().join("joule/databases/stolen.db").exists());
    assert_eq!(http.get(joule.url("/hello")).send().await.unwrap().status(), 200, "the host still serves");
}

#[tokio::test]
async fn key_spaces_cannot_be_crossed() {
    let state = State::new();
    let joule = guests(&state).await;
    let http = client();
    assert_eq!(http.put(joule.url("/probe/kv/secret")).body("probe's").send().await.unwrap().status(), 204);

    for key in ["secret", "joule-tests:probe:secret", "probe:secret", "..%2Fprobe%2Fsecret", "*"] {
        let response = http.get(joule.url(&format!("/escape/kv/{key}"))).send().await.unwrap();
        assert_eq!(response.status(), 404, "{key} reached another component's key");
    }
    assert_eq!(http.put(joule.url("/escape/kv/secret")).body("escape's").send().await.unwrap().status(), 204);
    let value = http.get(joule.url("/probe/kv/secret")).send().await.unwrap().text().await.unwrap();
    assert_eq!(value, "probe's", "the same name in another space is another key");
    let value = http.get(joule.url("/escape/kv/secret")).send().await.unwrap().text().await.unwrap();
    assert_eq!(value, "escape's");
}

/// Application `joule_tests` maps its component `probe` to the schema of `joule-tests`'s
/// `probe`, `joule_tests_probe`: sharing it would hand over that component's rows.
fn clashing_manifest(dir: &std::path::Path) -> std::path::PathBuf {
    let guests = joule_tests::repo_root().join("tests/guests");
    let probe = guests.join("target/wasm32-wasip2/release/probe.wasm");
    let migrations = guests.join("probe/migrations");
    let text = format!(
        "spin_manifest_version = 2\n[application]\nname = \"joule_tests\"\n\
         [[trigger.http]]\nroute = \"/probe/...\"\ncomponent = \"probe\"\nauth = \"public\"\n\
         [component.probe]\nsource = {probe:?}\ndatabase = {{ migrations = {migrations:?} }}\n\
         key_value_stores = [\"default\"]\nvariables = {{ greeting = \"hi\", token = \"t\" }}\n"
    );
    let path = dir.join("spin.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn an_application_whose_schema_names_clash_with_another_is_refused_at_startup() {
    if !real_backends() {
        return;
    }
    let state = State::new();
    let joule = guests(&state).await;
    let http = client();
    assert_eq!(http.post(joule.url("/probe/items/crown-jewels")).send().await.unwrap().status(), 201);

    let dir = tempfile::tempdir().unwrap();
    let manifest = clashing_manifest(dir.path());
    let replica = state.replica();
    let (status, stderr) = Joule::with(manifest.to_str().unwrap()).state(&replica).fails();
    assert!(!status.success());
    for name in ["schema \"joule_tests_probe\"", "application \"joule-tests\"", "application \"joule_tests\""] {
        assert!(stderr.contains(name), "{name} missing: {stderr}");
    }

    assert_eq!(probe_items(&joule).await, json!(["crown-jewels"]), "the first application's rows are untouched");
    assert_eq!(http.post(joule.url("/probe/items/more")).send().await.unwrap().status(), 201, "and it still writes");
}
