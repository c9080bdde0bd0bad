//! E-mail delivery of stored documents (lettre over SMTP): an outbox table so that every e-mail
//! is sent once, retried with backoff when the server refuses or cannot be reached, and given
//! up after [`MAX_ATTEMPTS`] with its last error kept (visible in the API).

use cep_store::Store;
use cep_store::models::reports::{DocumentMeta, OutboxEmail};
use chrono::NaiveDateTime;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Attempts before an e-mail is given up.
pub const MAX_ATTEMPTS: i32 = 8;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain SMTP (a relay on the same host only).
    None,
    /// STARTTLS required (submission, port 587).
    #[default]
    Starttls,
    /// Implicit TLS (submissions, port 465).
    Tls,
}

/// The SMTP server and the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub password: String,
    pub from: String,
    pub timeout_seconds: u64,
    /// A PEM certificate to trust besides the public roots (a relay with a private CA).
    pub ca_file: Option<std::path::PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Store(#[from] cep_store::StoreError),
    #[error("e-mail settings: {0}")]
    Settings(String),
}

/// What a delivery pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delivery {
    pub sent: usize,
    pub retried: usize,
    pub given_up: usize,
}

/// Minutes before the next attempt after `attempts` failures: 1, 2, 4, … up to 6 hours.
pub fn backoff_minutes(attempts: i32) -> i64 {
    (1i64 << attempts.clamp(0, 20)).min(360)
}

fn transport(s: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let tls = |host: &str| {
        let mut b = TlsParameters::builder(host.to_owned());
        if let Some(path) = &s.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| MailError::Settings(format!("ca_file {}: {e}", path.display())))?;
            let cert = lettre::transport::smtp::client::Certificate::from_pem(&pem)
                .map_err(|e| MailError::Settings(format!("ca_file {}: {e}", path.display())))?;
            b = b.add_root_certificate(cert);
        }
        b.build().map_err(|e| MailError::Settings(e.to_string()))
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
        .port(s.port)
        .timeout(Some(std::time::Duration::from_secs(
            s.timeout_seconds.max(1),
        )));
    b = match s.security {
        Security::None => b.tls(Tls::None),
        Security::Starttls => b.tls(Tls::Required(tls(&s.host)?)),
        Security::Tls => b.tls(Tls::Wrapper(tls(&s.host)?)),
    };
    if !s.username.is_empty() {
        b = b.credentials(lettre::transport::smtp::authentication::Credentials::new(
            s.username.clone(),
            s.password.clone(),
        ));
    }
    Ok(b.build())
}

/// The message for one outbox e-mail: a short French text and the PDF attached.
fn message(
    s: &SmtpSettings,
    e: &OutboxEmail,
    meta: &DocumentMeta,
    pdf: Vec<u8>,
) -> Result<Message, String> {
    let from: Mailbox = s
        .from
        .parse()
        .map_err(|x| format!("from {:?}: {x}", s.from))?;
    let to: Mailbox = e
        .recipient
        .parse()
        .map_err(|x| format!("recipient {:?}: {x}", e.recipient))?;
    let text = format!(
        "Bonjour,\n\nVeuillez trouver ci-joint le document {} (période {}), établi sur les données arrêtées au {}.\n\nService de régulation du CEP — France compétences\n",
        meta.file_name,
        meta.period,
        crate::format::cutoff(meta.cutoff),
    );
    Message::builder()
        .from(from)
        .to(to)
        .subject(e.subject.clone())
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(text))
                .singlepart(
                    Attachment::new(meta.file_name.clone())
                        .body(pdf, ContentType::parse("application/pdf").expect("valid")),
                ),
        )
        .map_err(|x| x.to_string())
}

/// Sends every due e-mail of the outbox (`now`: the clock, given so that tests can move it).
pub fn deliver_due(
    store: &Store,
    s: &SmtpSettings,
    now: NaiveDateTime,
) -> Result<Delivery, MailError> {
    let mut conn = store.conn()?;
    let due = OutboxEmail::due(&mut conn, now)?;
    let mut out = Delivery::default();
    if due.is_empty() {
        return Ok(out);
    }
    let transport = transport(s)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| MailError::Settings(format!("starting the mail runtime: {e}")))?;
    for e in due {
        if !OutboxEmail::claim(&mut conn, e.id)? {
            continue;
        }
        let result = match DocumentMeta::get(&mut conn, e.document_id)? {
            None => Err(format!("document {} is missing", e.document_id)),
            Some((meta, pdf)) => message(s, &e, &meta, pdf).and_then(|m| {
                rt.block_on(transport.send(m))
                    .map(|_| ())
                    .map_err(|x| x.to_string())
            }),
        };
        match result {
            Ok(()) => {
                OutboxEmail::mark_sent(&mut conn, e.id, now)?;
                out.sent += 1;
            }
            Err(error) => {
                let attempts = e.attempts + 1;
                let next = (attempts < MAX_ATTEMPTS)
                    .then(|| now + chrono::Duration::minutes(backoff_minutes(attempts)));
                tracing::warn!(email = e.id, recipient = %e.recipient, %error, attempts, "e-mail not sent");
                OutboxEmail::mark_failed(&mut conn, e.id, &error, next)?;
                if next.is_some() {
                    out.retried += 1;
                } else {
                    out.given_up += 1;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_six_hours() {
        assert_eq!(
            (1..=10).map(backoff_minutes).collect::<Vec<_>>(),
            vec![2, 4, 8, 16, 32, 64, 128, 256, 360, 360]
        );
    }
}
