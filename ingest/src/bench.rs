//! The ingestion benchmark (issue 4), shared by `cep bench ingest` and
//! `cargo run --release -p cep-ingest --example bench_ingest` (which builds without the
//! indicators and reports engines, for quicker iterations).
//!
//! Three figures from one run, on the same generated `DOSSIERS` file:
//! 1. parse + validate in memory (one core): CSV reading and the line checks, no store;
//! 2. end to end into a fresh embedded SQLite database;
//! 3. end to end into a fresh PostgreSQL database, beside a bare `COPY` of the same CSV into an
//!    unindexed staging table of text columns on the same server (the ratio is the figure).
//!
//! Peak memory (VmHWM) of the process is printed at the end.
//!
//! [`national_year`] is the figure of issue 19: the generated national year
//! (`cep synth --seed 1 --scale 1.0 --months 12`) ingested file by file, in `cep ingest`'s
//! order, into a fresh SQLite and a fresh PostgreSQL store (the real mix of new dossiers and
//! updates, many small files, anomalies). Identity resolution is not included: it is measured
//! by `cep bench link`.

use crate::buyer::{ImportKind, import};
use crate::dossier::{LineContext, OperatorRegistry, check_line};
use crate::{Channel, Ingestor, Submission};
use cep_domain::Lot;
use cep_store::{DatabaseUrl, Store};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Errors of a benchmark run, reported as they are.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Fiches in the generated file.
    pub lines: usize,
    /// PostgreSQL server for the third figure (a database is created and dropped).
    pub postgres: Option<String>,
    pub sqlite: bool,
    /// Working directory (the file, the SQLite database).
    pub dir: PathBuf,
    /// The command that reproduces the run, printed last.
    pub reproduce: String,
    /// Drop the foreign keys of the ingestion tables in the scratch PostgreSQL database before
    /// ingesting: a measurement of what their per-row checks cost, not a production setting.
    pub without_foreign_keys: bool,
}

/// The foreign keys checked on every row ingestion writes: (table, column).
const INGESTION_FOREIGN_KEYS: [(&str, &str); 7] = [
    ("identity_records", "operator_person_id"),
    ("dossiers", "operator_person_id"),
    ("fiches", "dossier_id"),
    ("fiches", "receipt_id"),
    ("fiches", "identity_record_id"),
    ("consumption_refs", "dossier_id"),
    ("consumption_refs", "receipt_id"),
];

pub const HEADER: &str = "horodatage;numero_dossier;uo;region_lot;identifiant_beneficiaire;nir;nom;nom_usage;prenom;sexe;date_naissance;adresse_numero;adresse_type_voie;adresse_voie;adresse_commune;adresse_code_postal;entreprise_departement;entreprise_code_postal;entreprise_commune;structure;handicap;niveau_formation;secteur_activite;libelle_secteur;taille_entreprise;categorie_sociale;libelle_profession;statut;entree_entreprise;email;telephone;date_engagement;date_cloture;motif_cloture;numero_decompte;reference_bc;origine;motif;motif_detaille;aiguillage;date_demande_rdv;dates_interactions;modes_contact;numero_dossier_uo21;types_service;description_service;prestations_complementaires;auto_prescription;financement_formation;decouvertes_metiers;projet_reconversion_cpir;etat_projet_cloture;livrable_sha256";

pub const FILE: &str = "CEP_L08_DOSSIERS_20250115_01.csv";

