//! `cep bench indicators`: every monthly indicator of one month, 19 lots and national, over
//! generated dossiers already in memory (target: 10 million in under 10 s), and, with
//! `--postgres`, loading a month's as-of state from PostgreSQL (measured and reported).
//!
//! The dossiers are drawn by a small deterministic generator (not the feed generator, which
//! would take hours to produce and ingest ten million dossiers): lots, work units, statuses,
//! engagements over 22 months, closures, abandonments, orders and billable closures in the
//! proportions of the national dataset, with the domain's deadlines.

use crate::Result;
use cep_domain::deadline::UnitDates;
use cep_domain::{Lot, WorkUnit, YearMonth, deadline};
use cep_indicators::inputs::{Dimension, DossierFacts, Inputs, OrderFacts, PopulationFacts};
use cep_indicators::{Period, Prepared};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct IndicatorBenchArgs {
    /// Dossiers generated in memory.
    #[arg(long, default_value_t = 10_000_000)]
    pub dossiers: usize,
    /// The month computed.
    #[arg(long, default_value = "2025-10")]
    pub month: YearMonth,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Also measure loading the month's as-of state from PostgreSQL: a scratch database is
    /// created on this server (e.g. postgres://postgres@127.0.0.1:5432), filled, and dropped.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Also time each indicator alone (to see where the time goes).
    #[arg(long)]
    pub per_indicator: bool,
    /// Dossiers written to PostgreSQL for the loading measurement.
    #[arg(long, default_value_t = 1_000_000)]
    pub load_dossiers: usize,
}

/// xorshift64*: deterministic, fast, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One generated dossier as an operator would have sent it.
struct Raw {
    numero: String,
    lot: Lot,
    region: Lot,
    uo: WorkUnit,
    person: u64,
    statut: &'static str,
    categorie: &'static str,
    engagement: NaiveDate,
    cloture: Option<NaiveDate>,
    motif: Option<&'static str>,
    order: String,
    livrable: bool,
    prestations: &'static str,
    types: &'static str,
    rdv: Option<NaiveDate>,
    first_interaction: Option<NaiveDate>,
}

const STATUTS: [&str; 6] = ["CDI", "CDI", "CDI", "CDD", "INTERIM", "AUTRE"];
const CATEGORIES: [&str; 6] = ["2", "3", "4", "5", "5", "6"];

fn order_ref(lot: Lot, uo: WorkUnit, year: i32) -> String {
    format!("{year}-Lot{lot}-UO{}-01", uo.column_code())
}

fn generate(n: usize, seed: u64, cutoff: NaiveDate) -> Vec<Raw> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let first = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let span = (cutoff - first).num_days() as u64;
    let persons = (n as u64 * 2 / 3).max(1);
    let mut counters = [0u32; 19 * 4];
    (0..n)
        .map(|_| {
            let lot = Lot::new(rng.below(19) as u8 + 1).expect("lot");
            let region = if lot.is_backup() {
                Lot::new(rng.below(18) as u8 + 1).expect("lot")
            } else {
                lot
            };
            let uo = match rng.below(100) {
                0..50 => WorkUnit::Uo0,
                50..80 => WorkUnit::Uo1,
                80..95 => WorkUnit::Uo21,
                _ => WorkUnit::Uo22,
            };
            let engagement = first + Duration::days(rng.below(span) as i64);
            let dl = deadline(uo, engagement, Some(engagement)).expect("deadline");
            let room = (dl - engagement).num_days().max(1) as u64;
            let (cloture, motif) = match rng.below(100) {
                0..65 => (
                    Some(engagement + Duration::days(rng.below(room) as i64)),
                    Some("LIVRABLE_SIGNE"),
                ),
                65..72 => (
                    Some(engagement + Duration::days(rng.below(room + 30) as i64)),
                    Some("ABANDON_DELAI"),
                ),
                _ => (None, None),
            };
            let cloture = cloture.filter(|c| *c <= cutoff);
            let slot = usize::from(lot.number() - 1) * 4 + cep_indicators::inputs::uo_index(uo);
            counters[slot] += 1;
            let rdv = rng
                .chance(80)
                .then(|| engagement - Duration::days(rng.below(40) as i64));
            Raw {
                numero: format!(
                    "{:02}{}{}{:06}",
                    lot.number(),
                    engagement.format("%y%m"),
                    uo.dossier_code(),
                    counters[slot] % 1_000_000
                ),
                lot,
                region,
                uo,
                person: rng.below(persons),
                statut: STATUTS[rng.below(STATUTS.len() as u64) as usize],
                categorie: CATEGORIES[rng.below(CATEGORIES.len() as u64) as usize],
                engagement,
                cloture,
                motif: cloture.and(motif),
                order: order_ref(lot, uo, chrono::Datelike::year(&engagement)),
                livrable: rng.chance(90),
                prestations: if rng.chance(40) {
                    "FORMATION"
                } else {
                    "AUCUNE"
                },
                types: if rng.chance(50) {
                    "PMSMP|ANALYSE_C2P"
                } else {
                    "IDENTIFICATION_COMPETENCES"
                },
                rdv,
                first_interaction: rdv.map(|r| r + Duration::days(rng.below(50) as i64)),
            }
        })
        .collect()
}

