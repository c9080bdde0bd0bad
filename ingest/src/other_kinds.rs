//! `RECLAMATIONS` (spec §4.2, point 25) and `MOYENS` (§4.3, point 26): small files, checked
//! and stored line by line inside the file's transaction. Each is keyed — (lot,
//! `identifiant_reclamation`) and (lot, `periode`) — with the fiche rules of points 11–13:
//! the same version again is a no-op, the same instant with other content `FICHE_CONFLICT`,
//! an older version `FICHE_STALE`.

use crate::anomaly::{AnomalyCode as C, LineAnomalies, Severity};
use crate::pipeline::{Context, IngestError, Run};
use crate::source::Item;
use crate::values;
use cep_domain::HalfYear;
use cep_domain::ids::DossierNumber;
use cep_domain::reference::RefTable;
use cep_store::schema::{complaints, means, quarantined_lines};
use cep_store::{DbConnection, StoreError};
use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

pub const COMPLAINT_COLUMNS: [&str; 8] = [
    "horodatage",
    "identifiant_reclamation",
    "numero_dossier",
    "identifiant_beneficiaire",
    "date_reception",
    "motif_reclamation",
    "date_accuse_reception",
    "date_reponse",
];
pub const COMPLAINT_REQUIRED: [&str; 5] = [
    "horodatage",
    "identifiant_reclamation",
    "identifiant_beneficiaire",
    "date_reception",
    "motif_reclamation",
];

pub const MEANS_COLUMNS: [&str; 19] = [
    "horodatage",
    "periode",
    "etp_uo0",
    "etp_uo1",
    "etp_uo21",
    "etp_uo22",
    "nb_implantations",
    "implantations",
    "autres_points_acces",
    "cout_jour_etp_uo0",
    "cout_jour_etp_uo1",
    "cout_jour_etp_uo21",
    "cout_jour_etp_uo22",
    "masse_salariale",
    "frais_immobiliers",
    "frais_si",
    "frais_promotion",
    "frais_partenariats",
    "autres_frais",
];

/// Checks common to both kinds: structure, lengths, timestamp bounds. Returns the trimmed
/// values and the fiche's instant, or `None` when the line is already quarantined.
fn start(
    run: &mut Run,
    item: Item,
    names: &[&str],
) -> Option<(u64, String, Vec<Option<String>>, LineAnomalies)> {
    run.lines += 1;
    match item {
        Item::Malformed {
            line,
            detail,
            raw,
            dossier,
        } => {
            let mut an = LineAnomalies::new(line);
            an.dossier = dossier;
            an.push(C::LineFormat, Severity::Blocking, None, &detail);
            quarantine(run, line, None, raw, an);
            None
        }
        Item::Record { line, values, raw } => {
            let mut an = LineAnomalies::new(line);
            let v: Vec<Option<String>> = values
                .iter()
                .map(|x| x.as_deref().and_then(values::trimmed).map(str::to_owned))
                .collect();
            for (i, val) in v.iter().enumerate() {
                if val.as_ref().is_some_and(|s| {
                    s.chars().count() > 200
                        && names[i] != "implantations"
                        && names[i] != "autres_points_acces"
                }) {
                    an.blocking(C::FieldTooLong, names[i], "200 caractères au plus");
                }
            }
            Some((line, raw, v, an))
        }
    }
}

fn quarantine(run: &mut Run, line: u64, key: Option<String>, raw: String, an: LineAnomalies) {
    run.quarantined += 1;
    run.pending_quarantine.push((line, key, raw));
    for a in an.list {
        run.record(a);
    }
}

fn stamp(
    v: &Option<String>,
    an: &mut LineAnomalies,
    ctx: &Context,
) -> Option<(NaiveDateTime, NaiveDate, String)> {
    let raw = v.as_deref()?;
    let Some(ts) = values::timestamp(raw) else {
        an.blocking(
            C::FieldFormat,
            "horodatage",
            &format!("« {raw} » n'est pas un horodatage AAAA-MM-JJTHH:MM:SS avec décalage horaire"),
        );
        return None;
    };
    let utc = ts.with_timezone(&Utc);
    if utc > ctx.received_at + chrono::Duration::minutes(5) {
        an.blocking(
            C::Horodatage,
            "horodatage",
            "postérieur de plus de 5 minutes à la réception du fichier",
        );
    } else if ts.date_naive() < NaiveDate::from_ymd_opt(2019, 12, 1).expect("valid") {
        an.blocking(
            C::Horodatage,
            "horodatage",
            "antérieur au 2019-12-01, début de l'accord-cadre",
        );
    }
    Some((utc.naive_utc(), ts.date_naive(), raw.to_owned()))
}

