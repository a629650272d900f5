//! `joule migrate`: prepares the backends and registers the components, then exits; run
//! again it changes nothing, and a host started afterwards finds everything in place.

use std::process::Command;

use joule_tests::{Joule, State, build_guests, joule_binary, repo_root};

fn migrate(state: &State) -> std::process::Output {
    Command::new(joule_binary())
        .arg("migrate")
        .arg("-f")
        .arg(repo_root().join("tests/manifests/guests.toml"))
        .arg("--state-dir")
        .arg(state.path().join("joule"))
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("AMQP_URL")
        .envs(state.env())
        .env("JOULE_VARIABLE_API_TOKEN", "s3cret")
        .output()
        .expect("run joule migrate")
}

#[tokio::test]
async fn migrate_prepares_everything_once_and_exits() {
    build_guests();
    let state = State::new();
    for run in ["first", "second"] {
        let output = migrate(&state);
        assert!(output.status.success(), "{run} run: {}", String::from_utf8_lossy(&output.stderr));
    }
    let joule = Joule::with("tests/manifests/guests.toml").env("JOULE_VARIABLE_API_TOKEN", "s3cret").state(&state).ready().await;
    let (status, versions) = joule.admin_get("/admin/v1/components/swap/versions").await;
    assert_eq!(status, 200);
    let versions = versions["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1, "migrating twice and starting registered the source once: {versions:?}");
    assert_eq!((versions[0]["version"].as_u64(), versions[0]["deployedBy"].as_str()), (Some(1), Some("manifest")));
}