/// The facts the loader would derive (effective closure by the domain; a voluntary closure
/// of an eligible dossier with its deliverable is billable — no exhaustion in this data).
fn facts(raw: &[Raw], cutoff: NaiveDate) -> Vec<DossierFacts> {
    raw.iter()
        .map(|r| {
            let dates =
                UnitDates::of_fiche(r.uo, r.engagement, Some(r.engagement), r.cloture, r.motif);
            let closure = dates.effective_closure(cutoff);
            let voluntary = closure.is_some_and(|c| c.kind == cep_domain::ClosureKind::Voluntary);
            let eligible = r.statut != "AUTRE";
            let needs_deliverable = matches!(r.uo, WorkUnit::Uo1 | WorkUnit::Uo21);
            DossierFacts {
                numero: r.numero.clone(),
                lot: r.lot,
                region: r.region,
                uo: r.uo,
                person: format!("NP{:016x}", r.person),
                statut: r.statut.to_owned(),
                categorie_sociale: Some(r.categorie.to_owned()),
                horodatage: r.engagement.and_hms_opt(12, 0, 0).expect("time"),
                eligible,
                engagement: r.engagement,
                deadline: dates.deadline,
                closure: closure.map(|c| c.date),
                voluntary,
                order: Some(r.order.clone()),
                consumes: (voluntary && eligible && (r.livrable || !needs_deliverable))
                    .then(|| r.order.clone()),
                complementary: r.prestations != "AUCUNE",
                auto_prescription: Some(r.livrable),
                types_service: r.types.split('|').map(str::to_owned).collect(),
                rdv_request: r.rdv,
                first_interaction: r.first_interaction,
                rdv_delay: r
                    .rdv
                    .zip(r.first_interaction)
                    .map(|(a, b)| (b - a).num_days() * 5 / 7),
            }
        })
        .collect()
}

fn orders() -> Vec<OrderFacts> {
    let mut out = Vec::new();
    for lot in Lot::all() {
        for uo in WorkUnit::ALL {
            for year in [2024, 2025] {
                out.push(OrderFacts {
                    reference: order_ref(lot, uo, year),
                    lot,
                    uo,
                    notified: NaiveDate::from_ymd_opt(year - 1, 12, 1).expect("date"),
                    quantity: 40_000,
                    start: NaiveDate::from_ymd_opt(year, 1, 1).expect("date"),
                    end: NaiveDate::from_ymd_opt(year, 12, 31).expect("date"),
                });
            }
        }
    }
    out
}

fn populations() -> Vec<PopulationFacts> {
    Lot::regional()
        .map(|region| PopulationFacts {
            region,
            year: 2025,
            dimension: Dimension::Total,
            code: String::new(),
            active: Some(1_500_000),
            target: Some(1_000_000),
        })
        .collect()
}

