//! Who may call what: bearer tokens verified against a real OpenID Connect provider and
//! against the development issuer, and the route policies of the manifest.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use joule_tests::oidc::OidcProvider;
use joule_tests::{Joule, State, build_guests, client, read, real_backends, repo_root};

const MANIFEST: &str = "tests/manifests/identity.toml";
const AUDIENCE: &str = "joule-api";

async fn get(joule: &Joule, path: &str, token: Option<&str>) -> (u16, serde_json::Value, Option<String>) {
    let mut request = client().get(joule.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_string());
    let (status, body) = read(response).await;
    (status, body, challenge)
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The token with its header or payload replaced, the signature kept.
fn with_part(token: &str, index: usize, part: &serde_json::Value) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[index] = URL_SAFE_NO_PAD.encode(part.to_string());
    parts.join(".")
}

fn part(token: &str, index: usize) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(index).unwrap()).unwrap()).unwrap()
}

/// A provider, and a host that trusts it.
async fn trusting_a_provider() -> (OidcProvider, Joule) {
    let provider = OidcProvider::start().await;
    let joule = Joule::with(MANIFEST)
        .env("JOULE_OIDC_ISSUER", &provider.issuer)
        .env("JOULE_OIDC_AUDIENCE", AUDIENCE)
        .ready()
        .await;
    (provider, joule)
}

