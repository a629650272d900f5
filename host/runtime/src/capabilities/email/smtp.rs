//! The production mail backend: an SMTP server through lettre's pooled async transport,
//! configured by `SMTP_URL`: `smtp://host:port` (plain), `smtp://host:port?tls=required`
//! (STARTTLS), `smtps://host:port` (implicit TLS), with `user:password@` for AUTH.

use std::time::Duration;

use async_trait::async_trait;
use joule_world::email::Error;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};

use super::MailBackend;

/// How long connecting, and each command of a send, may take; inside an invocation's
/// deadline, so a server that hangs fails the call rather than the invocation.
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct SmtpMail {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpMail {
    /// A transport for `url` (from `SMTP_URL`); it connects at the first send. Fails only on
    /// a malformed URL, whose text is not repeated, since it may hold a password.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("SMTP_URL is not a valid smtp:// or smtps:// URL: {e}"))?;
        Ok(Self { transport: builder.timeout(Some(TIMEOUT)).build() })
    }
}

#[async_trait]
impl MailBackend for SmtpMail {
    fn name(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, email: &lettre::Message) -> Result<(), Error> {
        self.transport.send_raw(email.envelope(), &email.formatted()).await.map(drop).map_err(|e| failure(e.status().map(u16::from), &e))
    }
}

/// What a failed send means to the guest: a 5xx reply is final; anything else (a 4xx reply,
/// no connection, a timeout, TLS, a garbled reply) may pass if tried again.
fn failure(reply_code: Option<u16>, error: &dyn std::fmt::Display) -> Error {
    match reply_code {
        Some(500..=599) => Error::Rejected(format!("the SMTP server refused the message: {error}")),
        Some(_) => Error::Unavailable(format!("the SMTP server refused the message for now: {error}")),
        None => Error::Unavailable(format!("the SMTP server could not be reached: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_replies_are_rejections_and_the_rest_may_pass_later() {
        assert!(matches!(failure(Some(550), &"no such user"), Error::Rejected(why) if why.contains("no such user")));
        assert!(matches!(failure(Some(554), &"spam"), Error::Rejected(_)));
        assert!(matches!(failure(Some(451), &"try later"), Error::Unavailable(why) if why.contains("try later")));
        assert!(matches!(failure(Some(421), &"closing"), Error::Unavailable(_)));
        assert!(matches!(failure(None, &"connection refused"), Error::Unavailable(why) if why.contains("reached")));
    }

    #[tokio::test]
    async fn urls_select_the_transport_and_a_malformed_one_is_named_not_echoed() {
        for url in ["smtp://127.0.0.1:2525", "smtp://mail.example.com:587?tls=required", "smtps://user:pass@mail.example.com"] {
            SmtpMail::from_url(url).unwrap_or_else(|e| panic!("{url}: {e:#}"));
        }
        for url in ["mail.example.com", "http://mail.example.com", "smtp://user:hunter2@/"] {
            let error = SmtpMail::from_url(url).err().unwrap_or_else(|| panic!("{url} was accepted")).to_string();
            assert!(error.contains("SMTP_URL") && !error.contains("hunter2"), "{url}: {error}");
        }
    }

    #[tokio::test]
    async fn a_server_that_is_not_there_is_unavailable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mail = SmtpMail::from_url(&format!("smtp://127.0.0.1:{port}")).unwrap();
        let email = lettre::Message::builder()
            .from("a@example.com".parse().unwrap())
            .to("b@example.com".parse().unwrap())
            .body(String::from("hi"))
            .unwrap();
        assert!(matches!(mail.send(&email).await, Err(Error::Unavailable(_))));
    }
}
