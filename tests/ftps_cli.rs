//! The FTPS drop end to end: a real pure-ftpd (Debian package) on loopback with TLS required,
//! a virtual account for lot 08 chrooted into the lot's inbox and allowed from 127.0.0.1 only.
//! A feed file uploaded over explicit FTPS is taken by `cep sweep`, processed, archived, and its
//! processing report lands in the outbox; a plain-FTP upload and an upload from another address
//! are refused. Needs root (pure-ftpd changes to the account's user).

use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;
use common::{cep, free_port, ok};

fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["-s", "-S", "--max-time", "20"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_feed_uploaded_over_ftps_is_processed_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // pure-ftpd's account user must reach the chroot: the folders on the way are traversable.
    let chmod = |p: &Path| {
        assert!(
            Command::new("chmod")
                .arg("755")
                .arg(p)
                .status()
                .unwrap()
                .success()
        );
    };
    chmod(root);
    let data = root.join("data");
    let inbox = data.join("inbox").join("L08");
    std::fs::create_dir_all(&inbox).unwrap();
    chmod(&data);
    chmod(&data.join("inbox"));
    assert!(
        Command::new("chown")
            .args(["nobody:nogroup"])
            .arg(&inbox)
            .status()
            .unwrap()
            .success(),
        "chown needs root"
    );
    // TLS certificate for localhost and the lot's account.
    let out = Command::new("openssl")
        .current_dir(root)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        .args(["-keyout", "key.pem", "-out", "cert.pem"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pem = [
        std::fs::read(root.join("cert.pem")).unwrap(),
        std::fs::read(root.join("key.pem")).unwrap(),
    ]
    .concat();
    std::fs::write(root.join("pure-ftpd.pem"), pem).unwrap();
    let mut pw = Command::new("pure-pw")
        .args(["useradd", "lot08", "-u", "nobody", "-g", "nogroup", "-d"])
        .arg(&inbox)
        .args(["-r", "127.0.0.1", "-f"])
        .arg(root.join("passwd"))
        .arg("-F")
        .arg(root.join("pdb"))
        .arg("-m")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("pure-pw (Debian package pure-ftpd)");
    use std::io::Write;
    pw.stdin
        .take()
        .unwrap()
        .write_all(b"a-lot-08-password\na-lot-08-password\n")
        .unwrap();
    assert!(pw.wait().unwrap().success());
    let port = free_port();
    let passive = free_port();
    let _server = common::Peer(
        Command::new("pure-ftpd")
            .args(["-S", &format!("127.0.0.1,{port}"), "-l"])
            .arg(format!("puredb:{}", root.join("pdb").display()))
            .args(["-E", "-A", "-j", "-H", "-Y", "2", "-2"])
            .arg(root.join("pure-ftpd.pem"))
            .args(["-p", &format!("{passive}:{passive}"), "-P", "127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pure-ftpd (Debian package pure-ftpd)"),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // A real feed of lot 08, with its registry.
    let feeds = root.join("feeds");
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    common::synth_and_import(&|a| ok(cep(&data, a)), &feeds, "9", "1", "0.01", "08");
    let feed = std::fs::read_dir(feeds.join("inbox").join("L08"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("DOSSIERS"))
        .unwrap();
    let name = feed.file_name().unwrap().to_string_lossy().into_owned();
    let url = format!("ftp://localhost:{port}/{name}");
    let user = "lot08:a-lot-08-password";

    // Plain FTP is refused (TLS required), so is another source address.
    let plain = curl(&["-T", &s(&feed), "-u", user, &url]);
    assert!(!plain.status.success(), "plain FTP accepted");
    let elsewhere = curl(&[
        "--ssl-reqd",
        "--cacert",
        &s(&root.join("cert.pem")),
        "--interface",
        "127.0.0.2",
        "-T",
        &s(&feed),
        "-u",
        user,
        &url,
    ]);
    assert!(
        !elsewhere.status.success(),
        "upload from 127.0.0.2 accepted"
    );
    assert_eq!(std::fs::read_dir(&inbox).unwrap().count(), 0);
    // Explicit FTPS from the allowed address: the file lands in the lot's inbox.
    let up = curl(&[
        "--ssl-reqd",
        "--cacert",
        &s(&root.join("cert.pem")),
        "-T",
        &s(&feed),
        "-u",
        user,
        &url,
    ]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert_eq!(
        std::fs::read(inbox.join(&name)).unwrap(),
        std::fs::read(&feed).unwrap()
    );

    // A signed deliverable (point 34) uploaded into livrables/ (created by the upload).
    let signed = root.join("signed.pdf");
    std::fs::write(&signed, b"%PDF-1.7\n% projet professionnel signe\n").unwrap();
    let sha = {
        use sha2::Digest;
        cep_ingest::dossier::hex(&sha2::Sha256::digest(std::fs::read(&signed).unwrap()))
    };
    let deliverable = format!("A7250321000001_{sha}.pdf");
    let up = curl(&[
        "--ssl-reqd",
        "--cacert",
        &s(&root.join("cert.pem")),
        "--ftp-create-dirs",
        "-T",
        &s(&signed),
        "-u",
        user,
        &format!("ftp://localhost:{port}/livrables/{deliverable}"),
    ]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );

    // The sweep takes it: processed, out of the inbox, its report in the outbox.
    let swept = ok(cep(&data, &["sweep", "--settle", "0", "--no-link"]));
    assert!(
        swept.contains(&format!("L08 deliverable {deliverable}: kept, unmatched")),
        "{swept}"
    );
    assert!(!inbox.join("livrables").join(&deliverable).exists());
    assert!(
        data.join("archive/L08/livrables")
            .join(&deliverable)
            .is_file(),
        "archived"
    );
    assert!(
        swept.contains(&name) && swept.contains("accepted"),
        "{swept}"
    );
    assert!(!inbox.join(&name).exists());
    let reports: Vec<String> = std::fs::read_dir(data.join("outbox").join("L08"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let stem = name.trim_end_matches(".csv");
    assert!(
        reports
            .iter()
            .any(|r| r.starts_with(stem) && r.ends_with(".json")),
        "{reports:?}"
    );
}
