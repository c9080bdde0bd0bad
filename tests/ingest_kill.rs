//! Atomicity (DESIGN decision 3): a real `cep ingest` process killed in the middle of a file
//! leaves the store with the file's receipt and nothing else of it; run again, it applies the
//! whole file once.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HEADER: &str = "horodatage;numero_dossier;uo;region_lot;identifiant_beneficiaire;nom;prenom;date_naissance;statut;date_engagement;reference_bc;origine;motif;motif_detaille;aiguillage;dates_interactions;modes_contact";

fn cep(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cep"));
    c.env("CEP_DATA_DIR", data)
        .env_remove("CEP_DATABASE_URL")
        .env_remove("CEP_CONFIG")
        .env("CEP_LOG", "warn");
    c
}

fn sqlite_count(db: &Path, sql: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let url = cep_store::DatabaseUrl::Sqlite(db.to_path_buf());
    let store = cep_store::Store::open(&url, 1).unwrap();
    let mut c = store.conn().unwrap();
    diesel::sql_query(sql).get_result::<N>(&mut c).unwrap().n
}

#[test]
fn a_killed_ingest_leaves_all_or_nothing_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ops = dir.path().join("operators.csv");
    std::fs::write(
        &ops,
        "lot;code_operateur;nom;date_debut;date_fin\n08;A7;Titulaire 08;2019-12-01;\n",
    )
    .unwrap();
    assert!(
        cep(&data)
            .args(["import", "operators"])
            .arg(&ops)
            .status()
            .unwrap()
            .success()
    );

    let lines = 20_000;
    let mut text = String::with_capacity(lines * 200);
    text.push_str(HEADER);
    text.push('\n');
    for i in 1..=lines {
        text.push_str(&format!(
            "2025-03-11T18:00:00+01:00;A72503000{i:05};00;08;P-{i};NOM;Prenom;1980-01-01;CDI;2025-03-10;2025-Lot08-UO00-01-{i:05};INDIVIDUELLE;COMPETENCES;SE_FORMER;RDV_CEP_INTERNE;2025-03-10;TELEPHONE\n"
        ));
    }
    let inbox = dir.path().join("L08");
    std::fs::create_dir_all(&inbox).unwrap();
    let file = inbox.join("CEP_L08_DOSSIERS_20250311_01.csv");
    std::fs::write(&file, text).unwrap();
    let db = data.join("cep.db");

    // Kill the process once its receipt is committed, i.e. while it is inside the file.
    let mut child = cep(&data)
        .arg("ingest")
        .arg(&file)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no receipt after 60 s"
        );
        if db.exists() && sqlite_count(&db, "SELECT COUNT(*) AS n FROM receipts") == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let finished_first = child.try_wait().unwrap().is_some();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !finished_first,
        "the file was processed before the kill: make it larger"
    );
    assert_eq!(sqlite_count(&db, "SELECT COUNT(*) AS n FROM fiches"), 0);
    assert_eq!(sqlite_count(&db, "SELECT COUNT(*) AS n FROM dossiers"), 0);
    assert_eq!(sqlite_count(&db, "SELECT COUNT(*) AS n FROM anomalies"), 0);
    assert_eq!(
        sqlite_count(
            &db,
            "SELECT COUNT(*) AS n FROM receipts WHERE status = 'received'"
        ),
        1
    );

    // Restarted, the same file is processed once, from the start.
    let out = cep(&data).arg("ingest").arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains(&format!("{lines} lines, {lines} accepted")),
        "{summary}"
    );
    assert_eq!(
        sqlite_count(&db, "SELECT COUNT(*) AS n FROM fiches"),
        lines as i64
    );
    assert_eq!(sqlite_count(&db, "SELECT COUNT(*) AS n FROM receipts"), 1);
    // And a third time it is a duplicate that changes nothing.
    let out = cep(&data).arg("ingest").arg(&file).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("duplicate"));
    assert_eq!(
        sqlite_count(&db, "SELECT COUNT(*) AS n FROM fiches"),
        lines as i64
    );
}
