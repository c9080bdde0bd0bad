//! `cep order`: the purchase-order registry (*bons de commande*) — list, amend, close
//! (`cep_app::orders`).

use anyhow::Result;
use cep_app::orders::{self, Amendment, Changed};
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
        /// No effect (kept for older scripts): overlapping orders are accepted, with a warning.
        #[arg(long, hide = true)]
        allow_overlap: bool,
    },
    /// End an order on a day (default: today): its `date_fin` becomes that day.
    Close {
        reference: String,
        #[arg(long)]
        on: Option<NaiveDate>,
    },
}

fn print(c: &Changed) {
    let o = &c.order;
    if c.outcome.amended == 0 {
        println!("{}: unchanged", o.reference);
    } else {
        println!(
            "{}: amended (quantity {}, {} to {}); the previous version stays in history",
            o.reference, o.quantite, o.date_debut, o.date_fin
        );
    }
    for w in &c.outcome.warnings {
        println!("  warning: {w}");
    }
}

pub fn run(store: &Store, command: &OrderCommand) -> Result<()> {
    match command {
        OrderCommand::List => {
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
                    orders::euros(o.prix_unitaire_ht_cents),
                    o.taux_tva_bp,
                    o.date_debut,
                    o.date_fin
                ));
            }
            crate::write_stdout(&text)
        }
        OrderCommand::Amend {
            reference,
            quantity,
            date_debut,
            date_fin,
            allow_overlap: _,
        } => {
            let a = Amendment {
                quantity: *quantity,
                date_debut: *date_debut,
                date_fin: *date_fin,
            };
            print(&orders::amend(store, reference, a)?);
            Ok(())
        }
        OrderCommand::Close { reference, on } => {
            let day =
                on.unwrap_or_else(|| cep_domain::paris::date_of(cep_store::models::now_utc()));
            print(&orders::close(store, reference, day)?);
            Ok(())
        }
    }
}
