//! The Redis key-value backend against a real Redis.

mod support;

use std::time::Duration;

use joule_runtime::capabilities::kv::KeyValueBackend;
use joule_runtime::capabilities::kv::redis::RedisKeyValue;
use joule_world::kv::Error;
use redis::AsyncCommands as _;

async fn backend() -> Option<(RedisKeyValue, String, redis::aio::MultiplexedConnection)> {
    let url = support::redis_url()?;
    let prefix = format!("joule-rt-{}", uuid::Uuid::new_v4().simple());
    let backend = RedisKeyValue::connect(&url, &prefix).await.unwrap();
    let raw = redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap();
    Some((backend, prefix, raw))
}

#[tokio::test]
async fn get_set_delete_exists() {
    let Some((kv, _, _)) = backend().await else { return };
    assert_eq!(kv.get("app:a", "k").await.unwrap(), None);
    kv.set("app:a", "k", b"v1", None).await.unwrap();
    kv.set("app:a", "k", b"v2", None).await.unwrap();
    assert_eq!(kv.get("app:a", "k").await.unwrap().as_deref(), Some(&b"v2"[..]));
    assert!(kv.exists("app:a", "k").await.unwrap());
    assert!(kv.delete("app:a", "k").await.unwrap());
    assert!(!kv.delete("app:a", "k").await.unwrap());
    assert!(!kv.exists("app:a", "k").await.unwrap());
}

#[tokio::test]
async fn keys_carry_the_host_prefix_and_spaces_are_separate() {
    let Some((kv, prefix, mut raw)) = backend().await else { return };
    kv.set("app:a", "secret", b"mine", None).await.unwrap();
    let stored: Option<Vec<u8>> = raw.get(format!("{prefix}:app:a:secret")).await.unwrap();
    assert_eq!(stored.as_deref(), Some(&b"mine"[..]));
    // Whatever another component names, it stays inside its own space.
    for key in ["secret", "app:a:secret", &format!("{prefix}:app:a:secret"), "../a/secret", "*"] {
        assert_eq!(kv.get("app:b", key).await.unwrap(), None, "{key}");
        assert!(!kv.delete("app:b", key).await.unwrap(), "{key}");
    }
    assert_eq!(kv.get("app:a", "secret").await.unwrap().as_deref(), Some(&b"mine"[..]));
}

#[tokio::test]
async fn time_to_live() {
    let Some((kv, prefix, mut raw)) = backend().await else { return };
    kv.set("app:a", "k", b"v", Some(Duration::from_millis(200))).await.unwrap();
    let ttl: i64 = raw.pttl(format!("{prefix}:app:a:k")).await.unwrap();
    assert!(ttl > 0 && ttl <= 200, "{ttl}");
    kv.incr("app:a", "k2", 1).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(kv.get("app:a", "k").await.unwrap(), None);
    kv.set("app:a", "k", b"again", Some(Duration::from_secs(60))).await.unwrap();
    kv.set("app:a", "k", b"forever", None).await.unwrap();
    let ttl: i64 = raw.pttl(format!("{prefix}:app:a:k")).await.unwrap();
    assert_eq!(ttl, -1, "a set without a time to live clears the old one");
}

#[tokio::test]
async fn incr_is_atomic_and_checked() {
    let Some((kv, _, _)) = backend().await else { return };
    let kv = std::sync::Arc::new(kv);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let kv = kv.clone();
            tokio::spawn(async move { kv.incr("app:a", "n", 2).await.unwrap() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(kv.get("app:a", "n").await.unwrap().as_deref(), Some(&b"100"[..]));
    kv.set("app:a", "text", b"abc", None).await.unwrap();
    assert!(matches!(kv.incr("app:a", "text", 1).await, Err(Error::NotAnInteger(_))));
    kv.set("app:a", "max", i64::MAX.to_string().as_bytes(), None).await.unwrap();
    assert!(matches!(kv.incr("app:a", "max", 1).await, Err(Error::NotAnInteger(_))));
}

#[tokio::test]
async fn an_unreachable_redis_fails_with_a_clear_error() {
    let error = RedisKeyValue::connect("redis://127.0.0.1:1", "x").await.err().unwrap();
    let message = format!("{error:#}");
    assert!(message.contains("127.0.0.1:1") && message.contains("REDIS_URL"), "{message}");
}
