//! Writes the dataset: daily operator files in the inbox layout, buyer-side inputs, ground truth.

use crate::lifecycle::{Dataset, Dossier, Injection};
use crate::{Summary, SummaryCounts, SynthConfig, SynthError};
use cep_domain::{Lot, Nir, WorkUnit, YearMonth};
use chrono::{Datelike, Duration, NaiveDate};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub(crate) const DOSSIERS_HEADER: &str = "horodatage;numero_dossier;uo;region_lot;identifiant_beneficiaire;nir;nom;nom_usage;prenom;sexe;date_naissance;adresse_numero;adresse_type_voie;adresse_voie;adresse_commune;adresse_code_postal;entreprise_departement;entreprise_code_postal;entreprise_commune;structure;handicap;niveau_formation;secteur_activite;libelle_secteur;taille_entreprise;categorie_sociale;libelle_profession;statut;entree_entreprise;email;telephone;date_engagement;date_cloture;motif_cloture;numero_decompte;reference_bc;origine;motif;motif_detaille;aiguillage;date_demande_rdv;dates_interactions;modes_contact;numero_dossier_uo21;types_service;description_service;prestations_complementaires;auto_prescription;financement_formation;decouvertes_metiers;projet_reconversion_cpir;etat_projet_cloture;livrable_sha256";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SynthError + '_ {
    move |source| SynthError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Quotes a CSV field when it needs it (`;`, quote, line end).
fn field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// Central European time offset of a day (last Sunday of March to last Sunday of October).
fn paris_offset(day: NaiveDate) -> &'static str {
    if cep_domain::paris::summer_time_on(day) {
        "+02:00"
    } else {
        "+01:00"
    }
}

fn horodatage(day: NaiveDate, seconds: u32) -> String {
    format!(
        "{day}T{:02}:{:02}:{:02}{}",
        18 + seconds / 3600,
        (seconds / 60) % 60,
        seconds % 60,
        paris_offset(day)
    )
}