#[tokio::test]
async fn route_policies_admit_development_issuer_tokens_by_role() {
    let joule = Joule::with(MANIFEST).ready().await;
    let driver = joule.token("driver-1", &["driver"]);
    let operator = joule.token("op-1", &["operator"]);

    let (status, body, challenge) = get(&joule, "/private/x", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")), "{body}");
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="joule""#));
    let (status, body, challenge) = get(&joule, "/private/x", Some("not-a-jwt")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("invalid_token")), "{body}");
    assert!(challenge.unwrap().contains(r#"error="invalid_token""#));
    assert_eq!(get(&joule, "/private/x", Some(&driver)).await.0, 200);

    let (status, body, challenge) = get(&joule, "/operators/x", Some(&driver)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("operator, admin"), "{body}");
    assert!(challenge.unwrap().contains("insufficient_scope"));
    assert_eq!(get(&joule, "/operators/x", Some(&operator)).await.0, 200);

    assert_eq!(get(&joule, "/maybe/x", None).await.0, 200, "optional: anonymous is let through");
    assert_eq!(get(&joule, "/maybe/x", Some("not-a-jwt")).await.0, 401, "optional: a bad token is still refused");
    assert_eq!(get(&joule, "/open/x", Some("not-a-jwt")).await.0, 200, "public: no token is looked at");

    // The issuer's public key, for other services that verify its tokens.
    let (status, jwks, _) = get(&joule, "/.well-known/jwks.json", None).await;
    assert_eq!((status, jwks["keys"][0]["kty"].as_str()), (200, Some("OKP")), "{jwks}");
    assert_eq!(part(&driver, 0)["kid"], jwks["keys"][0]["kid"]);
    // The component learns who called, and can require a role of its own.
    let (status, seen, _) = get(&joule, "/whoami/x", Some(&operator)).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!((seen["caller"]["subject"].as_str(), seen["caller"]["issuer"].as_str()), (Some("op-1"), Some("joule-dev")));
    assert_eq!(seen["caller"]["roles"], serde_json::json!(["operator"]));
    assert_eq!(seen["caller"]["claims"]["sub"], "op-1", "{seen}");
    assert_eq!(seen["actor"], "op-1", "a request acts on behalf of its caller");
    assert_eq!(get(&joule, "/whoami/x", None).await.1, serde_json::json!({ "caller": null, "actor": null }));
    let (status, body, _) = get(&joule, "/whoami/operators-only", Some(&driver)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    assert_eq!(get(&joule, "/whoami/operators-only", None).await.0, 401);
    assert_eq!(get(&joule, "/whoami/operators-only", Some(&operator)).await.0, 200);
    // Health and metrics stay open.
    assert_eq!(get(&joule, "/health/ready", None).await.0, 200);
}

#[tokio::test]
async fn tokens_of_a_real_provider_are_verified_through_discovery_and_forgeries_are_refused() {
    let (provider, joule) = trusting_a_provider().await;
    let claims = serde_json::json!({ "sub": "op-7", "roles": ["operator"] });
    let valid = provider.token(AUDIENCE, claims.clone()).await;
    assert_eq!(get(&joule, "/operators/x", Some(&valid)).await.0, 200, "{}", joule.logs());

    let mut forged = vec![
        ("expired", provider.token(AUDIENCE, serde_json::json!({ "sub": "op-7", "exp": now() - 120 })).await),
        ("not yet valid", provider.token(AUDIENCE, serde_json::json!({ "sub": "op-7", "nbf": now() + 120 })).await),
        ("another audience", provider.token("billing-api", claims.clone()).await),
        ("another issuer", provider.token(AUDIENCE, serde_json::json!({ "sub": "op-7", "iss": "https://id.example" })).await),
        ("no subject", provider.token(AUDIENCE, serde_json::json!({ "sub": "" })).await),
    ];
    // alg none: no signature at all.
    let none = with_part(&valid, 0, &serde_json::json!({ "alg": "none", "typ": "JWT" }));
    forged.push(("alg none", format!("{}.", none.rsplit_once('.').unwrap().0)));
    // HS256 with the provider's public key as the secret: the classic algorithm confusion.
    let public_key = provider.jwks().await["keys"][0].to_string();
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({ "iss": provider.issuer, "aud": AUDIENCE, "sub": "op-7", "exp": now() + 600 }),
        &jsonwebtoken::EncodingKey::from_secret(public_key.as_bytes()).unwrap(),
    )
    .unwrap();
    forged.push(("HS256 with the public key", hs256));
    // A payload changed after signing.
    let mut payload = part(&valid, 1);
    payload["sub"] = "someone-else".into();
    forged.push(("tampered payload", with_part(&valid, 1, &payload)));
    // A key the provider never had.
    let mut header = part(&valid, 0);
    header["kid"] = "no-such-key".into();
    forged.push(("unknown kid", with_part(&valid, 0, &header)));
    // The development issuer is off once a real one is configured.
    let dev = joule.token_command("op-7", &["operator"]).output().unwrap();
    assert!(dev.status.success(), "joule token without JOULE_OIDC_ISSUER: {}", String::from_utf8_lossy(&dev.stderr));
    forged.push(("development issuer", String::from_utf8(dev.stdout).unwrap().trim().to_string()));

    for (what, token) in &forged {
        let (status, body, challenge) = get(&joule, "/maybe/x", Some(token)).await;
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some("invalid_token")), "{what}: {body}");
        assert!(challenge.as_deref().unwrap_or_default().contains(r#"error="invalid_token""#), "{what}: {challenge:?}");
    }
    let (_, body, _) = get(&joule, "/maybe/x", Some(&forged[0].1)).await;
    assert!(body["error"]["message"].as_str().unwrap().contains("expired"), "{body}");

    // `joule token` says why it will not help while a real issuer is configured.
    let refused = joule.token_command("op-7", &[]).env("JOULE_OIDC_ISSUER", &provider.issuer).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("JOULE_OIDC_ISSUER"));
}

#[tokio::test]
async fn a_key_the_provider_rotates_in_is_picked_up_without_a_restart() {
    let (provider, joule) = trusting_a_provider().await;
    let claims = serde_json::json!({ "sub": "driver-2" });
    assert_eq!(get(&joule, "/private/x", Some(&provider.token(AUDIENCE, claims.clone()).await)).await.0, 200);

    let kid = provider.rotate("ES256").await;
    // The provider signs with its keys in turn: take a token signed with the new one.
    let mut token = provider.token(AUDIENCE, claims.clone()).await;
    if part(&token, 0)["kid"] != kid.as_str() {
        token = provider.token(AUDIENCE, claims.clone()).await;
    }
    assert_eq!(part(&token, 0)["kid"], kid.as_str());
    assert_eq!(part(&token, 0)["alg"], "ES256");
    // Joule asks the provider again on an unknown key, at most every few seconds.
    let started = Instant::now();
    loop {
        let (status, body, _) = get(&joule, "/private/x", Some(&token)).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 401, "{body}");
        assert!(started.elapsed() < Duration::from_secs(15), "the new key was not picked up: {body}\n{}", joule.logs());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The status and Retry-After of a GET.
async fn limited(joule: &Joule, path: &str, token: Option<&str>) -> (u16, Option<u64>) {
    let mut request = client().get(joule.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    let (status, body) = read(response).await;
    if status == 429 {
        assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    }
    (status, retry_after)
}

#[tokio::test]
async fn a_caller_past_the_rate_limit_is_told_to_wait_and_others_are_not() {
    let joule = Joule::with(MANIFEST).ready().await;
    let (a, b) = (joule.token("driver-a", &[]), joule.token("driver-b", &[]));
    for _ in 0..3 {
        assert_eq!(limited(&joule, "/limited/x", Some(&a)).await.0, 200, "within the burst");
    }
    let (status, retry_after) = limited(&joule, "/limited/x", Some(&a)).await;
    assert_eq!(status, 429);
    assert!(retry_after.is_some_and(|s| (1..=5).contains(&s)), "Retry-After {retry_after:?}");
    assert_eq!(limited(&joule, "/limited/x", Some(&b)).await.0, 200, "another subject has its own budget");
    assert_eq!(limited(&joule, "/private/x", Some(&a)).await.0, 200, "other routes are not limited");
}

#[tokio::test]
async fn replicas_on_redis_share_a_rate_limit() {
    if !real_backends() {
        eprintln!("replicas share limits through Redis; this runs in the pass against the real services");
        return;
    }
    let state = State::new();
    let replica_state = state.replica();
    let a = Joule::with(MANIFEST).state(&state).ready().await;
    let b = Joule::with(MANIFEST).state(&replica_state).ready().await;
    let path = "/limited-by-address/x";
    let spent = [limited(&a, path, None).await.0, limited(&b, path, None).await.0, limited(&a, path, None).await.0];
    assert_eq!(spent, [200, 200, 200], "the burst, spread over both replicas");
    let (status, retry_after) = limited(&b, path, None).await;
    assert_eq!(status, 429, "B counted what A let through");
    assert!(retry_after.is_some());
}

#[tokio::test]
async fn events_and_timers_carry_the_actor_to_their_handlers() {
    let joule = Joule::with(MANIFEST).ready().await;
    let driver = joule.token("driver-9", &["driver"]);
    let cases = [
        ("/whoami/publish", Some(driver.as_str()), serde_json::json!("driver-9")),
        ("/whoami/publish", None, serde_json::Value::Null),
        ("/whoami/later", Some(driver.as_str()), serde_json::json!("driver-9")),
    ];
    for (path, token, expected) in cases {
        let mut request = client().post(joule.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let (status, published) = read(request.send().await.unwrap()).await;
        assert_eq!(status, 202, "{published}");
        let id = published["id"].as_str().unwrap();
        let started = Instant::now();
        let seen = loop {
            let (status, seen, _) = get(&joule, &format!("/whoami/actor/{id}"), None).await;
            if status == 200 {
                break seen;
            }
            assert!(started.elapsed() < Duration::from_secs(15), "the event was not handled: {}", joule.logs());
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(seen["actor"], expected, "{path}: the handler acts on behalf of whoever published or scheduled it");
    }
}

#[tokio::test]
async fn asking_who_is_calling_needs_the_grant() {
    build_guests();
    let dir = tempfile::tempdir().unwrap();
    let whoami = repo_root().join("tests/guests/target/wasm32-wasip2/release/whoami.wasm");
    let manifest = dir.path().join("spin.toml");
    let text = format!(
        "spin_manifest_version = 2\n[application]\nname = \"ungranted\"\n[[trigger.http]]\nroute = \"/...\"\n\
         component = \"whoami\"\n[component.whoami]\nsource = {whoami:?}\nkey_value_stores = [\"default\"]\n\
         events = {{ publish = [\"whoami.called.v1\"] }}\ntimers = {{ events = [\"whoami.later.v1\"] }}\n"
    );
    std::fs::write(&manifest, text).unwrap();
    let (status, stderr) = Joule::with(manifest.to_str().unwrap()).fails();
    assert!(!status.success());
    assert!(stderr.contains("component \"whoami\"") && stderr.contains("identity capability"), "{stderr}");
    assert!(stderr.contains("identity = true"), "the error says how to grant it: {stderr}");
}
