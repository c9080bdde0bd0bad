//! `cep demo`: runs every stage the service has so far on an embedded SQLite database under
//! `{data_dir}/demo/`, and prints what it did and where the outputs are. Each stage added to
//! the service (synthetic feeds, ingestion, identity, indicators, billing, reports) extends it.

use anyhow::{Context, Result};
use cep_app::Settings;
use cep_domain::deadline::{UnitDates, deadline};
use cep_domain::{Calendar, Lot, WorkUnit, working_days_between};
use cep_ingest::buyer::{ImportKind, import};
use cep_store::{DatabaseUrl, Store};

pub fn run(settings: &Settings) -> Result<()> {
    let dir = settings.data_dir.join("demo");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Each run starts from an empty store: the demo regenerates the same feeds every time.
    for stale in ["cep.db", "cep.db-wal", "cep.db-shm", "archive", "outbox"] {
        let p = dir.join(stale);
        if p.is_dir() {
            std::fs::remove_dir_all(&p).with_context(|| format!("cannot clear {}", p.display()))?;
        } else if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("cannot clear {}", p.display()))?;
        }
    }
    let url = DatabaseUrl::Sqlite(dir.join("cep.db"));

    println!("CEP regulation service — demonstration");
    println!();
    println!("1. Store: embedded SQLite database {}", url.masked());
    let store = Store::open(&url, 2)?;
    let applied = store.migrate()?;
    println!(
        "   migrations applied now: {}; pending: {}",
        applied.len(),
        store.pending_migrations()?.len()
    );

    println!();
    println!("2. The 19 lots and their public-holiday calendars:");
    for lot in Lot::all() {
        let (code, calendar) = match lot.region() {
            Some(r) => (r.insee_code, format!("{:?}", r.calendar)),
            None => ("--", "that of the region served (region_lot)".to_string()),
        };
        println!(
            "   lot {lot}  region {code}  {:<28} calendar: {calendar}",
            lot.label()
        );
    }

    println!();
    println!("3. Deadline rules (CCTP 1.2.5–2.1), for units engaged on 31 August 2025:");
    let engaged = chrono::NaiveDate::from_ymd_opt(2025, 8, 31).expect("valid date");
    for uo in [WorkUnit::Uo0, WorkUnit::Uo1, WorkUnit::Uo21] {
        let dl = deadline(uo, engaged, None).expect("known for UO0-UO2.1");
        let unit = UnitDates {
            uo,
            engagement: engaged,
            deadline: Some(dl),
            date_cloture: None,
            motif: None,
        };
        let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).expect("valid date");
        let state = match unit.effective_closure(today) {
            Some(c) => format!("{:?} on {}", c.kind, c.date),
            None => "still open".to_string(),
        };
        println!("   {uo:<6} deadline {dl}   as of {today}: {state}");
    }
    let uo22 = deadline(
        WorkUnit::Uo22,
        engaged.succ_opt().expect("date"),
        Some(engaged),
    )
    .expect("known");
    println!("   UO2.2  deadline {uo22}   (18 months from its UO2.1's engagement)");

    println!();
    println!(
        "4. Working days from a first-appointment request to the first interaction (indicator 8.4):"
    );
    let request = chrono::NaiveDate::from_ymd_opt(2025, 4, 14).expect("valid date");
    let first = chrono::NaiveDate::from_ymd_opt(2025, 4, 22).expect("valid date");
    for (name, cal) in [
        ("metropolitan France", Calendar::Metropolitan),
        ("Alsace-Moselle", Calendar::AlsaceMoselle),
    ] {
        println!(
            "   {request} → {first}, {name}: {} working days",
            working_days_between(cal, request, first)
        );
    }

    println!();
    println!("5. Synthetic operator feeds (3 months from 2025-01, scale 0.02, all 19 lots):");
    let feeds = dir.join("feeds");
    if feeds.exists() {
        std::fs::remove_dir_all(&feeds)
            .with_context(|| format!("cannot clear {}", feeds.display()))?;
    }
    let start: cep_domain::YearMonth = "2025-01".parse().expect("valid month");
    let s = cep_synth::generate(&cep_synth::SynthConfig::new(7, start, 3, 0.02), &feeds)?;
    println!(
        "   {} persons ({} seen by several operators), {} dossiers, {} fiches in {} files",
        s.persons, s.persons_at_several_lots, s.dossiers, s.fiches, s.files
    );
    println!(
        "   feeds: {0}/inbox/L01…L19   buyer inputs: {0}/buyer   ground truth: {0}/truth",
        feeds.display()
    );

    println!();
    println!("6. Ingestion: buyer-side registry, then every feed file, lot by lot:");
    for kind in [
        ImportKind::Operators,
        ImportKind::PurchaseOrders,
        ImportKind::Surveys,
        ImportKind::MysteryContacts,
        ImportKind::DeliverableControls,
        ImportKind::Populations,
    ] {
        let file = format!("{}.csv", kind.as_str());
        let o = import(&store, kind, &feeds.join("buyer").join(file))?;
        println!("   {}: {} rows imported", kind.as_str(), o.new);
    }
    let ingestor = cep_app::receive::ingestor(store.clone(), &dir);
    let files = cep_app::receive::collect(&[feeds.join("inbox")], None)?;
    let mut per_lot: std::collections::BTreeMap<Lot, cep_app::receive::Totals> = Default::default();
    let started = std::time::Instant::now();
    // Through the service's pipeline: identities are resolved once all files are in.
    cep_app::receive::files(&ingestor, &files, None, &mut |i, r| {
        per_lot.entry(files[i].0).or_default().add(r);
    })?;
    println!("   lot  files  rejected  lines  quarantined  warnings");
    for (lot, t) in &per_lot {
        println!(
            "   {lot}   {:>5}  {:>8}  {:>5}  {:>11}  {:>8}",
            t.files, t.rejected, t.lines, t.quarantined, t.warnings
        );
    }
    println!(
        "   {} files in {:.1} s; processing reports: {}/L01…L19",
        files.len(),
        started.elapsed().as_secs_f64(),
        ingestor.outbox().display()
    );

    println!();
    println!("7. Identity resolution: one national person behind the operators' beneficiary ids:");
    let summary = cep_link::run::run(&store, cep_link::Mode::Full, &cep_link::Settings::default())?;
    println!(
        "   {} operator persons → {} national persons, {} of them found at several operators ({:.1} s)",
        summary.records,
        summary.persons.unwrap_or_default(),
        summary.persons_several_lots.unwrap_or_default(),
        summary.seconds
    );
    let linkage = cep_store::models::link::linkage(&mut *store.conn()?)?;
    let truth = std::fs::read_to_string(feeds.join("truth/persons.csv"))
        .context("reading the demo's truth/persons.csv")?;
    let truth: std::collections::HashMap<(&str, &str), &str> = truth
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split(';');
            Some(((f.next()?, f.next()?), f.next()?))
        })
        .collect();
    let (mut predicted, mut actual, mut lots) = (vec![], vec![], vec![]);
    for (lot, ident, person) in &linkage {
        if let (Some(p), Some(t)) = (person, truth.get(&(lot.as_str(), ident.as_str()))) {
            predicted.push(p.as_str());
            actual.push(*t);
            lots.push(lot.as_str());
        }
    }
    let a = cep_link::eval::accuracy(&predicted, &actual, &lots);
    println!(
        "   against the generator's truth: pairwise precision {:.3}, recall {:.3}; B-cubed F1 {:.3} ({} true pairs)",
        a.pairwise.precision,
        a.pairwise.recall,
        a.bcubed.f1(),
        a.true_pairs
    );
    println!(
        "   export: cep link export --out FILE (lot;identifiant_beneficiaire;national_person_id)"
    );

    println!();
    // The demo's files were received now: the cut-off is now.
    let cutoff = cep_store::models::now_utc();
    println!(
        "8. Billing at the cut-off {} UTC (billable closures, purchase-order consumption):",
        cutoff.format("%Y-%m-%d %H:%M")
    );
    let quarter: cep_domain::Quarter = "2025-T1".parse().expect("valid quarter");
    let half: cep_domain::HalfYear = "2025-S1".parse().expect("valid half-year");
    let billing = cep_app::billing::bill(
        &store,
        cutoff,
        cep_domain::billable::BillingRules::default(),
        &cep_billing::bonus::BonusScheme::default(),
        &[quarter],
        Some(half),
        &dir.join("billing"),
    )?;
    println!(
        "   {} closed units, {} billable, {} orders; {} alert(s) at 80 % or 100 %",
        billing.units,
        billing.billable,
        billing.orders,
        billing.alerts.len()
    );
    println!(
        "   {quarter}: {} consumption statements, {} € TTC in all; {} reconciliation finding(s) against the operators' statement numbers",
        billing.statements,
        cep_billing::export::euros(billing.amount_ttc_cents),
        billing.findings
    );
    println!(
        "   {half}: quality bonuses {} € HT in all (default scheme, an assumption until the CCAP's values are entered)",
        cep_billing::export::euros(billing.bonus_ht_cents.unwrap_or_default())
    );
    println!(
        "   units.csv, orders.csv, statements/, reconciliation.csv, bonus.csv: {}",
        dir.join("billing").display()
    );

    println!();
    println!(
        "9. Indicators (CCTP 4.3) of the generated months at the same cut-off, stored as runs:"
    );
    let indicators = dir.join("indicators");
    std::fs::create_dir_all(&indicators)
        .with_context(|| format!("cannot create {}", indicators.display()))?;
    let started = std::time::Instant::now();
    let mut periods: Vec<cep_indicators::Period> = (0..3)
        .map(|i| cep_indicators::Period::Month(start.plus(i)))
        .collect();
    periods.push(cep_indicators::Period::Half(half));
    let mut table: Vec<(cep_indicators::Period, Vec<cep_indicators::IndicatorValue>)> = vec![];
    for c in cep_app::compute::compute_all(&store, &periods, cutoff, Default::default())? {
        let period: cep_indicators::Period = c.run.period.parse()?;
        let file = indicators.join(format!("indicators_{period}.csv"));
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(&file).with_context(|| format!("creating {}", file.display()))?,
        );
        cep_indicators::write_csv(&mut out, period, cutoff, &c.values)
            .with_context(|| format!("writing {}", file.display()))?;
        table.push((period, c.values));
    }
    println!(
        "   {} runs computed in {:.1} s; national values (— where there is no denominator):",
        table.len(),
        started.elapsed().as_secs_f64()
    );
    print_national_table(&table);
    println!(
        "   every lot's values: {}/indicators_AAAA-MM.csv; drill-down: cep compute --month 2025-03 --drill 1.2 --lot 08",
        indicators.display()
    );

    println!();
    println!(
        "10. Committee documents (PDF) of {}, at the same cut-off:",
        start.plus(2)
    );
    let reports = dir.join("reports");
    if reports.exists() {
        std::fs::remove_dir_all(&reports)
            .with_context(|| format!("cannot clear {}", reports.display()))?;
    }
    let started = std::time::Instant::now();
    let renderer = cep_reports::Renderer::new();
    let now = cep_store::models::now_utc();
    let mut written = Vec::new();
    for (period, lot) in [
        (cep_reports::Period::Month(start.plus(2)), None),
        (
            cep_reports::Period::Quarter(quarter),
            Some(Lot::new(8).expect("lot 08")),
        ),
    ] {
        let request = cep_app::publish::Request {
            period,
            lot,
            cutoff,
            recipients: &[],
            folder: Some(&reports),
        };
        written.extend(
            cep_app::publish::publish(&store, &renderer, &settings.billing, request, now)?.files,
        );
    }
    println!(
        "   {} documents in {:.1} s (a follow-up report per lot, the national summary, lot 08's statements): {}",
        written.len(),
        started.elapsed().as_secs_f64(),
        reports.display()
    );
    println!("   others: cep report --half 2025-S1 | --year 2025 | --quarter 2025-T1 --out DIR");

    println!();
    println!("Outputs: {}", dir.display());
    Ok(())
}

/// One line per indicator code, one column per period: the national value.
fn print_national_table(table: &[(cep_indicators::Period, Vec<cep_indicators::IndicatorValue>)]) {
    let national = |values: &[cep_indicators::IndicatorValue], code: &str| {
        values
            .iter()
            .find(|v| v.code == code && v.lot == "national" && v.category.is_empty())
            .map(|v| match v.value {
                Some(x) => cep_indicators::run::round6(x),
                None => "—".to_owned(),
            })
    };
    let mut header = format!("   {:<5}", "code");
    for (p, _) in table {
        header.push_str(&format!(" {:>10}", p.to_string()));
    }
    println!("{header}");
    let codes = cep_domain::indicator::CATALOGUE.iter().map(|i| i.code);
    for code in codes {
        if matches!(code, "2.3" | "2.4" | "8.2") {
            continue;
        }
        let mut line = format!("   {code:<5}");
        for (_, values) in table {
            line.push_str(&format!(
                " {:>10}",
                national(values, code).unwrap_or_default()
            ));
        }
        println!("{line}");
    }
}
