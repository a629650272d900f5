//! `allowed_outbound_hosts`, in Spin's `scheme://host[:port]` form: the hosts a component
//! may send HTTP requests to.

use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    /// `*.example.com`: any subdomain, not the domain itself.
    Subdomain(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedHost {
    /// `None` for `*://`.
    scheme: Option<String>,
    host: HostPattern,
    /// `None` for `:*`, or for no port, which means the scheme's default.
    port: Option<u16>,
    any_port: bool,
}

/// The hosts a component may send requests to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts(Arc<Vec<AllowedHost>>);

impl AllowedHosts {
    /// Parses manifest entries; an error carries the index of the bad entry.
    pub fn parse(entries: &[String]) -> Result<Self, (usize, String)> {
        entries
            .iter()
            .enumerate()
            .map(|(i, entry)| parse_entry(entry).map_err(|e| (i, e)))
            .collect::<Result<Vec<_>, _>>()
            .map(|hosts| Self(Arc::new(hosts)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let Some(port) = port.or_else(|| default_port(scheme)) else { return false };
        let host = host.to_ascii_lowercase();
        self.0.iter().any(|allowed| {
            let scheme_ok = allowed.scheme.as_deref().is_none_or(|s| s == scheme);
            let host_ok = match &allowed.host {
                HostPattern::Any => true,
                HostPattern::Exact(exact) => *exact == host,
                HostPattern::Subdomain(domain) => {
                    host.strip_suffix(domain.as_str()).is_some_and(|rest| rest.ends_with('.') && rest.len() > 1)
                }
            };
            let port_ok = allowed.any_port || allowed.port.or_else(|| default_port(scheme)) == Some(port);
            scheme_ok && host_ok && port_ok
        })
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

fn parse_entry(entry: &str) -> Result<AllowedHost, String> {
    let bad = |why: &str| format!("{entry:?} {why}; expected scheme://host[:port], such as \"https://api.example.com\"");
    let (scheme, rest) = entry.split_once("://").ok_or_else(|| bad("has no scheme"))?;
    let scheme = match scheme {
        "*" => None,
        "http" | "https" => Some(scheme.to_string()),
        _ => return Err(bad("has a scheme other than http, https or *")),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('/') {
        return Err(bad("has a path"));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let (port, any_port) = match port {
        None => (None, false),
        Some("*") => (None, true),
        Some(port) => (Some(port.parse::<u16>().map_err(|_| bad("has an invalid port"))?), false),
    };
    if scheme.is_none() && port.is_none() && !any_port {
        return Err(bad("uses the * scheme without a port"));
    }
    let host = match host {
        "" => return Err(bad("has no host")),
        "*" => HostPattern::Any,
        _ => match host.strip_prefix("*.") {
            Some(domain) if !domain.is_empty() && !domain.contains('*') => {
                HostPattern::Subdomain(domain.to_ascii_lowercase())
            }
            Some(_) => return Err(bad("has an invalid wildcard")),
            None if host.contains('*') => return Err(bad("has an invalid wildcard")),
            None => HostPattern::Exact(host.to_ascii_lowercase()),
        },
    };
    Ok(AllowedHost { scheme, host, port, any_port })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn exact_hosts_use_the_default_port() {
        let allowed = hosts(&["https://api.example.com"]);
        assert!(allowed.allows("https", "api.example.com", None));
        assert!(allowed.allows("https", "API.example.com", Some(443)));
        assert!(!allowed.allows("https", "api.example.com", Some(8443)));
        assert!(!allowed.allows("http", "api.example.com", None));
        assert!(!allowed.allows("https", "other.example.com", None));
    }

    #[test]
    fn wildcards() {
        let allowed = hosts(&["https://*.example.com", "*://localhost:*"]);
        assert!(allowed.allows("https", "a.example.com", None));
        assert!(!allowed.allows("https", "example.com", None));
        assert!(!allowed.allows("https", "badexample.com", None));
        assert!(allowed.allows("http", "localhost", Some(3000)));
        assert!(allowed.allows("https", "localhost", None));
    }

    #[test]
    fn nothing_is_allowed_by_default() {
        assert!(!AllowedHosts::default().allows("https", "example.com", None));
    }

    #[test]
    fn bad_entries_are_refused_with_their_index() {
        for entry in ["example.com", "ftp://x", "https://x/path", "https://x:port", "*://x", "https://a*.b"] {
            let error = AllowedHosts::parse(&["https://ok".into(), entry.into()]).unwrap_err();
            assert_eq!(error.0, 1, "{entry}");
        }
    }
}
