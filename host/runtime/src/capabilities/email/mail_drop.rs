//! The embedded mail backend: with no `SMTP_URL`, each message is written as an RFC 5322
//! `.eml` file in the state directory's `mail/`, and logged, so `joule up` runs with no
//! mail server and a developer can open what would have been sent.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use async_trait::async_trait;
use joule_world::email::Error;

use super::MailBackend;

pub struct MailDrop {
    dir: PathBuf,
}

impl MailDrop {
    /// Drops mail into `dir`, which is made if missing.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("failed to create the mail drop {}", dir.display()))?;
        Ok(Self { dir: dir.to_path_buf() })
    }

    async fn write(&self, email: &lettre::Message) -> std::io::Result<PathBuf> {
        // Time-ordered names list in the order sent; the rename shows readers whole files only.
        let name = uuid::Uuid::now_v7().simple().to_string();
        let partial = self.dir.join(format!(".{name}.partial"));
        let file = self.dir.join(format!("{name}.eml"));
        tokio::fs::write(&partial, email.formatted()).await?;
        tokio::fs::rename(&partial, &file).await?;
        Ok(file)
    }
}

#[async_trait]
impl MailBackend for MailDrop {
    fn name(&self) -> &'static str {
        "mail-drop"
    }

    async fn send(&self, email: &lettre::Message) -> Result<(), Error> {
        let file = self.write(email).await.map_err(|e| Error::Unavailable(format!("the mail drop could not write: {e}")))?;
        let to: Vec<String> = email.envelope().to().iter().map(ToString::to_string).collect();
        tracing::info!(file = %file.display(), to = %to.join(", "), "email written to the mail drop (no SMTP_URL is set)");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_message_is_one_eml_file() {
        let dir = tempfile::tempdir().unwrap();
        let drop = MailDrop::open(&dir.path().join("mail")).unwrap();
        for body in ["first", "second"] {
            let email = lettre::Message::builder()
                .from("Joule <noreply@joule.example>".parse().unwrap())
                .to("ana@example.com".parse().unwrap())
                .subject("Receipt")
                .body(body.to_string())
                .unwrap();
            drop.send(&email).await.unwrap();
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path().join("mail")).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        assert_eq!(files.len(), 2, "{files:?}");
        assert!(files.iter().all(|f| f.extension().is_some_and(|e| e == "eml")), "{files:?}");
        let first = std::fs::read_to_string(&files[0]).unwrap();
        assert!(first.contains("From: Joule <noreply@joule.example>\r\n") && first.ends_with("\r\n\r\nfirst"), "{first}");
        assert!(std::fs::read_to_string(&files[1]).unwrap().ends_with("second"));
    }
}
