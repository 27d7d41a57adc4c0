//! Outgoing mail: verification links, password resets and invitations.
//!
//! With `FAULTLINE_SMTP_URL` set, messages go out over SMTP (lettre, rustls). Without it they
//! are written as `.eml` files to `<data dir>/outbox`, where a developer can open them. A
//! failure to send is logged and never fails the request that caused it: the user can ask for
//! the mail again.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// A real SMTP server.
    Smtp {
        /// The pooled transport.
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// Sender.
        from: Mailbox,
    },
    /// `.eml` files in a folder.
    Outbox {
        /// The folder's transport.
        transport: AsyncFileTransport<Tokio1Executor>,
        /// Sender.
        from: Mailbox,
        /// The folder.
        dir: std::path::PathBuf,
    },
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

impl Mailer {
    /// The mailer the configuration asks for.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let from: Mailbox = config.mail_from.parse()?;
        match &config.smtp_url {
            Some(url) => Ok(Self::Smtp {
                transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())?.build(),
                from,
            }),
            None => {
                let dir = config.data_dir.join("outbox");
                std::fs::create_dir_all(&dir)?;
                Ok(Self::Outbox {
                    transport: AsyncFileTransport::new(&dir),
                    from,
                    dir,
                })
            }
        }
    }

    /// Sends `mail`, logging (not returning) any failure.
    pub async fn send(&self, mail: Mail) {
        if let Err(error) = self.try_send(&mail).await {
            tracing::error!(error = %error, subject = %mail.subject, "could not send mail");
        }
    }

    async fn try_send(&self, mail: &Mail) -> anyhow::Result<()> {
        let from = match self {
            Self::Smtp { from, .. } | Self::Outbox { from, .. } => from.clone(),
        };
        let message = Message::builder()
            .from(from)
            .to(mail.to.parse()?)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())?;
        match self {
            Self::Smtp { transport, .. } => {
                transport.send(message).await?;
            }
            Self::Outbox { transport, dir, .. } => {
                let id = transport.send(message).await?;
                tracing::info!(file = %dir.join(format!("{id}.eml")).display(), subject = %mail.subject, "mail written to the outbox");
            }
        }
        Ok(())
    }
}