fn content_hash(v: &[Option<String>]) -> String {
    let mut h = Sha256::new();
    for x in v {
        match x {
            Some(s) => {
                h.update([1u8]);
                h.update(s.as_bytes());
            }
            None => h.update([0u8]),
        }
        h.update([0x1f]);
    }
    crate::dossier::hex(&h.finalize())
}

/// Versions of a key already stored: (instant, content hash).
type Versions = Vec<(NaiveDateTime, String)>;

/// Decides a keyed version's fate (points 12–13): `Ok(true)` to store, `Ok(false)` no-op.
fn versioning(versions: &Versions, at: NaiveDateTime, hash: &str, an: &mut LineAnomalies) -> bool {
    if let Some((_, h)) = versions.iter().find(|(t, _)| *t == at) {
        if h == hash {
            return false;
        }
        an.blocking(C::FicheConflict, "horodatage", "une autre version porte déjà cet horodatage avec un contenu différent ; donner un nouvel horodatage");
        return true;
    }
    if versions.iter().any(|(t, _)| *t > at) {
        an.warning(C::FicheStale, "horodatage", "version plus ancienne que la dernière reçue : conservée dans l'historique, sans changer l'état");
    }
    true
}

/// One `RECLAMATIONS` line.
pub fn complaint(
    conn: &mut DbConnection,
    run: &mut Run,
    ctx: &Context,
    item: Item,
) -> Result<(), IngestError> {
    let Some((line, raw, v, mut an)) = start(run, item, &COMPLAINT_COLUMNS) else {
        return Ok(());
    };
    if an.has_blocking() {
        quarantine(run, line, v[1].clone(), raw, an);
        return Ok(());
    }
    let stamp = stamp(&v[0], &mut an, ctx);
    let date = |i: usize, an: &mut LineAnomalies| -> Option<NaiveDate> {
        let s = v[i].as_deref()?;
        let d = values::date(s);
        if d.is_none() {
            an.push(
                C::FieldFormat,
                Severity::Blocking,
                Some(COMPLAINT_COLUMNS[i]),
                &format!("« {s} » n'est pas une date AAAA-MM-JJ"),
            );
        }
        d
    };
    let reception = date(4, &mut an);
    let ack = date(6, &mut an);
    let answer = date(7, &mut an);
    if let Some(m) = v[5].as_deref()
        && !RefTable::MotifReclamation.contains(m)
    {
        an.blocking(
            C::RefCode,
            "motif_reclamation",
            &format!("« {m} » n'est pas un code de la table motif_reclamation"),
        );
    }
    if let Some(n) = v[2].as_deref()
        && n.parse::<DossierNumber>().is_err()
    {
        an.warning(
            C::DossierFormat,
            "numero_dossier",
            &format!("« {n} » ne suit pas le format OOAAMMUUXXXXXX ; valeur ignorée"),
        );
    }
    for (i, c) in COMPLAINT_COLUMNS.iter().enumerate() {
        if COMPLAINT_REQUIRED.contains(c) && v[i].is_none() && !an.touches(c) {
            an.blocking(C::MissingValue, c, "valeur obligatoire");
        }
    }
    if let Some(r) = reception {
        for (d, c) in [(ack, "date_accuse_reception"), (answer, "date_reponse")] {
            if d.is_some_and(|d| d < r) {
                an.blocking(
                    C::DateOrder,
                    c,
                    "date antérieure à la réception de la réclamation",
                );
            }
        }
    }
    if let Some((_, day, _)) = &stamp {
        for (d, c) in [
            (reception, "date_reception"),
            (ack, "date_accuse_reception"),
            (answer, "date_reponse"),
        ] {
            if d.is_some_and(|d| d > *day) {
                an.blocking(
                    C::FutureDate,
                    c,
                    &format!("date postérieure au jour de l'horodatage ({day})"),
                );
            }
        }
    }
    let key = v[1].clone();
    if an.has_blocking() {
        quarantine(run, line, key, raw, an);
        return Ok(());
    }
    let (at, _, horodatage) = stamp.expect("no blocking anomaly");
    let key = key.expect("mandatory");
    let lot = ctx.lot.to_string();
    let hash = content_hash(&v);
    let versions: Versions = complaints::table
        .filter(complaints::lot.eq(&lot))
        .filter(complaints::identifiant_reclamation.eq(&key))
        .select((complaints::horodatage_utc, complaints::content_hash))
        .load(conn)
        .map_err(StoreError::query("reading complaint versions"))?;
    if !versioning(&versions, at, &hash, &mut an) {
        run.accepted += 1;
        run.unchanged += 1;
        return Ok(());
    }
    if an.has_blocking() {
        quarantine(run, line, Some(key), raw, an);
        return Ok(());
    }
    let numero = v[2].clone().filter(|n| n.parse::<DossierNumber>().is_ok());
    diesel::insert_into(complaints::table)
        .values((
            complaints::receipt_id.eq(run.receipt_id),
            complaints::line_number.eq(line as i64),
            complaints::lot.eq(&lot),
            complaints::identifiant_reclamation.eq(&key),
            complaints::horodatage.eq(&horodatage),
            complaints::horodatage_utc.eq(at),
            complaints::received_at.eq(run.received_at),
            complaints::content_hash.eq(&hash),
            complaints::numero_dossier.eq(numero),
            complaints::identifiant_beneficiaire.eq(v[3].clone().unwrap_or_default()),
            complaints::date_reception.eq(reception.expect("checked")),
            complaints::motif_reclamation.eq(v[5].clone().unwrap_or_default()),
            complaints::date_accuse_reception.eq(ack),
            complaints::date_reponse.eq(answer),
        ))
        .execute(conn)
        .map_err(StoreError::query("recording a complaint"))?;
    run.accepted += 1;
    for a in an.list {
        run.record(a);
    }
    Ok(())
}

