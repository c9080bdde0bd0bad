//! E-mail delivery through a real SMTP server on loopback (Python's aiosmtpd, Debian package
//! python3-aiosmtpd): each document mailed once per recipient with its PDF attached; a server
//! that cannot be reached leaves the e-mail pending with a backoff, sent once it is back.

use cep_reports::mail::{Security, SmtpSettings, backoff_minutes, deliver_due};
use cep_store::models::reports::{NewDocument, OutboxEmail};
use cep_store::testing::each_backend;
use std::path::Path;
use std::process::{Child, Command, Stdio};

struct SmtpServer(Child);

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// aiosmtpd on `port`, each message written as a file under `mailbox/new/`.
fn smtp_server(port: u16, mailbox: &Path) -> SmtpServer {
    smtp_server_with(port, mailbox, &[])
}

fn smtp_server_with(port: u16, mailbox: &Path, extra: &[&str]) -> SmtpServer {
    let mut child = Command::new("/usr/bin/python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(extra)
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(mailbox)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m aiosmtpd (Debian package python3-aiosmtpd)");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return SmtpServer(child);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().ok();
    child.wait().ok();
    panic!("aiosmtpd did not start on {port}");
}

fn received(mailbox: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(mailbox.join("new"))
        .map(|d| {
            d.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: Security::None,
        username: String::new(),
        password: String::new(),
        from: "Régulation CEP <cep@francecompetences.fr>".into(),
        timeout_seconds: 5,
        ca_file: None,
    }
}

#[test]
fn documents_are_mailed_once_per_recipient_and_retried_when_the_server_is_down() {
    each_backend(|db| {
        let dir = tempfile::tempdir().unwrap();
        let mailbox = dir.path().join("mail");
        let port = free_port();
        let now = cep_store::models::now_utc();
        // Binary, as a PDF is (its second line holds bytes above 127).
        let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n%%EOF\n".to_vec();
        let (doc, new) = NewDocument {
            kind: "comite-suivi".into(),
            lot: Some("08".into()),
            period: "2025-10".into(),
            cutoff: now,
            file_name: "comite-suivi_L08_2025-10.pdf".into(),
            sha256: "x".into(),
            pdf: pdf.clone(),
            created_at: now,
        }
        .store(&mut db.conn())
        .unwrap();
        assert!(new);
        for to in ["comite08@example.fr", "dir@example.fr"] {
            assert!(OutboxEmail::enqueue(&mut db.conn(), doc, to, "CEP — comité", now).unwrap());
        }
        // Queued twice: once.
        assert!(!OutboxEmail::enqueue(&mut db.conn(), doc, "dir@example.fr", "CEP", now).unwrap());

        // The server is down: both attempts fail, retried later.
        let d = deliver_due(&db.store, &settings(port), now).unwrap();
        assert_eq!((d.sent, d.retried), (0, 2));
        let rows = OutboxEmail::all(&mut db.conn()).unwrap();
        assert!(
            rows.iter()
                .all(|e| e.status == "pending" && e.attempts == 1)
        );
        assert!(rows.iter().all(|e| e.last_error.is_some()));
        // Not due before the backoff.
        let server = smtp_server(port, &mailbox);
        assert_eq!(
            deliver_due(&db.store, &settings(port), now).unwrap().sent,
            0
        );
        let later = now + chrono::Duration::minutes(backoff_minutes(1));
        let d = deliver_due(&db.store, &settings(port), later).unwrap();
        assert_eq!(d.sent, 2);
        // Nothing is sent twice.
        let d = deliver_due(
            &db.store,
            &settings(port),
            later + chrono::Duration::hours(1),
        )
        .unwrap();
        assert_eq!(d.sent, 0);
        drop(server);
        let mails = received(&mailbox);
        assert_eq!(mails.len(), 2);
        for m in &mails {
            assert!(m.contains("comite-suivi_L08_2025-10.pdf"), "{m}");
            assert!(m.contains("application/pdf"));
            assert!(m.contains("Content-Transfer-Encoding: base64"));
            // The attachment arrives intact.
            assert!(
                m.replace("\r\n", "")
                    .replace('\n', "")
                    .contains(&base64(&pdf)),
                "{m}"
            );
        }
        assert!(mails.iter().any(|m| m.contains("To: comite08@example.fr")));
        let rows = OutboxEmail::all(&mut db.conn()).unwrap();
        assert!(
            rows.iter()
                .all(|e| e.status == "sent" && e.attempts == 2 && e.sent_at == Some(later))
        );
    });
}

/// Standard base64 (to find the attachment's bytes in the received message).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A private CA and a server certificate it signed for localhost and 127.0.0.1 (openssl):
/// `(ca certificate, server certificate, server key)`.
fn certificates(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let p = |name: &str| dir.join(name);
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=CEP test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        p("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    ]);
    (p("ca.pem"), p("server.pem"), p("server.key"))
}

#[test]
fn starttls_and_implicit_tls_reach_a_server_whose_certificate_is_trusted_only() {
    each_backend(|db| {
        let dir = tempfile::tempdir().unwrap();
        let (ca, cert, key) = certificates(dir.path());
        let now = cep_store::models::now_utc();
        let (doc, _) = NewDocument {
            kind: "releve".into(),
            lot: Some("08".into()),
            period: "2025-T3".into(),
            cutoff: now,
            file_name: "releve_EC-2025-Lot08-UO01-01-2025-T3.pdf".into(),
            sha256: "x".into(),
            pdf: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(),
            created_at: now,
        }
        .store(&mut db.conn())
        .unwrap();
        for (security, flag) in [
            (Security::Starttls, "--tlscert"),
            (Security::Tls, "--smtpscert"),
        ] {
            let mailbox = dir.path().join(format!("mail-{flag}"));
            let port = free_port();
            let key_flag = if flag == "--tlscert" {
                "--tlskey"
            } else {
                "--smtpskey"
            };
            let _server = smtp_server_with(
                port,
                &mailbox,
                &[
                    flag,
                    cert.to_str().unwrap(),
                    key_flag,
                    key.to_str().unwrap(),
                ],
            );
            let to = format!("{flag}@example.fr");
            OutboxEmail::enqueue(&mut db.conn(), doc, &to, "CEP — relevé", now).unwrap();
            let tls = |ca: Option<&Path>| SmtpSettings {
                host: "localhost".into(),
                security,
                ca_file: ca.map(Path::to_path_buf),
                ..settings(port)
            };
            // Not trusted: refused, retried later.
            let d = deliver_due(&db.store, &tls(None), now).unwrap();
            assert_eq!(
                (d.sent, d.retried),
                (0, 1),
                "{security:?} with an unknown certificate"
            );
            // Trusted: sent.
            let later = now + chrono::Duration::minutes(backoff_minutes(1));
            let d = deliver_due(&db.store, &tls(Some(&ca)), later).unwrap();
            let errors: Vec<Option<String>> = OutboxEmail::all(&mut db.conn())
                .unwrap()
                .into_iter()
                .map(|e| e.last_error)
                .collect();
            assert_eq!(d.sent, 1, "{security:?}: {errors:?}");
            let mails = received(&mailbox);
            assert_eq!(mails.len(), 1);
            assert!(mails[0].contains(&format!("To: {to}")));
        }
    });
}
