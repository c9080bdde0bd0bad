//! Running the `cep` binary in the end-to-end tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

#[path = "../../ingest/tests/support/http_request.rs"]
mod http_request;

/// The `cep` command with its own data directory, the embedded database (unless the
/// configuration file says otherwise) and `config` or no configuration file.
pub fn cep_command(data: &Path, config: Option<&Path>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cep"));
    c.env("CEP_DATA_DIR", data)
        .env_remove("CEP_DATABASE_URL")
        .env("CEP_LOG", "warn");
    match config {
        Some(f) => c.env("CEP_CONFIG", f),
        None => c.env_remove("CEP_CONFIG"),
    };
    c
}

/// `cep ARGS` with its own data directory, the embedded database and no configuration file.
pub fn cep(data: &Path, args: &[&str]) -> Output {
    cep_command(data, None)
        .args(args)
        .output()
        .expect("cep runs")
}

/// The standard output of a command that must succeed (both outputs shown when it does not).
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// A port free on loopback at this instant.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("an address")
        .port()
}

/// A peer process (a server) killed when the test ends, passed or not.
pub struct Peer(pub std::process::Child);

impl Drop for Peer {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

impl Peer {
    /// Starts `command` and waits until `port` on loopback accepts connections (10 s at most).
    pub fn start(command: &mut Command, port: u16) -> Peer {
        let peer = Peer(
            command
                .spawn()
                .unwrap_or_else(|e| panic!("starting {command:?}: {e}")),
        );
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return peer;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("{command:?} does not listen on {port}");
    }
}

/// One number from the embedded database at `db` (`SELECT … AS n`).
pub fn sqlite_count(db: &Path, sql: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let store = cep_store::Store::open(&cep_store::DatabaseUrl::Sqlite(db.to_path_buf()), 1)
        .expect("the store opens");
    diesel::sql_query(sql)
        .get_result::<N>(&mut *store.conn().expect("a connection"))
        .expect("the count")
        .n
}

/// A real SMTP server on loopback (Python's aiosmtpd, Debian package python3-aiosmtpd) on a free
/// port, each message received written as a file under `mailbox/new/`: `(server, port)`.
pub fn smtp_server(mailbox: &Path) -> (Peer, u16) {
    let port = free_port();
    let peer = Peer::start(
        Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(mailbox)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
        port,
    );
    (peer, port)
}

/// Requests seen by [`http_server`]: (request target, authorization header).
pub type RequestLog = std::sync::Mutex<Vec<(String, String)>>;

/// A minimal HTTP/1.1 server on 127.0.0.1, one request per connection, as an operator's feed
/// endpoint: `handler(target, authorization)` gives the status and the JSON body. Returns its
/// base URL and the log of the requests.
pub fn http_server(
    handler: impl Fn(&str, &str) -> (u16, String) + Send + Sync + 'static,
) -> (String, std::sync::Arc<RequestLog>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let log = std::sync::Arc::new(std::sync::Mutex::new(vec![]));
    let seen = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some((target, auth)) = http_request::read_request(&stream) else {
                continue;
            };
            seen.lock().unwrap().push((target.clone(), auth.clone()));
            let (status, body) = handler(&target, &auth);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, log)
}

/// `cep synth` into `feeds` (seed, months, scale, comma-separated lots), then `cep import` of
/// its operators and purchase orders, each command run by `run` in the test's own environment
/// (data folder, configuration, database).
pub fn synth_and_import(
    run: &dyn Fn(&[&str]) -> String,
    feeds: &Path,
    seed: &str,
    months: &str,
    scale: &str,
    lots: &str,
) {
    let out = feeds.to_str().expect("a UTF-8 path");
    run(&[
        "synth", "--out", out, "--seed", seed, "--months", months, "--scale", scale, "--lots", lots,
    ]);
    for kind in ["operators", "purchase-orders"] {
        let file = feeds.join("buyer").join(format!("{kind}.csv"));
        run(&["import", kind, file.to_str().expect("a UTF-8 path")]);
    }
}

/// The JWT secret of the test servers.
pub const SECRET: &str = "a-test-secret-of-more-than-32-bytes!";

/// `cep user add NAME --role ROLE [--lot LOT]` with the password on standard input.
pub fn add_user(data: &Path, name: &str, role: &str, lot: Option<&str>, password: &str) {
    use std::io::Write;
    let mut args = vec!["user", "add", name, "--role", role];
    if let Some(l) = lot {
        args.extend(["--lot", l]);
    }
    let mut add = cep_command(data, None)
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    assert!(add.wait().unwrap().success(), "cep user add {name}");
}

/// `cep serve` on a free loopback port, its scheduler off, until dropped; its base URL.
pub struct Served {
    pub base: String,
    /// Its standard error (the log, access lines included).
    pub log: std::path::PathBuf,
    _peer: Peer,
}

impl Served {
    pub fn start(data: &Path) -> Served {
        let config = data.join("serve-test.toml");
        std::fs::create_dir_all(data).unwrap();
        std::fs::write(&config, "[reports]\nschedule = false\n").unwrap();
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        let log = data.join("serve-test.log");
        let peer = Peer::start(
            cep_command(data, Some(&config))
                .env("CEP_API_JWT_SECRET", SECRET)
                .env("CEP_LOG", "info")
                .args(["serve", "--bind", &bind])
                .stdout(std::process::Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap()),
            port,
        );
        Served {
            base: format!("http://{bind}"),
            log,
            _peer: peer,
        }
    }

    /// A bearer token for the user.
    pub fn login(&self, name: &str, password: &str) -> String {
        let login: serde_json::Value = reqwest::blocking::Client::new()
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({"username": name, "password": password}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        login["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("a token for {name}: {login}"))
            .to_owned()
    }
}