/// One `MOYENS` line.
pub fn means(
    conn: &mut DbConnection,
    run: &mut Run,
    ctx: &Context,
    item: Item,
) -> Result<(), IngestError> {
    let Some((line, raw, v, mut an)) = start(run, item, &MEANS_COLUMNS) else {
        return Ok(());
    };
    if an.has_blocking() {
        quarantine(run, line, v[1].clone(), raw, an);
        return Ok(());
    }
    let stamp = stamp(&v[0], &mut an, ctx);
    let periode = v[1].as_deref().and_then(|p| match p.parse::<HalfYear>() {
        Ok(h) => Some(h),
        Err(_) => {
            an.blocking(
                C::FieldFormat,
                "periode",
                &format!("« {p} » n'est pas un semestre AAAA-S1 ou AAAA-S2"),
            );
            None
        }
    });
    let mut amounts = [0i64; 14];
    // etp (4), cout_jour (4), then the six amounts; all in hundredths.
    let amount_cols = [2usize, 3, 4, 5, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
    for (k, &i) in amount_cols.iter().enumerate() {
        if let Some(s) = v[i].as_deref() {
            match values::hundredths(s) {
                Some(x) => amounts[k] = x,
                None => an.blocking(
                    C::FieldFormat,
                    MEANS_COLUMNS[i],
                    &format!("« {s} » n'est pas un nombre positif avec au plus 2 décimales"),
                ),
            }
        }
    }
    let nb = v[6].as_deref().and_then(|s| {
        let n = values::count(s);
        if n.is_none() {
            an.blocking(
                C::FieldFormat,
                "nb_implantations",
                &format!("« {s} » n'est pas un entier"),
            );
        }
        n
    });
    let implantations = v[7].as_deref().map(|s| {
        let items = values::list(s).unwrap_or_default();
        let ok = !items.is_empty()
            && items.iter().all(|x| {
                x.split_once(':')
                    .is_some_and(|(cp, n)| !cp.is_empty() && values::count(n).is_some())
            });
        if !ok {
            an.blocking(
                C::FieldFormat,
                "implantations",
                "liste de code_postal:effectif séparés par | attendue",
            );
        }
        (items.len(), ok)
    });
    if let (Some(nb), Some((n, true))) = (nb, implantations)
        && nb != n as i64
    {
        an.blocking(
            C::FieldFormat,
            "nb_implantations",
            &format!("{nb} implantations déclarées pour {n} entrées dans la colonne implantations"),
        );
    }
    if let Some(s) = v[8].as_deref()
        && values::list(s).is_err()
    {
        an.blocking(
            C::FieldFormat,
            "autres_points_acces",
            "liste de codes postaux séparés par | attendue",
        );
    }
    for (i, c) in MEANS_COLUMNS.iter().enumerate() {
        if *c != "autres_points_acces" && v[i].is_none() && !an.touches(c) {
            an.blocking(C::MissingValue, c, "valeur obligatoire");
        }
    }
    let key = v[1].clone();
    if an.has_blocking() {
        quarantine(run, line, key, raw, an);
        return Ok(());
    }
    let (at, _, horodatage) = stamp.expect("no blocking anomaly");
    let periode = periode.expect("checked").to_string();
    let lot = ctx.lot.to_string();
    let hash = content_hash(&v);
    let versions: Versions = means::table
        .filter(means::lot.eq(&lot))
        .filter(means::periode.eq(&periode))
        .select((means::horodatage_utc, means::content_hash))
        .load(conn)
        .map_err(StoreError::query("reading means versions"))?;
    if !versioning(&versions, at, &hash, &mut an) {
        run.accepted += 1;
        run.unchanged += 1;
        return Ok(());
    }
    if an.has_blocking() {
        quarantine(run, line, Some(periode), raw, an);
        return Ok(());
    }
    let a = amounts;
    diesel::insert_into(means::table)
        .values((
            (
                means::receipt_id.eq(run.receipt_id),
                means::line_number.eq(line as i64),
                means::lot.eq(&lot),
                means::periode.eq(&periode),
                means::horodatage.eq(&horodatage),
                means::horodatage_utc.eq(at),
                means::received_at.eq(run.received_at),
                means::content_hash.eq(&hash),
                means::etp_uo0_hundredths.eq(a[0]),
                means::etp_uo1_hundredths.eq(a[1]),
                means::etp_uo21_hundredths.eq(a[2]),
                means::etp_uo22_hundredths.eq(a[3]),
            ),
            (
                means::nb_implantations.eq(nb.unwrap_or_default() as i32),
                means::implantations.eq(v[7].clone().unwrap_or_default()),
                means::autres_points_acces.eq(v[8].clone().unwrap_or_default()),
                means::cout_jour_etp_uo0_cents.eq(a[4]),
                means::cout_jour_etp_uo1_cents.eq(a[5]),
                means::cout_jour_etp_uo21_cents.eq(a[6]),
                means::cout_jour_etp_uo22_cents.eq(a[7]),
                means::masse_salariale_cents.eq(a[8]),
                means::frais_immobiliers_cents.eq(a[9]),
                means::frais_si_cents.eq(a[10]),
                means::frais_promotion_cents.eq(a[11]),
                means::frais_partenariats_cents.eq(a[12]),
                means::autres_frais_cents.eq(a[13]),
            ),
        ))
        .execute(conn)
        .map_err(StoreError::query("recording a means line"))?;
    run.accepted += 1;
    for x in an.list {
        run.record(x);
    }
    Ok(())
}

/// Writes the quarantined lines of the small kinds.
pub fn flush_quarantine(conn: &mut DbConnection, run: &mut Run) -> Result<(), IngestError> {
    for (line, key, raw) in std::mem::take(&mut run.pending_quarantine) {
        diesel::insert_into(quarantined_lines::table)
            .values((
                quarantined_lines::receipt_id.eq(run.receipt_id),
                quarantined_lines::line_number.eq(line as i64),
                quarantined_lines::numero_dossier.eq(key),
                quarantined_lines::raw.eq(raw),
            ))
            .execute(conn)
            .map_err(StoreError::query("recording a quarantined line"))?;
    }
    Ok(())
}
