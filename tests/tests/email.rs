//! The `email` capability against a real SMTP server (aiosmtpd, `tests/smtp/server.py`):
//! what arrives, what the guest hears when a message is malformed or the server refuses,
//! the mail drop with no `SMTP_URL`, and the grant that the import needs.

use joule_tests::admin::sample;
use joule_tests::smtp_server::SmtpServer;
use joule_tests::{Joule, State, build_guests, client, eventually, repo_root, send_json};
use serde_json::{Value, json};

const MANIFEST: &str = "tests/manifests/email.toml";
/// The sender `tests/manifests/email.toml` grants.
const SENDER: &str = "Joule <noreply@joule.example>";

async fn send(joule: &Joule, message: &Value) -> (u16, Value) {
    send_json(client().post(joule.url("/send")), message).await
}

async fn received(server: &SmtpServer, count: usize) -> Vec<Value> {
    eventually(&format!("{count} messages at the SMTP server"), || async { server.received().len() >= count }).await;
    server.received()
}

#[tokio::test]
async fn a_message_arrives_from_the_granted_sender() {
    let server = SmtpServer::start().await;
    let joule = Joule::with(MANIFEST).env("SMTP_URL", &server.url()).ready().await;
    let message = json!({
        "to": ["Ana Lima <ana@example.com>", "ops@example.org"],
        "subject": "Your charging receipt ⚡",
        "text": "You charged 12.4 kWh.\nTotal: 4.96 EUR.\n",
    });
    let (status, body) = send(&joule, &message).await;
    assert_eq!(status, 200, "{body}");

    let mail = &received(&server, 1).await[0];
    assert_eq!(mail["mail_from"], "noreply@joule.example", "{mail}");
    assert_eq!(mail["rcpt_tos"], json!(["ana@example.com", "ops@example.org"]), "{mail}");
    assert_eq!(mail["from"], SENDER, "{mail}");
    assert_eq!(mail["to"], "Ana Lima <ana@example.com>, ops@example.org", "{mail}");
    assert_eq!(mail["subject"], "Your charging receipt ⚡", "{mail}");
    // SMTP's framing ends the data with a line break of its own.
    assert_eq!(mail["text"].as_str().map(str::trim_end), Some("You charged 12.4 kWh.\nTotal: 4.96 EUR."), "{mail}");
    assert!(mail["message_id"].as_str().is_some_and(|id| id.ends_with("@joule.example>")), "{mail}");
    assert!(mail["date"].is_string(), "{mail}");

    // A second message goes through the same pooled connection.
    let (status, body) = send(&joule, &json!({ "to": ["ana@example.com"], "subject": "Again", "text": "2" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(received(&server, 2).await[1]["subject"], "Again");
    let metrics = joule.metrics().await;
    assert_eq!(sample(&metrics, r#"joule_emails_sent_total{component="mailer",outcome="sent"}"#), 2.0, "{metrics}");
}

#[tokio::test]
async fn a_malformed_message_is_invalid_and_nothing_is_sent() {
    let server = SmtpServer::start().await;
    let joule = Joule::with(MANIFEST).env("SMTP_URL", &server.url()).ready().await;
    let too_many: Vec<String> = (0..51).map(|i| format!("r{i}@example.com")).collect();
    for (message, reason) in [
        (json!({ "to": ["ana@example.com", "not an address"], "subject": "s", "text": "t" }), "to[1]"),
        (json!({ "to": [], "subject": "s", "text": "t" }), "1 to 50"),
        (json!({ "to": too_many, "subject": "s", "text": "t" }), "51"),
        (json!({ "to": ["ana@example.com"], "subject": "Hi\r\nBcc: eve@example.com", "text": "t" }), "line break"),
        (json!({ "to": ["ana@example.com"], "subject": "s", "textBytes": (1 << 20) + 1 }), "bytes"),
    ] {
        let (status, body) = send(&joule, &message).await;
        assert_eq!((status, body["error"].as_str()), (422, Some("invalid")), "{body}");
        assert!(body["reason"].as_str().is_some_and(|r| r.contains(reason)), "expected {reason:?} in {body}");
    }
    // Sent after the refused ones, so once it is in, nothing before it is on its way.
    let (status, _) = send(&joule, &json!({ "to": ["ana@example.com"], "subject": "good", "text": "t" })).await;
    assert_eq!(status, 200);
    let all = received(&server, 1).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["subject"], "good");
    assert!(server.reports().iter().all(|r| r["event"] == "received"), "{:?}", server.reports());
}

#[tokio::test]
async fn a_server_that_refuses_for_now_is_unavailable_and_one_that_refuses_for_good_rejects() {
    let server = SmtpServer::refusing_first(1).await;
    let joule = Joule::with(MANIFEST).env("SMTP_URL", &server.url()).ready().await;
    let message = json!({ "to": ["ana@example.com"], "subject": "Receipt", "text": "t" });
    let (status, body) = send(&joule, &message).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("unavailable")), "{body}");
    assert!(body["reason"].as_str().is_some_and(|r| r.contains("451")), "{body}");
    assert_eq!(server.reports()[0]["event"], "refused");

    let (status, body) = send(&joule, &message).await;
    assert_eq!(status, 200, "a retry passes: {body}");
    assert_eq!(received(&server, 1).await[0]["subject"], "Receipt");

    let (status, body) = send(&joule, &json!({ "to": ["bounce@example.com"], "subject": "s", "text": "t" })).await;
    assert_eq!((status, body["error"].as_str()), (502, Some("rejected")), "{body}");
    assert!(body["reason"].as_str().is_some_and(|r| r.contains("550")), "{body}");
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let joule = Joule::with(MANIFEST).env("SMTP_URL", &format!("smtp://127.0.0.1:{port}")).ready().await;
    let (status, body) = send(&joule, &json!({ "to": ["ana@example.com"], "subject": "s", "text": "t" })).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("unavailable")), "{body}");
}