pub fn run(args: &IndicatorBenchArgs) -> Result<()> {
    let cutoff = args.month.succ().first_day() + Duration::days(4);
    println!(
        "Indicators of {} at a cut-off on {cutoff}, {} dossiers in memory (seed {}):",
        args.month, args.dossiers, args.seed
    );
    let t = Instant::now();
    let raw = generate(args.dossiers, args.seed, cutoff);
    let inputs = Inputs {
        dossiers: facts(&raw, cutoff),
        orders: orders(),
        populations: populations(),
        ..Default::default()
    };
    drop(raw);
    println!(
        "  generated in {:.1} s (not measured)",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let prepared = Prepared::new(&inputs)?;
    let framed = t.elapsed().as_secs_f64();
    drop(inputs);
    println!("  frames built and schemas checked: {framed:.2} s");

    let t = Instant::now();
    let values = prepared.compute(Period::Month(args.month))?;
    let computed = t.elapsed().as_secs_f64();
    println!(
        "  all monthly indicators (1.1–6.8), 19 lots + national: {} values in {computed:.2} s (target < 10 s)",
        values.len()
    );
    print!("{}", crate::compute::national_table(&values));
    if args.per_indicator {
        for code in cep_indicators::compute::MONTHLY.iter() {
            let t = Instant::now();
            cep_indicators::compute::compute_one(
                &prepared.frames,
                &prepared.reference,
                Period::Month(args.month),
                code,
            )?;
            println!("    {code:<4} alone: {:.2} s", t.elapsed().as_secs_f64());
        }
    }
    if let Some(m) = crate::peak_rss_mib() {
        println!("  peak RSS of the process: {m:.0} MiB");
    }

    if let Some(server) = &args.postgres {
        cep_store::with_scratch_database(server, "cep_bench_indicators", |url| {
            load_from_postgres(url, args, cutoff)
        })?;
    }
    println!(
        "\nReproduce: cargo run --release -- bench indicators --dossiers {} --month {} --seed {}{}",
        args.dossiers,
        args.month,
        args.seed,
        args.postgres
            .as_ref()
            .map(|p| format!(" --postgres {p} --load-dossiers {}", args.load_dossiers))
            .unwrap_or_default()
    );
    Ok(())
}

/// Writes `--load-dossiers` dossiers (one fiche each) to a scratch PostgreSQL database by
/// `COPY`, then times `cep_indicators::load` as of the cut-off.
fn load_from_postgres(url: &str, args: &IndicatorBenchArgs, cutoff: NaiveDate) -> Result<()> {
    use cep_store::models::dossiers::NewFiche;
    use cep_store::models::ingest::{
        NewDossierRow, NewPerson, insert_dossiers, insert_fiches, insert_persons,
    };
    use diesel::Connection;

    let store = cep_store::Store::open_and_migrate(&cep_store::DatabaseUrl::parse(url)?, 2)?;
    let mut conn = store.conn()?;
    let t = Instant::now();
    let received: NaiveDateTime = NaiveDate::from_ymd_opt(2024, 1, 1)
        .expect("date")
        .and_hms_opt(0, 0, 0)
        .expect("time");
    let receipt = cep_store::models::receipts::NewReceipt {
        sha256: "bench",
        lot: None,
        kind: Some("DOSSIERS"),
        channel: "bench",
        file_name: "bench.csv",
        size_bytes: 0,
        received_at: received,
        received_at_override: false,
        archive_path: "",
        status: "accepted",
        lines_total: 0,
        lines_accepted: 0,
        lines_quarantined: 0,
        warnings: 0,
    }
    .insert(&mut conn)?;
    for o in orders() {
        cep_store::models::buyer::NewPurchaseOrder {
            reference: o.reference,
            lot: o.lot.to_string(),
            uo: o.uo.column_code().to_owned(),
            date_notification: o.notified,
            quantite: o.quantity,
            prix_unitaire_ht_cents: 10_000,
            taux_tva_bp: 2000,
            date_debut: o.start,
            date_fin: o.end,
            import_id: None,
            recorded_at: received,
        }
        .record(&mut conn)?;
    }
    let raw = generate(args.load_dossiers, args.seed, cutoff);
    let mut person_ids: std::collections::HashMap<(Lot, u64), i64> = Default::default();
    for chunk in raw.chunks(50_000) {
        conn.transaction::<_, crate::AppError, _>(|conn| {
            let new: Vec<(Lot, u64)> = chunk
                .iter()
                .map(|r| (r.lot, r.person))
                .filter(|k| !person_ids.contains_key(k))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut rows: Vec<NewPerson> = new
                .iter()
                .map(|(lot, p)| NewPerson {
                    id: 0,
                    lot: lot.to_string(),
                    identifiant_beneficiaire: format!("B{p}"),
                    first_seen_at: received,
                })
                .collect();
            let ids = insert_persons(conn, &mut rows)?;
            cep_store::models::link::set_national_ids(
                conn,
                &ids.iter()
                    .zip(&new)
                    .map(|(id, (_, p))| (*id, format!("NP{p:016x}")))
                    .collect::<Vec<_>>(),
            )?;
            person_ids.extend(new.into_iter().zip(ids));
            let mut dossiers: Vec<NewDossierRow> = chunk
                .iter()
                .map(|r| NewDossierRow {
                    id: 0,
                    numero_dossier: r.numero.clone(),
                    lot: r.lot.to_string(),
                    uo: r.uo.column_code().to_owned(),
                    region_lot: r.region.to_string(),
                    operator_person_id: person_ids[&(r.lot, r.person)],
                    current_horodatage_utc: None,
                    date_engagement: Some(r.engagement),
                    date_cloture: r.cloture,
                    motif_cloture: r.motif.map(str::to_owned),
                    ever_eligible: r.statut != "AUTRE",
                })
                .collect();
            let dossier_ids = insert_dossiers(conn, &mut dossiers)?;
            let fiches: Vec<NewFiche> = chunk
                .iter()
                .zip(dossier_ids)
                .enumerate()
                .map(|(i, (r, id))| fiche(r, id, receipt, i, received))
                .collect();
            insert_fiches(conn, &fiches)?;
            Ok(())
        })?;
    }
    cep_store::models::link::analyze(&mut conn)?;
    println!(
        "\nPostgreSQL {}: {} dossiers with one fiche each written by COPY in {:.1} s (not measured)",
        cep_store::DatabaseUrl::parse(url)?.masked(),
        args.load_dossiers,
        t.elapsed().as_secs_f64()
    );
    let cutoff_at = cutoff.and_hms_opt(0, 0, 0).expect("time");
    let t = Instant::now();
    let inputs = cep_indicators::load::load(&mut conn, cutoff_at, Default::default())?;
    let loaded = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let prepared = Prepared::new(&inputs)?;
    let values = prepared.compute(Period::Month(args.month))?;
    println!(
        "  loading the as-of state (latest fiche per dossier, billing verdicts, persons): {} dossiers in {loaded:.1} s; frames and indicators then {:.2} s ({} values)",
        inputs.dossiers.len(),
        t.elapsed().as_secs_f64(),
        values.len()
    );
    if let Some(m) = crate::peak_rss_mib() {
        println!("  peak RSS of the process: {m:.0} MiB");
    }
    Ok(())
}

fn fiche(
    r: &Raw,
    dossier_id: i64,
    receipt_id: i64,
    line: usize,
    received_at: NaiveDateTime,
) -> cep_store::models::dossiers::NewFiche {
    let at = r.engagement.and_hms_opt(12, 0, 0).expect("time");
    cep_store::models::dossiers::NewFiche {
        dossier_id,
        receipt_id,
        line_number: line as i64,
        horodatage: format!("{}+00:00", at.format("%Y-%m-%dT%H:%M:%S")),
        horodatage_utc: at,
        received_at,
        content_hash: format!("{dossier_id}"),
        identity_record_id: None,
        residence_departement: None,
        uo: r.uo.column_code().to_owned(),
        region_lot: Some(r.region.to_string()),
        entreprise_departement: None,
        entreprise_code_postal: None,
        entreprise_commune: None,
        structure: None,
        handicap: None,
        niveau_formation: None,
        secteur_activite: None,
        libelle_secteur: None,
        taille_entreprise: None,
        categorie_sociale: Some(r.categorie.to_owned()),
        libelle_profession: None,
        statut: r.statut.to_owned(),
        entree_entreprise: None,
        date_engagement: r.engagement,
        date_cloture: r.cloture,
        motif_cloture: r.motif.map(str::to_owned),
        numero_decompte: None,
        reference_bc: Some(format!("{}-{:05}", r.order, line % 100_000)),
        origine: None,
        motif: None,
        motif_detaille: None,
        aiguillage: None,
        date_demande_rdv: r.rdv,
        dates_interactions: r.first_interaction.map(|d| d.to_string()),
        modes_contact: None,
        numero_dossier_uo21: None,
        types_service: Some(r.types.to_owned()),
        description_service: None,
        prestations_complementaires: Some(r.prestations.to_owned()),
        auto_prescription: Some(r.livrable),
        financement_formation: None,
        decouvertes_metiers: None,
        projet_reconversion_cpir: None,
        etat_projet_cloture: None,
        livrable_sha256: r.livrable.then(|| "ab".repeat(32)),
    }
}
