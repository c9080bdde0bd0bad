//! `cep bench ingest`: ingestion throughput on a generated `DOSSIERS` file (issue 4).
//!
//! Three figures from one run, on the same file:
//! 1. parse + validate in memory (one core): CSV reading and the line checks, no store;
//! 2. end to end into a fresh embedded SQLite database;
//! 3. end to end into a fresh PostgreSQL database, beside a bare `COPY` of the same CSV into an
//!    unindexed staging table of text columns on the same server (the ratio is the figure).
//!
//! Peak memory (VmHWM) of the process is printed at the end.

use anyhow::{Context, Result, bail};
use cep_domain::Lot;
use cep_ingest::buyer::{ImportKind, import};
use cep_ingest::dossier::{LineContext, OperatorRegistry, check_line};
use cep_ingest::{Channel, Ingestor, Submission};
use cep_store::{DatabaseUrl, Store};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Fiches in the generated file.
    #[arg(long, default_value_t = 1_000_000)]
    pub lines: usize,
    /// PostgreSQL server for the third figure (a database is created and dropped), e.g.
    /// postgres://postgres@127.0.0.1:5432. Default: $CEP_BENCH_POSTGRES_URL; none: skipped.
    #[arg(long, env = "CEP_BENCH_POSTGRES_URL")]
    pub postgres: Option<String>,
    /// Skip the SQLite figure.
    #[arg(long)]
    pub no_sqlite: bool,
    /// Working directory (the file, the SQLite database); default: a new temporary one.
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
}

const HEADER: &str = "horodatage;numero_dossier;uo;region_lot;identifiant_beneficiaire;nir;nom;nom_usage;prenom;sexe;date_naissance;adresse_numero;adresse_type_voie;adresse_voie;adresse_commune;adresse_code_postal;entreprise_departement;entreprise_code_postal;entreprise_commune;structure;handicap;niveau_formation;secteur_activite;libelle_secteur;taille_entreprise;categorie_sociale;libelle_profession;statut;entree_entreprise;email;telephone;date_engagement;date_cloture;motif_cloture;numero_decompte;reference_bc;origine;motif;motif_detaille;aiguillage;date_demande_rdv;dates_interactions;modes_contact;numero_dossier_uo21;types_service;description_service;prestations_complementaires;auto_prescription;financement_formation;decouvertes_metiers;projet_reconversion_cpir;etat_projet_cloture;livrable_sha256";

const FILE: &str = "CEP_L08_DOSSIERS_20250115_01.csv";

/// Writes `lines` valid UO2.1 fiches of lot 08 (a third closed with deliverable and
/// statement), every column of the format filled as an operator would, and the registry.
fn generate(dir: &Path, lines: usize) -> Result<()> {
    let path = dir.join(FILE);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    writeln!(w, "{HEADER}")?;
    let orders = lines.div_ceil(99_999);
    if orders > 99 {
        bail!("at most {} lines (99 orders of 99,999 units)", 99 * 99_999);
    }
    for i in 0..lines {
        let month = 1 + (i % 12) as u32;
        let counter = i / 12 + 1;
        let day = 1 + (i % 28) as u32;
        let eng = format!("2024-{month:02}-{day:02}");
        let closed = i % 3 == 0 && month <= 6;
        let (cloture, motif, decompte, livrable) = if closed {
            (
                format!("2024-{:02}-{day:02}", month + 2),
                "LIVRABLE_SIGNE",
                format!("2024-Lot08-T{}-01", (month + 1) / 3 + 1),
                format!("{:064x}", i as u128 * 0x9E37_79B9_7F4A_7C15),
            )
        } else {
            (String::new(), "", String::new(), String::new())
        };
        let inter = if closed {
            format!("{eng}|2024-{:02}-{day:02}", month + 1)
        } else {
            eng.clone()
        };
        let modes = if closed {
            "PRESENTIEL|TELEPHONE"
        } else {
            "PRESENTIEL"
        };
        writeln!(
            w,
            "2025-01-15T18:00:00+01:00;A724{month:02}21{counter:06};2.1;08;P-{i:07};;MARTIN;;Jeanne;2;1984-05-{day:02};12;RUE;de la République;Lyon;69003;69;69007;Lyon;SITE-{s:02};NON;5;C;Industrie manufacturière;50_249;5;Technicienne de maintenance;CDI;2012-09;jeanne.martin{i}@example.fr;0600000000;{eng};{cloture};{motif};{decompte};2024-Lot08-UO2.1-{o:02}-{q:05};INDIVIDUELLE;PROJET_PROFESSIONNEL;CHANGER_METIER_SECTEUR;;2024-{month:02}-01;{inter};{modes};;IDENTIFICATION_COMPETENCES|INVESTIGATION_METIERS;;FORMATION;N;CPF;AUCUNE;N;;{livrable}",
            s = i % 40,
            o = 1 + i / 99_999,
            q = 1 + i % 99_999,
        )?;
    }
    w.flush()?;
    let mut ops = String::from(
        "lot;code_operateur;nom;date_debut;date_fin\n08;A7;Titulaire du lot 08;2019-12-01;\n",
    );
    std::fs::write(dir.join("operators.csv"), &ops)?;
    ops.clear();
    ops.push_str(
        "reference;date_notification;quantite;prix_unitaire_ht;taux_tva;date_debut;date_fin\n",
    );
    for o in 1..=orders {
        ops.push_str(&format!(
            "2024-Lot08-UO2.1-{o:02};2023-12-15;99999;900.00;0.20;2024-01-01;2024-12-31\n"
        ));
    }
    std::fs::write(dir.join("purchase-orders.csv"), ops)?;
    Ok(())
}