#[tokio::test]
async fn without_smtp_url_mail_lands_in_the_state_directory() {
    let state = State::new();
    let joule = Joule::with(MANIFEST).state(&state).ready().await;
    let (status, body) = send(&joule, &json!({ "to": ["Ana <ana@example.com>"], "subject": "Receipt", "text": "Thanks." })).await;
    assert_eq!(status, 200, "{body}");

    let drop = state.path().join("joule/mail");
    let files: Vec<_> = std::fs::read_dir(&drop)
        .unwrap_or_else(|e| panic!("{}: {e}", drop.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains(&format!("From: {SENDER}\r\n")), "{eml}");
    assert!(eml.contains("To: Ana <ana@example.com>\r\n"), "{eml}");
    assert!(eml.contains("Subject: Receipt\r\n"), "{eml}");
    assert!(eml.ends_with("\r\n\r\nThanks."), "{eml}");
    assert!(joule.logs().contains("mail drop"), "one line says where it went");
}

fn write_manifest(dir: &std::path::Path, component_lines: &str) -> std::path::PathBuf {
    let mailer = repo_root().join("tests/guests/target/wasm32-wasip2/release/mailer.wasm");
    let path = dir.join("spin.toml");
    let text = format!(
        "spin_manifest_version = 2\n[application]\nname = \"mail\"\n\
         [[trigger.http]]\nroute = \"/send\"\ncomponent = \"mailer\"\nauth = \"public\"\n\
         [component.mailer]\nsource = {mailer:?}\n{component_lines}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn importing_email_without_the_grant_is_refused_at_load() {
    build_guests();
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), "");
    let (status, stderr) = Joule::with(manifest.to_str().unwrap()).fails();
    assert!(!status.success());
    assert!(stderr.contains("component \"mailer\""), "{stderr}");
    assert!(stderr.contains("email capability") && stderr.contains("joule:platform/email@0.1.0"), "{stderr}");
    assert!(stderr.contains("smtp = {"), "the error says how to grant it: {stderr}");
}

#[tokio::test]
async fn a_bad_sender_or_smtp_url_stops_startup_naming_it() {
    build_guests();
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), "smtp = { from = \"noreply\" }");
    let (status, stderr) = Joule::with(manifest.to_str().unwrap()).fails();
    assert!(!status.success());
    assert!(stderr.contains("component \"mailer\"") && stderr.contains("key \"smtp.from\""), "{stderr}");

    let (status, stderr) = Joule::with(MANIFEST).env("SMTP_URL", "mail.example.com:25").fails();
    assert!(!status.success());
    assert!(stderr.contains("SMTP_URL"), "{stderr}");
}