/// The fiche of `d` as it stands on `day`: one CSV line (without line end).
fn fiche_line(ds: &Dataset, d: &Dossier, index: usize, day: NaiveDate, stamp: &str) -> Vec<String> {
    let op = &ds.operator_persons[d.op_person as usize];
    let id = &op.identity;
    let inj = d.injection;
    let closed = d.closure.filter(|(c, _)| *c <= day);
    let (date_cloture, motif) = match closed {
        Some((c, m)) => (c.to_string(), m.to_string()),
        None => (String::new(), String::new()),
    };
    let statut = match d.statut_change {
        Some((when, s)) if when <= day => s,
        _ if inj == Some(Injection::Ineligible) => "AGENT_PUBLIC",
        _ => d.statut,
    };
    let inter: Vec<&(NaiveDate, &str)> = d.interactions.iter().filter(|(x, _)| *x <= day).collect();
    let join = |v: &[&str]| v.join("|");
    let second = d.uo.is_second_level();
    let mut numero = d.numero.clone();
    if inj == Some(Injection::DossierMois) {
        let prev = YearMonth::of(d.engagement).plus(-1);
        // Counter moved to 9xxxxx so that it cannot collide with a real dossier of that month.
        numero = format!(
            "{}{:02}{:02}{}9{}",
            &d.numero[..2],
            prev.year() % 100,
            prev.month(),
            &d.numero[6..8],
            &d.numero[9..]
        );
    }
    let reference = match inj {
        Some(Injection::BcUnknown) => format!(
            "{}-Lot{}-UO{}-{:02}-{:05}",
            d.engagement.year(),
            d.lot,
            d.uo.column_code(),
            97,
            index % 99_999 + 1
        ),
        Some(Injection::BcMismatch) => {
            let other = if d.uo == WorkUnit::Uo0 {
                WorkUnit::Uo1
            } else {
                WorkUnit::Uo0
            };
            // An existing order of the same lot but another UO (sequence kept out of the normal range).
            format!(
                "{}-Lot{}-UO{}-01-{:05}",
                d.engagement.year(),
                d.lot,
                other.column_code(),
                99_999 - index % 1000
            )
        }
        _ => d.reference_bc.clone(),
    };
    let decompte = if closed.is_some() && inj != Some(Injection::DecompteMissing) {
        d.decompte.clone().unwrap_or_default()
    } else {
        String::new()
    };
    let livrable = if closed.is_some() && inj != Some(Injection::LivrableMissing) {
        d.livrable.clone().unwrap_or_default()
    } else {
        String::new()
    };
    let demande = match (d.demande_rdv, inj) {
        (Some(r), Some(Injection::OptionalFieldFormat)) => {
            format!("{:02}/{:02}/{}", r.day(), r.month(), r.year())
        }
        (Some(r), _) => r.to_string(),
        (None, _) => String::new(),
    };
    let handicap = if inj == Some(Injection::OptionalRefCode) {
        "PEUT_ETRE".to_string()
    } else {
        d.attrs.handicap.to_string()
    };
    let level1 = d.uo != WorkUnit::Uo0;
    let a = &d.attrs;
    let opt = |b: bool, s: String| if b { s } else { String::new() };
    vec![
        stamp.to_string(),
        numero,
        d.uo.column_code().to_string(),
        if d.lot.is_backup() {
            d.region.to_string()
        } else {
            d.lot.to_string()
        },
        op.ident.clone(),
        id.nir.clone().unwrap_or_default(),
        id.nom.clone(),
        id.nom_usage.clone().unwrap_or_default(),
        id.prenom.clone(),
        id.sexe.code().to_string(),
        id.naissance.to_string(),
        id.adresse_numero.clone(),
        id.adresse_type_voie.to_string(),
        id.adresse_voie.clone(),
        id.commune.clone(),
        id.code_postal.clone(),
        a.entreprise_departement.clone(),
        String::new(),
        String::new(),
        a.structure.clone(),
        handicap,
        a.niveau_formation.to_string(),
        a.secteur.0.to_string(),
        a.secteur.1.to_string(),
        a.taille.to_string(),
        a.categorie.to_string(),
        a.profession.to_string(),
        statut.to_string(),
        a.entree_entreprise.clone(),
        id.email.clone(),
        String::new(),
        d.engagement.to_string(),
        date_cloture,
        motif,
        decompte,
        reference,
        a.origine.to_string(),
        a.motif.to_string(),
        a.motif_detaille.to_string(),
        opt(d.uo == WorkUnit::Uo0, a.aiguillage.to_string()),
        demande,
        inter
            .iter()
            .map(|(x, _)| x.to_string())
            .collect::<Vec<_>>()
            .join("|"),
        inter.iter().map(|(_, m)| *m).collect::<Vec<_>>().join("|"),
        d.uo21.clone().unwrap_or_default(),
        opt(second, join(&a.types_service)),
        opt(
            d.uo == WorkUnit::Uo22 && closed.is_some(),
            "Accompagnement à la mise en œuvre du projet ; suivi des démarches".to_string(),
        ),
        opt(second, join(&a.prestations)),
        opt(
            second,
            if a.auto_prescription { "O" } else { "N" }.to_string(),
        ),
        opt(second, join(&a.financement)),
        opt(second, join(&a.decouvertes)),
        opt(level1, if a.cpir { "O" } else { "N" }.to_string()),
        opt(
            d.uo == WorkUnit::Uo22 && closed.is_some(),
            a.etat_projet.to_string(),
        ),
        livrable,
    ]
}

const COL_STRUCTURE: usize = 19;
const COL_STATUT: usize = 27;
const COL_PROFESSION: usize = 26;
const COL_ENGAGEMENT: usize = 31;
const COL_CLOTURE: usize = 32;
const COL_MOTIF_CLOTURE: usize = 33;
const COL_INTERACTIONS: usize = 41;
const COL_MODES: usize = 42;
const COL_UO21: usize = 43;
const COL_IDENT: usize = 4;
const COL_REGION: usize = 3;