/// Figure 1: read and check every line, nothing stored.
fn parse_and_validate(path: &Path) -> Result<(usize, usize)> {
    use cep_ingest::anomaly::LineAnomalies;
    use cep_ingest::csv::{CsvReader, Record};
    use cep_ingest::source::{Item, csv_items, header};
    let mut operators = OperatorRegistry::default();
    operators.add(Lot::parse("08")?, "A7".into(), "2019-12-01".parse()?, None);
    let ctx = LineContext {
        lot: Lot::parse("08")?,
        received_at: "2025-01-16T08:00:00Z".parse()?,
        operators: &operators,
    };
    let (sniffed, _) = cep_ingest::decode::sniff_counting_lines(std::fs::File::open(path)?)?;
    let cep_ingest::decode::Sniffed::Readable { encoding, bom } = sniffed else {
        bail!("generated file unreadable");
    };
    let mut reader = CsvReader::new(std::io::BufReader::with_capacity(
        1 << 16,
        std::fs::File::open(path)?,
    ));
    let mut head = Record::default();
    reader
        .read(&mut head)?
        .context("header")?
        .ok()
        .context("header")?;
    let cols = cep_ingest::pipeline::kind_columns(cep_ingest::FeedKind::Dossiers);
    let (map, _) = header(&head, encoding, bom, cols);
    let map = map.context("header columns")?;
    let (mut lines, mut accepted) = (0, 0);
    for item in csv_items(&mut reader, &map, encoding) {
        lines += 1;
        if let Item::Record { line, values, .. } = item? {
            let mut an = LineAnomalies::new(line);
            if check_line(values, &ctx, &mut an).is_some() && an.list.is_empty() {
                accepted += 1;
            }
        }
    }
    Ok((lines, accepted))
}

fn ingest_into(store: Store, dir: &Path, data: &Path) -> Result<cep_ingest::ProcessingReport> {
    import(&store, ImportKind::Operators, &dir.join("operators.csv"))?;
    import(
        &store,
        ImportKind::PurchaseOrders,
        &dir.join("purchase-orders.csv"),
    )?;
    let ingestor = Ingestor::new(store, data);
    let sub = Submission {
        file_name: FILE.into(),
        lot: Lot::parse("08")?,
        channel: Channel::Cli,
        received_at: Some("2025-01-16T08:00:00Z".parse()?),
        json_kind: None,
    };
    Ok(ingestor.ingest_file(&dir.join(FILE), &sub)?)
}

