//! Per-route rate limits (`rate_limit` on `[[trigger.http]]`), by caller: the generic cell
//! rate algorithm, in process with governor, or shared by every replica through Redis.
//!
//! A limiter that cannot reach Redis lets requests through: an outage of the cache must
//! not become an outage of the API.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock as _};
use joule_identity::Principal;
use joule_runtime::manifest::{Manifest, RateLimitConfig, RateLimitKey};

use crate::router::full_route;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long a check may wait on Redis before the request goes through unchecked.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// GCRA on Redis, atomically: KEYS[1] holds the theoretical arrival time in microseconds of
/// Redis's own clock (so replicas' clocks do not matter); ARGV are the emission interval in
/// microseconds and the burst. Returns 0 when the request may go, or the microseconds to wait.
const GCRA: &str = r"
local now = redis.call('TIME')
local t = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or t)
if tat < t then tat = t end
local next_tat = tat + interval
local wait = next_tat - t - interval * tonumber(ARGV[2])
if wait > 0 then return wait end
redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil((next_tat - t) / 1000) + 1)
return 0
";

/// The limits of every route, by the route's pattern.
pub struct RateLimits {
    routes: HashMap<String, RouteLimit>,
    store: Store,
}

struct RouteLimit {
    config: RateLimitConfig,
    local: DefaultKeyedRateLimiter<String>,
}

enum Store {
    Local,
    Redis { connection: ConnectionManager, script: redis::Script, prefix: String },
}

impl RateLimits {
    /// The routes' limits, kept in this process, or in Redis when `redis` gives its URL and
    /// key prefix.
    pub async fn new(manifest: &Manifest, redis: Option<(&str, &str)>) -> anyhow::Result<Self> {
        let routes: HashMap<_, _> = manifest
            .http_triggers
            .iter()
            .filter_map(|trigger| Some((full_route(manifest, trigger.route.as_deref()?), trigger.rate_limit?)))
            .map(|(route, config)| (route, RouteLimit { config, local: RateLimiter::keyed(quota(&config)) }))
            .collect();
        let store = match redis {
            Some((url, prefix)) if !routes.is_empty() => {
                let client = redis::Client::open(url).map_err(|_| anyhow::anyhow!("REDIS_URL is not a valid redis:// URL"))?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(5)))
                    .set_response_timeout(Some(REDIS_TIMEOUT))
                    .set_number_of_retries(1);
                let connection = ConnectionManager::new_with_config(client, config)
                    .await
                    .map_err(|e| anyhow::anyhow!("failed to connect to Redis for the rate limits (REDIS_URL): {e}"))?;
                Store::Redis { connection, script: redis::Script::new(GCRA), prefix: format!("{prefix}:ratelimit") }
            }
            _ => Store::Local,
        };
        Ok(Self { routes, store })
    }

    /// `Err` with how long to wait when the caller is over the route's limit.
    pub async fn check(&self, route: &str, caller: Option<&Principal>, client: IpAddr) -> Result<(), Duration> {
        let Some(limit) = self.routes.get(route) else { return Ok(()) };
        let key = match (limit.config.key, caller) {
            (RateLimitKey::Subject, Some(caller)) => format!("sub:{}:{}", caller.issuer, caller.subject),
            _ => format!("ip:{client}"),
        };
        match &self.store {
            Store::Local => limit.local.check_key(&key).map_err(|denied| denied.wait_time_from(limit.local.clock().now())),
            Store::Redis { connection, script, prefix } => {
                let interval = (1_000_000.0 / limit.config.per_second).ceil() as u64;
                let mut connection = connection.clone();
                let answer: Result<u64, _> = script
                    .key(format!("{prefix}:{route}:{key}"))
                    .arg(interval)
                    .arg(limit.config.burst)
                    .invoke_async(&mut connection)
                    .await;
                match answer {
                    Ok(0) => Ok(()),
                    Ok(wait) => Err(Duration::from_micros(wait)),
                    Err(e) => {
                        tracing::warn!(error = %e, route, "rate limit not checked: Redis did not answer");
                        Ok(())
                    }
                }
            }
        }
    }

    /// Forgets in-process callers whose limit has fully recovered, so the map does not grow
    /// with every address ever seen.
    pub fn forget_idle(&self) {
        for limit in self.routes.values() {
            limit.local.retain_recent();
        }
    }
}

fn quota(config: &RateLimitConfig) -> Quota {
    let period = Duration::from_secs_f64(1.0 / config.per_second).max(Duration::from_nanos(1));
    let burst = NonZeroU32::new(config.burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period).expect("a positive period").allow_burst(burst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(limit: &str) -> Manifest {
        let text = format!(
            "spin_manifest_version = 2\n[application]\nname = \"a\"\n[[trigger.http]]\nroute = \"/r/...\"\n\
             component = \"c\"\nrate_limit = {limit}\n[component.c]\nsource = \"c.wasm\"\n"
        );
        Manifest::parse(std::path::Path::new("spin.toml"), &text).unwrap()
    }

    fn caller(subject: &str) -> Principal {
        Principal { subject: subject.into(), issuer: "i".into(), roles: vec![], claims: serde_json::json!({}) }
    }

    #[tokio::test]
    async fn a_burst_passes_then_the_caller_waits_and_others_do_not() {
        let limits = RateLimits::new(&manifest("{ per_second = 1, burst = 3 }"), None).await.unwrap();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let (a, b) = (caller("a"), caller("b"));
        for _ in 0..3 {
            assert_eq!(limits.check("/r/...", Some(&a), ip).await, Ok(()));
        }
        let wait = limits.check("/r/...", Some(&a), ip).await.unwrap_err();
        assert!(wait > Duration::from_millis(500) && wait <= Duration::from_secs(1), "{wait:?}");
        assert_eq!(limits.check("/r/...", Some(&b), ip).await, Ok(()), "another subject has its own budget");
        assert_eq!(limits.check("/other", Some(&a), ip).await, Ok(()), "a route without a limit");
    }
}