/// The corrupted copy of a line for a blocking injection.
fn corrupt(kind: Injection, line: &mut [String], d: &Dossier, day: NaiveDate, ds: &Dataset) {
    use Injection::*;
    match kind {
        DossierFormat => line[1] = format!("{}13{}", &d.numero[..4], &d.numero[6..]),
        RefCode => line[COL_STATUT] = "SALARIE".into(),
        MissingValue => line[COL_ENGAGEMENT] = String::new(),
        DateOrder => {
            line[COL_INTERACTIONS] = format!(
                "{}|{}",
                d.engagement - Duration::days(2),
                line[COL_INTERACTIONS]
            );
            line[COL_MODES] = format!("TELEPHONE|{}", line[COL_MODES]);
        }
        Uo22WithoutUo21 => {
            line[COL_UO21] = format!("{}{}21999999", &d.numero[..2], &d.numero[2..6])
        }
        FieldFormat => line[COL_ENGAGEMENT] = format!("{}-02-30", d.engagement.year()),
        FieldTooLong => line[COL_PROFESSION] = "Conseiller ".repeat(25),
        Horodatage => line[0] = "2099-01-01T10:00:00+01:00".into(),
        FicheConflict => line[COL_STRUCTURE] = "SITE-99".into(),
        FicheImmuable => line[COL_IDENT] = format!("{}X", line[COL_IDENT]),
        DossierOperator => {
            let other = ds
                .operator_codes
                .values()
                .find(|c| **c != d.numero[..2])
                .expect("19 codes");
            line[1] = format!("{other}{}", &d.numero[2..8]) + "999998";
            line[35] = format!("{}-99999", &d.reference_bc[..d.reference_bc.len() - 6]);
        }
        RegionLot => {
            line[COL_REGION] = if d.lot.number() == 1 {
                "02".into()
            } else {
                "01".into()
            }
        }
        FutureDate => {
            line[COL_CLOTURE] = (day + Duration::days(1)).to_string();
            line[COL_MOTIF_CLOTURE] = "SOUHAIT_CLORE".into();
        }
        _ => {}
    }
}

struct Out {
    root: PathBuf,
    files: usize,
}

impl Out {
    fn create(&mut self, rel: &str) -> Result<(PathBuf, BufWriter<File>), SynthError> {
        let path = self.root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let f = File::create(&path).map_err(io(&path))?;
        self.files += 1;
        Ok((path, BufWriter::with_capacity(1 << 16, f)))
    }
}

