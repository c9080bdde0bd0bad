//! `cep link`: identity resolution over the store, its export, analysts' decisions and the
//! history of merges and splits.

use anyhow::{Context, Result, bail};
use cep_link::{Mode, RunSummary, Settings};
use cep_store::Store;
use cep_store::models::link::{LinkEvent, linkage};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LinkArgs {
    /// Link every operator person again and re-estimate the model (default: only those without
    /// a national id, against the others, with the last run's model).
    #[arg(long)]
    pub full: bool,
    #[command(subcommand)]
    pub command: Option<LinkCommand>,
}

#[derive(Debug, clap::Subcommand)]
pub enum LinkCommand {
    /// Write lot;identifiant_beneficiaire;national_person_id for every operator person (CSV,
    /// `;`, UTF-8 with BOM).
    Export {
        #[arg(long)]
        out: PathBuf,
    },
    /// Record an analyst's decision: two beneficiaries are the same person, or are not. Every
    /// later `cep link` respects it (the next run applies it).
    Decide {
        /// First beneficiary as LOT/IDENTIFIANT, e.g. 01/IF-000123.
        a: String,
        /// Second beneficiary as LOT/IDENTIFIANT.
        b: String,
        #[arg(
            long,
            conflicts_with = "not_same",
            required_unless_present = "not_same"
        )]
        same: bool,
        #[arg(long)]
        not_same: bool,
        /// Who decides (recorded with the decision).
        #[arg(long)]
        by: String,
        /// Why (recorded with the decision).
        #[arg(long)]
        reason: String,
    },
    /// List the merges and splits of national person ids, all or one person's.
    History {
        #[arg(long)]
        person: Option<String>,
    },
}

fn beneficiary(s: &str) -> Result<(String, String)> {
    let (lot, id) = s
        .split_once('/')
        .with_context(|| format!("{s:?}: expected LOT/IDENTIFIANT, e.g. 01/IF-000123"))?;
    let lot = cep_domain::Lot::parse(lot).with_context(|| format!("{s:?}: unknown lot"))?;
    if id.is_empty() {
        bail!("{s:?}: the beneficiary id is empty");
    }
    Ok((lot.to_string(), id.to_owned()))
}

pub fn print_summary(s: &RunSummary) {
    println!(
        "linking run {} ({}): {} operator persons read, {} linked in this run, {} ids set or changed, {} merges, {} splits in {:.1} s, peak memory {:.0} MiB",
        s.run_id,
        s.mode.as_str(),
        s.records,
        s.relinked,
        s.ids_changed,
        s.merges,
        s.splits,
        s.seconds,
        cep_app::peak_rss_mib().unwrap_or(f64::NAN)
    );
    if let (Some(persons), Some(several)) = (s.persons, s.persons_several_lots) {
        println!("  {persons} national persons, {several} of them found at several operators");
    }
    println!(
        "  {} candidate pairs, {} matched ({} proven by NIR)",
        s.stats.blocking.candidate_pairs, s.stats.matched_pairs, s.stats.proven_pairs
    );
}

pub fn run(store: &Store, args: &LinkArgs) -> Result<()> {
    match &args.command {
        None => {
            let mode = if args.full {
                Mode::Full
            } else {
                Mode::Incremental
            };
            let summary = cep_link::run::run(store, mode, &Settings::default())?;
            print_summary(&summary);
        }
        Some(LinkCommand::Export { out }) => {
            let rows = linkage(&mut *store.conn()?)?;
            let file = std::fs::File::create(out)
                .with_context(|| format!("creating {}", out.display()))?;
            let mut w = std::io::BufWriter::new(file);
            w.write_all("\u{feff}lot;identifiant_beneficiaire;national_person_id\n".as_bytes())?;
            let mut unlinked = 0;
            for (lot, ident, person) in &rows {
                unlinked += usize::from(person.is_none());
                writeln!(w, "{lot};{ident};{}", person.as_deref().unwrap_or(""))?;
            }
            w.flush()
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "{}: {} operator persons ({} not linked yet: run `cep link`)",
                out.display(),
                rows.len(),
                unlinked
            );
        }
        Some(LinkCommand::Decide {
            a,
            b,
            same,
            not_same: _,
            by,
            reason,
        }) => {
            let (a, b) = (beneficiary(a)?, beneficiary(b)?);
            let id = cep_link::run::decide(store, (&a.0, &a.1), (&b.0, &b.1), *same, by, reason)?;
            println!(
                "decision {id} recorded: {}/{} and {}/{} are {}; `cep link` applies it",
                a.0,
                a.1,
                b.0,
                b.1,
                if *same {
                    "the same person"
                } else {
                    "two persons"
                }
            );
        }
        Some(LinkCommand::History { person }) => {
            let events = LinkEvent::list(&mut *store.conn()?, person.as_deref())?;
            if events.is_empty() {
                println!("no merge or split recorded");
            }
            for e in events {
                let what = if e.kind == "merge" {
                    format!(
                        "{} absorbed {}",
                        e.national_person_id, e.other_national_person_id
                    )
                } else {
                    format!(
                        "{} left {} for {}",
                        e.records, e.national_person_id, e.other_national_person_id
                    )
                };
                println!(
                    "run {}: {} {what} ({} records) — {}",
                    e.run_id, e.kind, e.records, e.reason
                );
            }
        }
    }
    Ok(())
}