/// Runs `body` with the URL of a new database on `server` (e.g.
/// `postgres://postgres@127.0.0.1:5432`), dropped afterwards whatever happens.
pub(crate) fn with_scratch_database(
    server: &str,
    prefix: &str,
    body: impl FnOnce(&str) -> Result<()>,
) -> Result<()> {
    use diesel::connection::SimpleConnection;
    let server = server.trim_end_matches('/');
    let name = format!("{prefix}_{}", std::process::id());
    let mut admin = DatabaseUrl::parse(&format!("{server}/postgres"))?.connect()?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let outcome = body(&format!("{server}/{name}"));
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    outcome
}

pub(crate) fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

pub fn run(args: &BenchArgs) -> Result<()> {
    let tmp;
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "cep bench ingest: {} fiches, {profile} build, working directory {}",
        args.lines,
        dir.display()
    );
    let t = Instant::now();
    generate(&dir, args.lines)?;
    let size = std::fs::metadata(dir.join(FILE))?.len();
    println!(
        "  generated {} ({:.0} MiB) in {:.1} s",
        FILE,
        size as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let (lines, accepted) = parse_and_validate(&dir.join(FILE))?;
    let s = t.elapsed().as_secs_f64();
    if accepted != args.lines {
        bail!("{accepted} of {lines} generated lines accepted: the generator is out of date");
    }
    println!(
        "  1. parse + validate in memory: {lines} fiches in {s:.2} s = {:.0} fiches/s (target ≥ 200,000)",
        lines as f64 / s
    );

    if !args.no_sqlite {
        let data = dir.join("sqlite");
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data)?;
        let store = Store::open_and_migrate(&DatabaseUrl::Sqlite(data.join("cep.db")), 2)?;
        let t = Instant::now();
        let r = ingest_into(store, &dir, &data)?;
        let s = t.elapsed().as_secs_f64();
        println!(
            "  2. end to end into SQLite: {} accepted in {s:.2} s = {:.0} fiches/s (target ≥ 50,000)",
            r.accepted,
            r.accepted as f64 / s
        );
    }

    if let Some(server) = &args.postgres {
        with_scratch_database(server, "cep_bench", |url| {
            let store = Store::open_and_migrate(&DatabaseUrl::parse(url)?, 2)?;
            // Baseline: bare COPY of the same file into an unindexed staging table.
            let cols: Vec<String> = HEADER.split(';').map(|c| format!("{c} text")).collect();
            let mut conn = store.conn()?;
            use diesel::connection::SimpleConnection;
            conn.batch_execute(&format!("CREATE TABLE bench_staging ({})", cols.join(", ")))?;
            drop(conn);
            let t = Instant::now();
            let status = std::process::Command::new("psql")
                .arg(url)
                .args(["-q", "-v", "ON_ERROR_STOP=1", "-c"])
                .arg(format!(
                    "\\copy bench_staging FROM '{}' WITH (FORMAT csv, DELIMITER ';', HEADER true)",
                    dir.join(FILE).display()
                ))
                .status()
                .context("running psql for the baseline COPY")?;
            if !status.success() {
                bail!("psql \\copy failed");
            }
            let copy = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let data = dir.join("postgres");
            let _ = std::fs::remove_dir_all(&data);
            std::fs::create_dir_all(&data)?;
            let r = ingest_into(store, &dir, &data)?;
            let s = t.elapsed().as_secs_f64();
            println!(
                "  3. PostgreSQL: bare COPY {copy:.2} s; end to end {} accepted in {s:.2} s = {:.0} fiches/s; ratio {:.2}× (target ≤ 4×)",
                r.accepted,
                r.accepted as f64 / s,
                s / copy
            );
            Ok(())
        })?;
    } else {
        println!("  3. PostgreSQL: skipped (give --postgres URL or CEP_BENCH_POSTGRES_URL)");
    }
    if let Some(m) = peak_rss_mib() {
        println!("  peak memory of the process (VmHWM): {m:.0} MiB (target < 1024)");
    }
    println!(
        "  reproduce: cargo run --release -- bench ingest --lines {} --postgres postgres://postgres@127.0.0.1:5432",
        args.lines
    );
    Ok(())
}