/// Windows-1252 for the characters our data uses (Latin-1 range plus œ and the ellipsis).
fn to_cp1252(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            'œ' => 0x9c,
            'Œ' => 0x8c,
            '€' => 0x80,
            c if (c as u32) < 0x100 => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

pub(crate) fn write_all(
    config: &SynthConfig,
    ds: &Dataset,
    out: &Path,
) -> Result<Summary, SynthError> {
    let mut o = Out {
        root: out.to_path_buf(),
        files: 0,
    };
    let mut truth: Vec<(String, usize, String, &'static str, String)> = vec![];
    let mut fiches = 0usize;

    // Events per lot and day.
    let mut by_lot_day: BTreeMap<(Lot, NaiveDate), Vec<(usize, bool)>> = BTreeMap::new();
    for (i, d) in ds.dossiers.iter().enumerate() {
        for day in &d.fiche_days {
            by_lot_day
                .entry((d.lot, *day))
                .or_default()
                .push((i, false));
        }
        if d.injection == Some(Injection::FicheStale) {
            // Re-sent with the last fiche: the state of its first day, an older horodatage.
            let last = *d.fiche_days.last().expect("suits() checked");
            by_lot_day.entry((d.lot, last)).or_default().push((i, true));
        }
    }
    // File-level injections on chosen days (deterministic: first days with activity).
    let days: Vec<(Lot, NaiveDate)> = by_lot_day.keys().copied().collect();
    let pick_day = |n: usize| days.get(days.len() * n / 7).copied();
    let cp1252_day = pick_day(1);
    let unknown_col_day = pick_day(2);
    let broken_quote_day = pick_day(3);

    for ((lot, day), events) in &by_lot_day {
        let name = format!("CEP_L{lot}_DOSSIERS_{}_01.csv", day.format("%Y%m%d"));
        let rel = format!("inbox/L{lot}/{name}");
        let mut text = String::with_capacity(events.len() * 700);
        let unknown = Some((*lot, *day)) == unknown_col_day;
        text.push_str(DOSSIERS_HEADER);
        if unknown {
            text.push_str(";commentaire_interne");
            truth.push((
                rel.clone(),
                1,
                String::new(),
                "FILE_COLUMNS",
                "unknown column (warning)".into(),
            ));
        }
        text.push('\n');
        let mut line_no = 1usize;
        let push = |text: &mut String, cells: &[String], extra: bool| {
            let mut first = true;
            for c in cells {
                if !first {
                    text.push(';');
                }
                first = false;
                text.push_str(&field(c));
            }
            if extra {
                text.push_str(";note");
            }
            text.push('\n');
        };
        for &(i, stale) in events {
            let d = &ds.dossiers[i];
            let seconds = (i % 3600) as u32;
            if stale {
                let first = d.fiche_days[0];
                let line = fiche_line(ds, d, i, first, &horodatage(first, 3600 + seconds));
                push(&mut text, &line, unknown);
                line_no += 1;
                fiches += 1;
                truth.push((
                    rel.clone(),
                    line_no,
                    d.numero.clone(),
                    "FICHE_STALE",
                    "older fiche re-sent".into(),
                ));
                record_line_truth(ds, d, &line[1], first, &rel, line_no, &mut truth);
                continue;
            }
            let stamp = horodatage(*day, seconds);
            let line = fiche_line(ds, d, i, *day, &stamp);
            push(&mut text, &line, unknown);
            line_no += 1;
            fiches += 1;
            record_line_truth(ds, d, &line[1], *day, &rel, line_no, &mut truth);
            // A blocking corrupted copy right after the line it copies (on the dossier's last day
            // in the period, or its second for kinds that need an open unit).
            if let Some(kind) = d.injection.filter(|k| k.is_extra_line()) {
                let target = if matches!(kind, Injection::FieldTooLong | Injection::FutureDate) {
                    d.fiche_days[0]
                } else {
                    *d.fiche_days.last().expect("non-empty")
                };
                if target == *day {
                    let copy_stamp = if kind == Injection::FicheConflict {
                        stamp.clone()
                    } else {
                        horodatage(*day, seconds + 1)
                    };
                    let mut copy = fiche_line(ds, d, i, *day, &copy_stamp);
                    corrupt(kind, &mut copy, d, *day, ds);
                    push(&mut text, &copy, unknown);
                    line_no += 1;
                    truth.push((
                        rel.clone(),
                        line_no,
                        copy[1].clone(),
                        kind.code(),
                        "corrupted copy (blocking)".into(),
                    ));
                }
            }
        }
        if Some((*lot, *day)) == broken_quote_day
            && let Some(&(i, _)) = events.first()
        {
            {
                let d = &ds.dossiers[i];
                let mut copy = fiche_line(ds, d, i, *day, &horodatage(*day, 3599));
                copy[COL_STRUCTURE] = "SITE\"01".into();
                text.push_str(&copy.join(";"));
                text.push('\n');
                line_no += 1;
                truth.push((
                    rel.clone(),
                    line_no,
                    d.numero.clone(),
                    "LINE_FORMAT",
                    "bare quote in an unquoted field".into(),
                ));
            }
        }
        let (path, mut w) = o.create(&rel)?;
        if Some((*lot, *day)) == cp1252_day {
            w.write_all(&to_cp1252(&text)).map_err(io(&path))?;
            truth.push((
                rel.clone(),
                0,
                String::new(),
                "FILE_ENCODING",
                "Windows-1252 file (warning)".into(),
            ));
        } else {
            w.write_all(text.as_bytes()).map_err(io(&path))?;
        }
        w.flush().map_err(io(&path))?;
    }
    // A file with a bad name, and an empty file: both rejected whole.
    if let Some((lot, day)) = pick_day(4) {
        let rel = format!(
            "inbox/L{lot}/CEP_L{lot}_DOSSIER_{}_1.csv",
            day.format("%Y%m%d")
        );
        let (path, mut w) = o.create(&rel)?;
        w.write_all(format!("{DOSSIERS_HEADER}\n").as_bytes())
            .map_err(io(&path))?;
        truth.push((
            rel,
            0,
            String::new(),
            "FILE_NAME",
            "name does not follow the pattern".into(),
        ));
    }
    if let Some((lot, day)) = pick_day(5) {
        let rel = format!(
            "inbox/L{lot}/CEP_L{lot}_DOSSIERS_{}_02.csv",
            day.format("%Y%m%d")
        );
        o.create(&rel)?;
        truth.push((
            rel,
            0,
            String::new(),
            "FILE_FORMAT",
            "empty file (no header)".into(),
        ));
    }
    write_complaints(ds, &mut o)?;
    write_means(config, ds, &mut o)?;
    write_buyer(config, ds, &mut o)?;
    let counts = write_truth(ds, &truth, &mut o)?;
    Ok(Summary {
        persons: ds.persons.len(),
        operator_persons: ds.operator_persons.len(),
        dossiers: ds.dossiers.len(),
        fiches,
        files: o.files,
        injected: truth.len(),
        persons_at_several_lots: counts.multi_lot_persons,
    })
}

/// Anomalies that the data itself carries on a normal line.
fn record_line_truth(
    ds: &Dataset,
    d: &Dossier,
    numero: &str,
    day: NaiveDate,
    rel: &str,
    line: usize,
    truth: &mut Vec<(String, usize, String, &'static str, String)>,
) {
    let mut add = |code: &'static str, note: &str| {
        truth.push((
            rel.to_owned(),
            line,
            numero.to_owned(),
            code,
            note.to_owned(),
        ))
    };
    let closed = d.closure.is_some_and(|(c, _)| c <= day);
    match d.injection {
        Some(
            k @ (Injection::Ineligible
            | Injection::BcUnknown
            | Injection::BcMismatch
            | Injection::BcDuplicate
            | Injection::DossierMois
            | Injection::OptionalFieldFormat
            | Injection::OptionalRefCode),
        ) => add(k.code(), "injected"),
        Some(k @ (Injection::LivrableMissing | Injection::DecompteMissing)) if closed => {
            add(k.code(), "injected")
        }
        Some(Injection::Deadline) if closed => add("DEADLINE", "injected"),
        _ => {}
    }
    if d.facts.contains(&"INELIGIBLE_UO0") {
        add("INELIGIBLE", "UO0 of an ineligible status");
    }
    let id = &ds.operator_persons[d.op_person as usize].identity;
    if let Some(nir) = &id.nir {
        match Nir::parse(nir) {
            Err(e) if e.is_key_error() => add("NIR_KEY", "NIR with a wrong key"),
            Ok(n) if !n.mismatches(Some(id.sexe), Some(id.naissance)).is_empty() => {
                add("NIR_MISMATCH", "birth date drifted")
            }
            _ => {}
        }
    }
}

fn write_complaints(ds: &Dataset, o: &mut Out) -> Result<(), SynthError> {
    // A version on the reception day, then a new one on the acknowledgment and answer days.
    let mut by: BTreeMap<(Lot, NaiveDate), Vec<&crate::lifecycle::Complaint>> = BTreeMap::new();
    for c in &ds.complaints {
        let mut days = vec![c.reception];
        days.extend(c.ack);
        days.extend(c.answer);
        days.sort_unstable();
        days.dedup();
        for day in days {
            by.entry((c.lot, day)).or_default().push(c);
        }
    }
    for ((lot, day), list) in by {
        let rel = format!(
            "inbox/L{lot}/CEP_L{lot}_RECLAMATIONS_{}_01.csv",
            day.format("%Y%m%d")
        );
        let (path, mut w) = o.create(&rel)?;
        let mut text = String::from(
            "horodatage;identifiant_reclamation;numero_dossier;identifiant_beneficiaire;date_reception;motif_reclamation;date_accuse_reception;date_reponse\n",
        );
        for c in list {
            let d = &ds.dossiers[c.dossier as usize];
            let op = &ds.operator_persons[d.op_person as usize];
            let ack = c
                .ack
                .filter(|a| *a <= day)
                .map(|a| a.to_string())
                .unwrap_or_default();
            let ans = c
                .answer
                .filter(|a| *a <= day)
                .map(|a| a.to_string())
                .unwrap_or_default();
            text.push_str(&format!(
                "{};{};{};{};{};{};{};{}\n",
                horodatage(day, 10),
                c.id,
                d.numero,
                op.ident,
                c.reception,
                c.motif,
                ack,
                ans
            ));
        }
        w.write_all(text.as_bytes()).map_err(io(&path))?;
        w.flush().map_err(io(&path))?;
    }
    Ok(())
}

fn write_means(config: &SynthConfig, ds: &Dataset, o: &mut Out) -> Result<(), SynthError> {
    let mut half = YearMonth::of(ds.start).half_year();
    while half.first_day() <= ds.end {
        let day = half.last_day().min(ds.end);
        for lot in config.lots.iter().copied() {
            // The backup lot serves a small share of its region's activity (and its MOYENS file
            // must not be byte-identical to the region's own: files are content-addressed).
            let size = crate::lifecycle::employment_thousands(if lot.is_backup() {
                Lot::parse("17").expect("lot")
            } else {
                lot
            }) * if lot.is_backup() { 0.1 } else { 1.0 };
            let etp = |f: f64| format!("{:.2}", (size * f * config.scale).max(0.5));
            let rel = format!(
                "inbox/L{lot}/CEP_L{lot}_MOYENS_{}_01.csv",
                day.format("%Y%m%d")
            );
            let (path, mut w) = o.create(&rel)?;
            let text = format!(
                "horodatage;periode;etp_uo0;etp_uo1;etp_uo21;etp_uo22;nb_implantations;implantations;autres_points_acces;cout_jour_etp_uo0;cout_jour_etp_uo1;cout_jour_etp_uo21;cout_jour_etp_uo22;masse_salariale;frais_immobiliers;frais_si;frais_promotion;frais_partenariats;autres_frais\n{};{half};{};{};{};{};2;{}:{}|{}:{};;380.00;420.00;450.00;450.00;{:.2};{:.2};{:.2};{:.2};{:.2};{:.2}\n",
                horodatage(day, 20),
                etp(0.002),
                etp(0.004),
                etp(0.005),
                etp(0.003),
                crate::identity::places(if lot.is_backup() {
                    Lot::parse("17").expect("lot")
                } else {
                    lot
                })[0]
                    .0,
                6,
                crate::identity::places(if lot.is_backup() {
                    Lot::parse("17").expect("lot")
                } else {
                    lot
                })[1]
                    .0,
                3,
                size * 900.0 * config.scale,
                size * 120.0 * config.scale,
                size * 60.0 * config.scale,
                size * 30.0 * config.scale,
                size * 25.0 * config.scale,
                size * 15.0 * config.scale,
            );
            w.write_all(text.as_bytes()).map_err(io(&path))?;
            w.flush().map_err(io(&path))?;
        }
        half = half.last_month().succ().half_year();
    }
    Ok(())
}

fn write_buyer(config: &SynthConfig, ds: &Dataset, o: &mut Out) -> Result<(), SynthError> {
    let mut text = String::from("lot;code_operateur;nom;date_debut;date_fin\n");
    for (lot, code) in &ds.operator_codes {
        text.push_str(&format!(
            "{lot};{code};Titulaire du lot {lot} ({});2019-12-01;\n",
            lot.label()
        ));
    }
    put(o, "buyer/operators.csv", &text)?;

    let mut text = String::from(
        "reference;date_notification;quantite;prix_unitaire_ht;taux_tva;date_debut;date_fin\n",
    );
    let mut orders: Vec<_> = ds.orders.iter().collect();
    orders.sort_by(|a, b| a.reference.cmp(&b.reference));
    for ord in &orders {
        // Orders of the UO0 and UO1 kind also exist for the BC_MISMATCH injections to point at.
        text.push_str(&format!(
            "{};{}-12-15;{};{}.{:02};0.20;{}-01-01;{}-12-31\n",
            ord.reference,
            ord.year - 1,
            ord.quantity,
            ord.price_cents / 100,
            ord.price_cents % 100,
            ord.year,
            ord.year
        ));
    }
    put(o, "buyer/purchase-orders.csv", &text)?;

    // Surveys for most closed UO1/UO2, mystery contacts, deliverable controls.
    let mut surveys = String::from("numero_dossier;uo;date_reponse;qualite;utilite\n");
    let mut controls = String::from("numero_dossier;date_controle;conforme\n");
    for (i, d) in ds.dossiers.iter().enumerate() {
        let Some((c, m)) = d.closure else { continue };
        if d.uo == WorkUnit::Uo0 || m == "ABANDON_DELAI" || d.injection.is_some() {
            continue;
        }
        let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ config.seed;
        let answer = c + Duration::days(7 + (h % 21) as i64);
        if h % 10 < 7 && answer <= ds.end {
            let rate = ds.satisfaction[&d.lot];
            let good = ((h >> 8) % 1000) as f64 / 1000.0 < rate;
            let useful = good || (h >> 20).is_multiple_of(3);
            surveys.push_str(&format!(
                "{};{};{};{};{}\n",
                d.numero,
                d.uo.column_code(),
                answer,
                if good { "O" } else { "N" },
                if useful { "O" } else { "N" }
            ));
        }
        if d.livrable.is_some() && (h >> 32).is_multiple_of(20) && answer <= ds.end {
            controls.push_str(&format!(
                "{};{};{}\n",
                d.numero,
                answer,
                if (h >> 40).is_multiple_of(10) {
                    "N"
                } else {
                    "O"
                }
            ));
        }
    }
    put(o, "buyer/surveys.csv", &surveys)?;
    put(o, "buyer/deliverable-controls.csv", &controls)?;

    let mut mystery = String::from("lot;date;numero;conforme\n");
    let mut m = YearMonth::of(ds.start);
    while m.first_day() <= ds.end {
        for lot in &config.lots {
            for n in 1..=3u32 {
                let day = m.first_day() + Duration::days(i64::from(n) * 7);
                let ok = !(u32::from(lot.number()) + n + m.month()).is_multiple_of(7);
                mystery.push_str(&format!("{lot};{day};{n};{}\n", if ok { "O" } else { "N" }));
            }
        }
        m = m.succ();
    }
    put(o, "buyer/mystery-contacts.csv", &mystery)?;

    let mut pops = String::from(
        "lot;annee;dimension;code;population_active;population_active_occupee;population_cible_cep\n",
    );
    for year in ds.start.year()..=ds.end.year() {
        for lot in Lot::regional() {
            let emp = crate::lifecycle::employment_thousands(lot) * 1000.0;
            pops.push_str(&format!(
                "{lot};{year};total;;{};{};{}\n",
                (emp * 1.09) as i64,
                emp as i64,
                (emp * 0.78) as i64
            ));
            for (code, share) in [
                ("1", 0.015),
                ("2", 0.06),
                ("3", 0.21),
                ("4", 0.26),
                ("5", 0.27),
                ("6", 0.185),
            ] {
                pops.push_str(&format!(
                    "{lot};{year};categorie_sociale;{code};;;{}\n",
                    (emp * 0.78 * share) as i64
                ));
            }
        }
    }
    put(o, "buyer/populations.csv", &pops)?;
    Ok(())
}

fn put(o: &mut Out, rel: &str, text: &str) -> Result<(), SynthError> {
    let (path, mut w) = o.create(rel)?;
    w.write_all(text.as_bytes()).map_err(io(&path))?;
    w.flush().map_err(io(&path))
}

fn write_truth(
    ds: &Dataset,
    truth: &[(String, usize, String, &'static str, String)],
    o: &mut Out,
) -> Result<SummaryCounts, SynthError> {
    let mut text = String::from("lot;identifiant_beneficiaire;person;corruptions\n");
    let mut lots_per_person: BTreeMap<u32, Vec<Lot>> = BTreeMap::new();
    for op in &ds.operator_persons {
        text.push_str(&format!(
            "{};{};P{:08};{}\n",
            op.lot,
            op.ident,
            op.person,
            op.corruptions.join("|")
        ));
        lots_per_person.entry(op.person).or_default().push(op.lot);
    }
    put(o, "truth/persons.csv", &text)?;
    let mut text = String::from("file;line;numero_dossier;code;note\n");
    for (file, line, numero, code, note) in truth {
        text.push_str(&format!(
            "{file};{};{numero};{code};{note}\n",
            if *line == 0 {
                String::new()
            } else {
                line.to_string()
            }
        ));
    }
    put(o, "truth/anomalies.csv", &text)?;
    let mut text = String::from("numero_dossier;fact\n");
    for d in &ds.dossiers {
        for f in &d.facts {
            text.push_str(&format!("{};{f}\n", d.numero));
        }
    }
    for c in ds.complaints.iter().filter(|c| c.escalated) {
        text.push_str(&format!(
            "{};ESCALATED_COMPLAINT {}\n",
            ds.dossiers[c.dossier as usize].numero, c.id
        ));
    }
    if let Some((region, from, to)) = ds.takeover {
        text.push_str(&format!(
            ";LOT19_TAKEOVER region {region} from {from} to {to}\n"
        ));
    }
    put(o, "truth/facts.csv", &text)?;
    Ok(SummaryCounts {
        multi_lot_persons: lots_per_person.values().filter(|l| l.len() > 1).count(),
    })
}
