//! The deployment files of `deploy/` checked as far as this machine allows: the systemd units
//! pass `systemd-analyze verify` (with the binary and secrets file at test paths), and the
//! production example configuration is loaded by `cep config`, `cep migrate` and `cep serve`
//! the way the units run them, until the service reports ready.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;
use common::{Peer, free_port, ok};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

#[test]
fn the_systemd_units_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = tmp.path().join("secrets.env");
    std::fs::write(&secrets, "CEP_API_JWT_SECRET=x\n").unwrap();
    let mut units = vec![];
    for e in std::fs::read_dir(deploy().join("systemd")).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("/usr/local/bin/cep", env!("CARGO_BIN_EXE_cep"))
            .replace("/etc/cep/secrets.env", secrets.to_str().unwrap());
        std::fs::write(tmp.path().join(&name), text).unwrap();
        units.push(name);
    }
    units.sort();
    assert_eq!(
        units,
        ["cep-backup.service", "cep-backup.timer", "cep.service"]
    );
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(&units)
        .current_dir(tmp.path())
        .env("SYSTEMD_LOG_LEVEL", "notice")
        .output()
        .expect("systemd-analyze (Debian package systemd)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.trim().is_empty(), "{err}");
}

#[test]
fn the_example_configuration_runs_the_service_as_the_unit_does() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let env = |c: &mut Command| {
        c.env("CEP_CONFIG", deploy().join("cep.example.toml"))
            .env("CEP_DATA_DIR", &data)
            .env(
                "CEP_DATABASE_URL",
                format!("sqlite://{}", tmp.path().join("cep.db").display()),
            )
            .env("CEP_API_JWT_SECRET", "0123456789abcdef0123456789abcdef")
            .env("CEP_SMTP_PASSWORD", "relay-secret")
            .env("CEP_API_BIND", format!("127.0.0.1:{port}"))
            .env("CEP_LOG", "warn");
    };
    let cep = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cep"));
        env(&mut c);
        c.args(args).output().unwrap()
    };
    let config = ok(cep(&["config"]));
    for expected in [
        "pool_size = 16",
        "[[pull]]\nlot = \"11\"",
        "token_env = \"CEP_PULL_TOKEN_11\"",
        "password = \"(set, masked)\"",
    ] {
        assert!(config.contains(expected), "{expected} in:\n{config}");
    }
    assert!(!config.contains("relay-secret"), "secrets masked: {config}");
    // ExecStartPre, then ExecStart.
    ok(cep(&["migrate"]));
    let mut serve = Command::new(env!("CARGO_BIN_EXE_cep"));
    env(&mut serve);
    let _service = Peer::start(
        serve
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        port,
    );
    let client = reqwest::blocking::Client::new();
    let mut ready = None;
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/ready")).send() {
            ready = Some(r.status().as_u16());
            if ready == Some(200) {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(ready, Some(200), "the service reports ready");
}
