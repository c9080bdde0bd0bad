//! Buyer-side inputs (spec §9), starting with the operators of each lot. Each row is kept in
//! history: an amendment marks the previous row `superseded_at` and inserts the new one.

use crate::schema::operators;
use crate::{DbConnection, Result, StoreError, insert_returning_id};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// The holder (titulaire) of a lot for a period, and its operator code (`OO`).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = operators)]
pub struct Operator {
    pub id: i64,
    pub lot: String,
    pub code_operateur: String,
    pub nom: String,
    pub date_debut: NaiveDate,
    pub date_fin: Option<NaiveDate>,
    pub import_id: Option<i64>,
    pub recorded_at: NaiveDateTime,
    pub superseded_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = operators)]
pub struct NewOperator {
    pub lot: String,
    pub code_operateur: String,
    pub nom: String,
    pub date_debut: NaiveDate,
    pub date_fin: Option<NaiveDate>,
    pub import_id: Option<i64>,
    pub recorded_at: NaiveDateTime,
}

/// What recording a keyed row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// No current row had this key.
    New,
    /// A current row had this key and the same values: nothing changed.
    Unchanged,
    /// A current row had this key and other values: it is superseded, kept in history.
    Amended,
}

impl NewOperator {
    /// Records the operator of (lot, date_debut): new, unchanged, or an amendment kept in history.
    pub fn record(&self, conn: &mut DbConnection) -> Result<Recorded> {
        conn.transaction(|conn| {
            let current = Operator::current_by_key(conn, &self.lot, self.date_debut)?;
            match current {
                Some(c)
                    if c.code_operateur == self.code_operateur
                        && c.nom == self.nom
                        && c.date_fin == self.date_fin =>
                {
                    Ok(Recorded::Unchanged)
                }
                Some(c) => {
                    diesel::update(operators::table.find(c.id))
                        .set(operators::superseded_at.eq(Some(self.recorded_at)))
                        .execute(conn)
                        .map_err(StoreError::query("superseding an operator row"))?;
                    insert_returning_id!(conn, operators::table, operators::id, self)
                        .map_err(StoreError::query("recording an operator"))?;
                    Ok(Recorded::Amended)
                }
                None => {
                    insert_returning_id!(conn, operators::table, operators::id, self)
                        .map_err(StoreError::query("recording an operator"))?;
                    Ok(Recorded::New)
                }
            }
        })
    }
}

impl Operator {
    fn current_by_key(
        conn: &mut DbConnection,
        lot: &str,
        date_debut: NaiveDate,
    ) -> Result<Option<Operator>> {
        operators::table
            .filter(operators::lot.eq(lot))
            .filter(operators::date_debut.eq(date_debut))
            .filter(operators::superseded_at.is_null())
            .select(Operator::as_select())
            .first(conn)
            .optional()
            .map_err(StoreError::query("reading an operator"))
    }

    /// The current operators of every lot, by lot then start date.
    pub fn all_current(conn: &mut DbConnection) -> Result<Vec<Operator>> {
        operators::table
            .filter(operators::superseded_at.is_null())
            .order((operators::lot, operators::date_debut))
            .select(Operator::as_select())
            .load(conn)
            .map_err(StoreError::query("listing operators"))
    }

    /// The operator of `lot` whose period contains `date` (spec point 15).
    pub fn of_lot_at(
        conn: &mut DbConnection,
        lot: &str,
        date: NaiveDate,
    ) -> Result<Option<Operator>> {
        operators::table
            .filter(operators::lot.eq(lot))
            .filter(operators::superseded_at.is_null())
            .filter(operators::date_debut.le(date))
            .filter(
                operators::date_fin
                    .is_null()
                    .or(operators::date_fin.ge(date)),
            )
            .order(operators::date_debut.desc())
            .select(Operator::as_select())
            .first(conn)
            .optional()
            .map_err(StoreError::query("finding the operator of a lot"))
    }