/// Writes `lines` valid UO2.1 fiches of lot 08 (a third closed with deliverable and
/// statement), every column of the format filled as an operator would, and the registry.
pub fn generate(dir: &Path, lines: usize) -> BenchResult<()> {
    let path = dir.join(FILE);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    writeln!(w, "{HEADER}")?;
    let orders = lines.div_ceil(99_999);
    if orders > 99 {
        return Err(format!("at most {} lines (99 orders of 99,999 units)", 99 * 99_999).into());
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
pub fn parse_and_validate(path: &Path) -> BenchResult<(usize, usize)> {
    use crate::anomaly::LineAnomalies;
    use crate::csv::{CsvReader, Record};
    use crate::source::{Item, csv_items, header};
    let mut operators = OperatorRegistry::default();
    operators.add(Lot::parse("08")?, "A7".into(), "2019-12-01".parse()?, None);
    let ctx = LineContext {
        lot: Lot::parse("08")?,
        received_at: "2025-01-16T08:00:00Z".parse()?,
        operators: &operators,
    };
    let (sniffed, _) = crate::decode::sniff_counting_lines(std::fs::File::open(path)?)?;
    let crate::decode::Sniffed::Readable { encoding, bom } = sniffed else {
        return Err("generated file unreadable".into());
    };
    let mut reader = CsvReader::new(std::io::BufReader::with_capacity(
        1 << 16,
        std::fs::File::open(path)?,
    ));
    let mut head = Record::default();
    reader
        .read(&mut head)?
        .ok_or("no header")?
        .map_err(|e| format!("header: {e:?}"))?;
    let cols = crate::pipeline::kind_columns(crate::FeedKind::Dossiers);
    let (map, _) = header(&head, encoding, bom, cols);
    let map = map.ok_or("header columns")?;
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

pub fn ingest_into(store: Store, dir: &Path, data: &Path) -> BenchResult<crate::ProcessingReport> {
    import(&store, ImportKind::Operators, &dir.join("operators.csv"))?;
    // Above 99,999 fiches the file uses several orders of the same year, lot and UO: their
    // periods overlap (accepted, with a warning).
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

/// Peak resident memory of this process (VmHWM), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
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

/// Runs the three figures, each line of results given to `say` as soon as it is known.
pub fn run(opts: &BenchOptions, say: &mut dyn FnMut(String)) -> BenchResult<()> {
    let dir = &opts.dir;
    std::fs::create_dir_all(dir)?;
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    say(format!(
        "ingestion benchmark: {} fiches, {profile} build, working directory {}",
        opts.lines,
        dir.display()
    ));
    let t = Instant::now();
    generate(dir, opts.lines)?;
    let size = std::fs::metadata(dir.join(FILE))?.len();
    say(format!(
        "  generated {} ({:.0} MiB) in {:.1} s",
        FILE,
        size as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    ));

    let t = Instant::now();
    let (lines, accepted) = parse_and_validate(&dir.join(FILE))?;
    let s = t.elapsed().as_secs_f64();
    if accepted != opts.lines {
        return Err(format!(
            "{accepted} of {lines} generated lines accepted: the generator is out of date"
        )
        .into());
    }
    say(format!(
        "  1. parse + validate in memory: {lines} fiches in {s:.2} s = {:.0} fiches/s (target ≥ 200,000)",
        lines as f64 / s
    ));

    if opts.sqlite {
        let data = dir.join("sqlite");
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data)?;
        let store = Store::open_and_migrate(&DatabaseUrl::Sqlite(data.join("cep.db")), 2)?;
        let t = Instant::now();
        let r = ingest_into(store, dir, &data)?;
        let s = t.elapsed().as_secs_f64();
        say(format!(
            "  2. end to end into SQLite: {} accepted in {s:.2} s = {:.0} fiches/s (target ≥ 50,000)",
            r.accepted,
            r.accepted as f64 / s
        ));
    }

    if let Some(server) = &opts.postgres {
        cep_store::with_scratch_database(server, "cep_bench", |url| -> BenchResult<()> {
            let store = Store::open_and_migrate(&DatabaseUrl::parse(url)?, 2)?;
            // Baseline: bare COPY of the same file into an unindexed staging table.
            let cols: Vec<String> = HEADER.split(';').map(|c| format!("{c} text")).collect();
            let mut conn = store.conn()?;
            use diesel::connection::SimpleConnection;
            conn.batch_execute(&format!("CREATE TABLE bench_staging ({})", cols.join(", ")))?;
            if opts.without_foreign_keys {
                for (table, constraint) in INGESTION_FOREIGN_KEYS {
                    conn.batch_execute(&format!(
                        "ALTER TABLE {table} DROP CONSTRAINT {table}_{constraint}_fkey"
                    ))?;
                }
                say("  (PostgreSQL: foreign keys of the ingestion tables dropped, to measure their cost; not the production schema)".into());
            }
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
                .map_err(|e| format!("running psql for the baseline COPY: {e}"))?;
            if !status.success() {
                return Err("psql \\copy failed".into());
            }
            let copy = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let data = dir.join("postgres");
            let _ = std::fs::remove_dir_all(&data);
            std::fs::create_dir_all(&data)?;
            let r = ingest_into(store, dir, &data)?;
            let s = t.elapsed().as_secs_f64();
            say(format!(
                "  3. PostgreSQL: bare COPY {copy:.2} s; end to end {} accepted in {s:.2} s = {:.0} fiches/s; ratio {:.2}× (target ≤ 4×)",
                r.accepted,
                r.accepted as f64 / s,
                s / copy
            ));
            Ok(())
        })?;
    } else {
        say("  3. PostgreSQL: skipped (no server given)".into());
    }
    if let Some(m) = peak_rss_mib() {
        say(format!(
            "  peak memory of the process (VmHWM): {m:.0} MiB (target < 1024)"
        ));
    }
    say(format!("  reproduce: {}", opts.reproduce));
    Ok(())
}

/// What [`national_year`] measures.
#[derive(Debug, Clone)]
pub struct YearOptions {
    pub scale: f64,
    pub months: u32,
    pub seed: u64,
    /// A PostgreSQL server where a scratch database is made (none: skipped).
    pub postgres: Option<String>,
    pub sqlite: bool,
    /// Working directory (the generated feeds, the archives, the SQLite database).
    pub dir: PathBuf,
    /// The command that reproduces the figures.
    pub reproduce: String,
}

/// The files of a generated inbox (`inbox/L{ll}/*.csv`), by lot then name (point 12).
pub fn inbox_files(inbox: &Path) -> BenchResult<Vec<(Lot, PathBuf)>> {
    let mut out = vec![];
    for dir in std::fs::read_dir(inbox)? {
        let dir = dir?.path();
        let Some(lot) = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(Lot::of_folder)
        else {
            continue;
        };
        for f in std::fs::read_dir(&dir)? {
            let f = f?.path();
            if f.extension().is_some_and(|x| x == "csv") {
                out.push((lot, f));
            }
        }
    }
    out.sort_by(|a, b| (a.0, a.1.file_name()).cmp(&(b.0, b.1.file_name())));
    Ok(out)
}

/// Ingests every file of `feeds/inbox` into `store` after the buyer-side registry, as the
/// service's daily sweep takes them: the files of each extraction day together (one batch, one
/// durability point), each file its own receipt and transaction, by lot then name. Returns
/// (files, lines, days, seconds).
fn ingest_year(
    store: Store,
    feeds: &Path,
    data: &Path,
    say: &mut dyn FnMut(String),
) -> BenchResult<(usize, u64, usize, f64)> {
    for kind in [ImportKind::Operators, ImportKind::PurchaseOrders] {
        import(
            &store,
            kind,
            &feeds.join("buyer").join(format!("{}.csv", kind.as_str())),
        )?;
    }
    let files = inbox_files(&feeds.join("inbox"))?;
    let mut days: std::collections::BTreeMap<String, Vec<(PathBuf, Submission)>> =
        Default::default();
    for (lot, path) in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let day = name.split('_').nth(3).unwrap_or_default().to_owned();
        days.entry(day).or_default().push((
            path.clone(),
            Submission {
                file_name: name,
                lot: *lot,
                channel: Channel::Inbox,
                received_at: None,
                json_kind: None,
            },
        ));
    }
    let ingestor = Ingestor::new(store, data);
    let t = Instant::now();
    let (mut lines, mut done) = (0u64, 0usize);
    for batch in days.values() {
        for r in ingestor.ingest_files(batch, &mut |_, _| {})? {
            lines += r.lines;
        }
        let before = done;
        done += batch.len();
        if done / 1000 > before / 1000 {
            say(format!(
                "    {done} of {} files, {lines} lines, {:.0} s",
                files.len(),
                t.elapsed().as_secs_f64()
            ));
        }
    }
    Ok((files.len(), lines, days.len(), t.elapsed().as_secs_f64()))
}

/// The national-year figure: generation, then the year ingested into each store asked for.
pub fn national_year(opts: &YearOptions, say: &mut dyn FnMut(String)) -> BenchResult<()> {
    let feeds = opts.dir.join("feeds");
    let t = Instant::now();
    let config =
        cep_synth::SynthConfig::new(opts.seed, "2025-01".parse()?, opts.months, opts.scale);
    let s = cep_synth::generate(&config, &feeds)?;
    say(format!(
        "national year (seed {}, scale {}, {} months): {} dossiers, {} fiches, {} files generated in {:.1} s",
        opts.seed,
        opts.scale,
        opts.months,
        s.dossiers,
        s.fiches,
        s.files,
        t.elapsed().as_secs_f64()
    ));
    let report = |what: &str, (files, lines, days, secs): (usize, u64, usize, f64), target: f64| {
        format!(
            "  {what}: {files} files in {days} daily batches, {lines} lines in {secs:.1} s = {:.0} lines/s, {:.1} ms a file (target at scale 1.0: ≤ {target:.0} s)",
            lines as f64 / secs,
            secs * 1000.0 / files.max(1) as f64
        )
    };
    if opts.sqlite {
        let data = opts.dir.join("sqlite");
        std::fs::create_dir_all(&data)?;
        let store = Store::open_and_migrate(&DatabaseUrl::Sqlite(data.join("cep.db")), 2)?;
        let figure = ingest_year(store, &feeds, &data, say)?;
        say(report("SQLite", figure, 60.0));
    }
    if let Some(server) = &opts.postgres {
        let data = opts.dir.join("postgres");
        std::fs::create_dir_all(&data)?;
        let figure = cep_store::with_scratch_database(server, "cep_bench_year", |url| {
            let store = Store::open_and_migrate(&DatabaseUrl::parse(url)?, 2)?;
            ingest_year(store, &feeds, &data, say)
        })?;
        say(report("PostgreSQL", figure, 90.0));
    }
    if let Some(m) = peak_rss_mib() {
        say(format!("  peak memory {m:.0} MiB"));
    }
    say(format!("  reproduce: {}", opts.reproduce));
    Ok(())
}
