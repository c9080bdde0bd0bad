//! `cep order`: the purchase-order registry (*bons de commande*) — list, amend, close. Each
//! change goes through the same checks and history as `cep import purchase-orders`.

use anyhow::{Context, Result, bail};
use cep_ingest::buyer::{ImportKind, ImportOptions, import_with};
use cep_store::Store;
use cep_store::models::buyer::PurchaseOrder;
use chrono::NaiveDate;

#[derive(Debug, clap::Subcommand)]
pub enum OrderCommand {
    /// Current orders, by reference.
    List,
    /// Change an order's quantity or dates (the previous version stays in history).
    Amend {
        reference: String,
        #[arg(long)]
        quantity: Option<i64>,
        #[arg(long)]
        date_debut: Option<NaiveDate>,
        #[arg(long)]
        date_fin: Option<NaiveDate>,
        /// Accept a period overlapping another order of the same lot and work unit.
        #[arg(long)]
        allow_overlap: bool,
    },
    /// End an order on a day (default: today): its `date_fin` becomes that day.
    Close {
        reference: String,
        #[arg(long)]
        on: Option<NaiveDate>,
    },
}

fn current(store: &Store, reference: &str) -> Result<PurchaseOrder> {
    PurchaseOrder::all_current(&mut *store.conn()?)?
        .into_iter()
        .find(|o| o.reference == reference)
        .with_context(|| format!("no purchase order {reference} in the registry"))
}

fn euros(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Records `o` as the order's new version through the import path.
fn record(store: &Store, o: &PurchaseOrder, allow_overlap: bool) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join(format!("order-{}.csv", o.reference));
    std::fs::write(
        &path,
        format!(
            "reference;date_notification;quantite;prix_unitaire_ht;taux_tva;date_debut;date_fin\n{};{};{};{};{}.{:04};{};{}\n",
            o.reference,
            o.date_notification,
            o.quantite,
            euros(o.prix_unitaire_ht_cents),
            o.taux_tva_bp / 10_000,
            o.taux_tva_bp % 10_000,
            o.date_debut,
            o.date_fin
        ),
    )?;
    let outcome = import_with(
        store,
        ImportKind::PurchaseOrders,
        &path,
        ImportOptions { allow_overlap },
    )?;
    if outcome.amended == 0 {
        println!("{}: unchanged", o.reference);
    } else {
        println!(
            "{}: amended (quantity {}, {} to {}); the previous version stays in history",
            o.reference, o.quantite, o.date_debut, o.date_fin
        );
    }
    Ok(())
}

pub fn run(store: &Store, command: &OrderCommand) -> Result<()> {
    match command {
        OrderCommand::List => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let mut text = String::from(
                "reference;lot;uo;quantite;prix_unitaire_ht;taux_tva_bp;date_debut;date_fin\n",
            );
            for o in PurchaseOrder::all_current(&mut *store.conn()?)? {
                text.push_str(&format!(
                    "{};{};{};{};{};{};{};{}\n",
                    o.reference,
                    o.lot,
                    o.uo,
                    o.quantite,
                    euros(o.prix_unitaire_ht_cents),
                    o.taux_tva_bp,
                    o.date_debut,
                    o.date_fin
                ));
            }
            // A closed pipe (`| head`) is not an error.
            match out.write_all(text.as_bytes()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => Ok(other?),
            }
        }
        OrderCommand::Amend {
            reference,
            quantity,
            date_debut,
            date_fin,
            allow_overlap,
        } => {
            if quantity.is_none() && date_debut.is_none() && date_fin.is_none() {
                bail!("nothing to amend: give --quantity, --date-debut or --date-fin");
            }
            let mut o = current(store, reference)?;
            if let Some(q) = quantity {
                o.quantite = *q;
            }
            if let Some(d) = date_debut {
                o.date_debut = *d;
            }
            if let Some(d) = date_fin {
                o.date_fin = *d;
            }
            record(store, &o, *allow_overlap)
        }
        OrderCommand::Close { reference, on } => {
            let mut o = current(store, reference)?;
            let day =
                on.unwrap_or_else(|| cep_domain::paris::date_of(cep_store::models::now_utc()));
            if day < o.date_debut {
                bail!(
                    "{reference} starts on {}: it cannot end on {day}",
                    o.date_debut
                );
            }
            o.date_fin = day;
            record(store, &o, false)
        }
    }
}