    /// Every version ever recorded for (lot, date_debut), oldest first.
    pub fn history(
        conn: &mut DbConnection,
        lot: &str,
        date_debut: NaiveDate,
    ) -> Result<Vec<Operator>> {
        operators::table
            .filter(operators::lot.eq(lot))
            .filter(operators::date_debut.eq(date_debut))
            .order(operators::id)
            .select(Operator::as_select())
            .load(conn)
            .map_err(StoreError::query("reading an operator's history"))
    }
}

use crate::schema::purchase_orders;

/// A purchase order (bon de commande, spec §9) as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = purchase_orders)]
pub struct PurchaseOrder {
    pub id: i64,
    pub reference: String,
    pub lot: String,
    pub uo: String,
    pub date_notification: NaiveDate,
    pub quantite: i64,
    pub prix_unitaire_ht_cents: i64,
    pub taux_tva_bp: i32,
    pub date_debut: NaiveDate,
    pub date_fin: NaiveDate,
    pub import_id: Option<i64>,
    pub recorded_at: NaiveDateTime,
    pub superseded_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = purchase_orders)]
pub struct NewPurchaseOrder {
    pub reference: String,
    pub lot: String,
    pub uo: String,
    pub date_notification: NaiveDate,
    pub quantite: i64,
    pub prix_unitaire_ht_cents: i64,
    pub taux_tva_bp: i32,
    pub date_debut: NaiveDate,
    pub date_fin: NaiveDate,
    pub import_id: Option<i64>,
    pub recorded_at: NaiveDateTime,
}

impl NewPurchaseOrder {
    /// Records the order of this reference: new, unchanged, or an amendment kept in history.
    pub fn record(&self, conn: &mut DbConnection) -> Result<Recorded> {
        conn.transaction(|conn| {
            let current = PurchaseOrder::current(conn, &self.reference)?;
            let same = |c: &PurchaseOrder| {
                c.lot == self.lot
                    && c.uo == self.uo
                    && c.date_notification == self.date_notification
                    && c.quantite == self.quantite
                    && c.prix_unitaire_ht_cents == self.prix_unitaire_ht_cents
                    && c.taux_tva_bp == self.taux_tva_bp
                    && c.date_debut == self.date_debut
                    && c.date_fin == self.date_fin
            };
            let outcome = match &current {
                Some(c) if same(c) => return Ok(Recorded::Unchanged),
                Some(c) => {
                    diesel::update(purchase_orders::table.find(c.id))
                        .set(purchase_orders::superseded_at.eq(Some(self.recorded_at)))
                        .execute(conn)
                        .map_err(StoreError::query("superseding a purchase order"))?;
                    Recorded::Amended
                }
                None => Recorded::New,
            };
            insert_returning_id!(conn, purchase_orders::table, purchase_orders::id, self)
                .map_err(StoreError::query("recording a purchase order"))?;
            Ok(outcome)
        })
    }
}

impl PurchaseOrder {
    /// The current version of the order `reference`.
    pub fn current(conn: &mut DbConnection, reference: &str) -> Result<Option<PurchaseOrder>> {
        purchase_orders::table
            .filter(purchase_orders::reference.eq(reference))
            .filter(purchase_orders::superseded_at.is_null())
            .select(PurchaseOrder::as_select())
            .first(conn)
            .optional()
            .map_err(StoreError::query("reading a purchase order"))
    }

    /// Every current order, by reference.
    pub fn all_current(conn: &mut DbConnection) -> Result<Vec<PurchaseOrder>> {
        purchase_orders::table
            .filter(purchase_orders::superseded_at.is_null())
            .order(purchase_orders::reference)
            .select(PurchaseOrder::as_select())
            .load(conn)
            .map_err(StoreError::query("listing purchase orders"))
    }
}

/// A buyer-side import as recorded (`cep import KIND FILE`).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = crate::schema::buyer_imports)]
pub struct NewBuyerImport {
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    pub imported_at: NaiveDateTime,
    pub rows_total: i32,
    pub rows_new: i32,
    pub rows_amended: i32,
}

impl NewBuyerImport {
    pub fn insert(&self, conn: &mut DbConnection) -> Result<i64> {
        insert_returning_id!(
            conn,
            crate::schema::buyer_imports::table,
            crate::schema::buyer_imports::id,
            self
        )
        .map_err(StoreError::query("recording a buyer-side import"))
    }
}
