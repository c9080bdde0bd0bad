//! Buyer-side inputs (spec §9), starting with the operators of each lot. Each row is kept in
//! history: an amendment marks the previous row `superseded_at` and inserts the new one.

use crate::schema::operators;
use crate::{DbConnection, Result, StoreError, insert_returning_id};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// Gives a new buyer-side row `record()`: keyed by `keys`, compared on `values` with the
/// current row of that key (point 30, equality as in point 12) — `New` when there is none,
/// `Unchanged` when equal, else `Amended`: the current row is marked `superseded_at` and kept
/// in history, the new one inserted.
macro_rules! keyed_history {
    ($new:ident, $row:ident, $table:ident, [$($key:ident),+], [$($val:ident),+]) => {
        impl $new {
            /// Records the row: new, unchanged, or an amendment kept in history.
            pub fn record(&self, conn: &mut DbConnection) -> Result<Recorded> {
                conn.transaction(|conn| {
                    let current: Option<$row> = $table::table
                        .filter($table::superseded_at.is_null())
                        $( .filter($table::$key.eq(&self.$key)) )+
                        .select($row::as_select())
                        .first(conn)
                        .optional()
                        .map_err(StoreError::query(concat!("reading current ", stringify!($table))))?;
                    let outcome = match &current {
                        Some(c) if true $( && c.$val == self.$val )+ => return Ok(Recorded::Unchanged),
                        Some(c) => {
                            diesel::update($table::table.find(c.id))
                                .set($table::superseded_at.eq(Some(self.recorded_at)))
                                .execute(conn)
                                .map_err(StoreError::query(concat!("superseding a row of ", stringify!($table))))?;
                            Recorded::Amended
                        }
                        None => Recorded::New,
                    };
                    insert_returning_id!(conn, $table::table, $table::id, self)
                        .map_err(StoreError::query(concat!("recording a row of ", stringify!($table))))?;
                    Ok(outcome)
                })
            }
        }
    };
}

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

keyed_history!(
    NewOperator,
    Operator,
    operators,
    [lot, date_debut],
    [code_operateur, nom, date_fin]
);

impl Operator {
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

use crate::schema::{
    deliverable_controls, mystery_contacts, purchase_orders, reference_populations, survey_answers,
};

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

keyed_history!(
    NewPurchaseOrder,
    PurchaseOrder,
    purchase_orders,
    [reference],
    [
        lot,
        uo,
        date_notification,
        quantite,
        prix_unitaire_ht_cents,
        taux_tva_bp,
        date_debut,
        date_fin
    ]
);

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

/// The version of the registries ingestion checks lines against: the last import of operators
/// or purchase orders recorded (0 before any). An amendment goes through an import too.
pub fn registry_version(conn: &mut DbConnection) -> Result<i64> {
    use crate::schema::buyer_imports;
    buyer_imports::table
        .filter(buyer_imports::kind.eq_any(["operators", "purchase-orders"]))
        .select(diesel::dsl::max(buyer_imports::id))
        .first::<Option<i64>>(conn)
        .map(|v| v.unwrap_or(0))
        .map_err(StoreError::query("reading the registry's version"))
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

/// A survey answer (indicator 8.1, quality bonus), keyed by dossier.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = survey_answers)]
pub struct SurveyAnswer {
    pub id: i64,
    pub numero_dossier: String,
    pub uo: String,
    pub date_reponse: NaiveDate,
    pub qualite: bool,
    pub utilite: bool,
    pub import_id: Option<i64>,
    pub recorded_at: NaiveDateTime,
    pub superseded_at: Option<NaiveDateTime>,
}

impl SurveyAnswer {
    /// The current survey answers (buyer-side data are used as currently recorded,
    /// indicators-v1 point 17), each with the lot of its dossier when the dossier is known.
    pub fn all_current_with_lot(
        conn: &mut DbConnection,
    ) -> Result<Vec<(Option<String>, SurveyAnswer)>> {
        let answers: Vec<SurveyAnswer> = survey_answers::table
            .filter(survey_answers::superseded_at.is_null())
            .order(survey_answers::id)
            .select(SurveyAnswer::as_select())
            .load(conn)
            .map_err(StoreError::query("reading survey answers"))?;
        let lots: std::collections::HashMap<String, String> = crate::schema::dossiers::table
            .select((
                crate::schema::dossiers::numero_dossier,
                crate::schema::dossiers::lot,
            ))
            .load::<(String, String)>(conn)
            .map_err(StoreError::query("reading dossiers' lots"))?
            .into_iter()
            .collect();
        Ok(answers
            .into_iter()
            .map(|a| (lots.get(&a.numero_dossier).cloned(), a))
            .collect())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = survey_answers)]
pub struct NewSurveyAnswer {
    pub numero_dossier: String,
    pub uo: String,
    pub date_reponse: NaiveDate,
    pub qualite: bool,
    pub utilite: bool,
    pub import_id: Option<i64>,
    pub recorded_at: NaiveDateTime,
}

keyed_history!(
    NewSurveyAnswer,
    SurveyAnswer,
    survey_answers,
    [numero_dossier],
    [uo, date_reponse, qualite, utilite]
);

/// A mystery contact (indicator 8.3), keyed by lot, date and sequence in the day.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = mystery_contacts)]
pub struct MysteryContact {
    pub id: i64,
    pub lot: String,
    pub date_contact: NaiveDate,
    pub numero: i32,
    pub conforme: bool,
    pub import_id: Option<i64>,
    pub recorded_at: NaiveDateTime,
    pub superseded_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = mystery_contacts)]
pub struct NewMysteryContact {
    pub lot: String,
    pub date_contact: NaiveDate,
    pub numero: i32,
    pub conforme: bool,
    pub import_id: Option<i64>,
    pub recorded_at: NaiveDateTime,
}

keyed_history!(
    NewMysteryContact,
    MysteryContact,
    mystery_contacts,
    [lot, date_contact, numero],
    [conforme]
);

/// A deliverable control (indicator 8.5), keyed by dossier.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = deliverable_controls)]
pub struct DeliverableControl {
    pub id: i64,
    pub numero_dossier: String,
    pub date_controle: NaiveDate,
    pub conforme: bool,
    pub import_id: Option<i64>,
    pub recorded_at: NaiveDateTime,
    pub superseded_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = deliverable_controls)]
pub struct NewDeliverableControl {
    pub numero_dossier: String,
    pub date_controle: NaiveDate,
    pub conforme: bool,
    pub import_id: Option<i64>,
    pub recorded_at: NaiveDateTime,
}

keyed_history!(
    NewDeliverableControl,
    DeliverableControl,
    deliverable_controls,
    [numero_dossier],
    [date_controle, conforme]
);

/// A reference population (indicators 2.1–2.4), keyed by lot, year, dimension and code.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = reference_populations)]
pub struct ReferencePopulation {
    pub id: i64,
    pub lot: String,
    pub annee: i32,
    pub dimension: String,
    pub code: String,
    pub population_active: Option<i64>,
    pub population_active_occupee: Option<i64>,
    pub population_cible_cep: Option<i64>,
    pub import_id: Option<i64>,
    pub recorded_at: NaiveDateTime,
    pub superseded_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = reference_populations, treat_none_as_default_value = false)]
pub struct NewReferencePopulation {
    pub lot: String,
    pub annee: i32,
    pub dimension: String,
    pub code: String,
    pub population_active: Option<i64>,
    pub population_active_occupee: Option<i64>,
    pub population_cible_cep: Option<i64>,
    pub import_id: Option<i64>,
    pub recorded_at: NaiveDateTime,
}

keyed_history!(
    NewReferencePopulation,
    ReferencePopulation,
    reference_populations,
    [lot, annee, dimension, code],
    [
        population_active,
        population_active_occupee,
        population_cible_cep
    ]
);

/// A consumption alert of a purchase order (80 % or 100 % of its quantity).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::order_alerts)]
pub struct OrderAlert {
    #[diesel(skip_insertion)]
    pub id: i64,
    pub order_reference: String,
    pub level: i32,
    pub consumed: i64,
    pub quantity: i64,
    pub cutoff: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
}

impl OrderAlert {
    /// Records the alerts not recorded yet (same order, level and quantity); returns those new.
    pub fn record_new(conn: &mut DbConnection, alerts: &[OrderAlert]) -> Result<Vec<OrderAlert>> {
        use crate::schema::order_alerts as a;
        let mut new = Vec::new();
        for alert in alerts {
            let n = crate::on_backend!(conn, |c| diesel::insert_into(a::table)
                .values(alert)
                .on_conflict((a::order_reference, a::level, a::quantity))
                .do_nothing()
                .execute(c))
            .map_err(StoreError::query("recording an order alert"))?;
            if n > 0 {
                new.push(alert.clone());
            }
        }
        Ok(new)
    }

    /// Every alert recorded, oldest first.
    pub fn all(conn: &mut DbConnection) -> Result<Vec<OrderAlert>> {
        use crate::schema::order_alerts as a;
        a::table
            .order(a::id)
            .select(OrderAlert::as_select())
            .load(conn)
            .map_err(StoreError::query("reading order alerts"))
    }
}

/// A consumption statement as issued: its number, cut-off and body (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::consumption_statements)]
pub struct StoredStatement {
    pub number: String,
    pub cutoff: NaiveDateTime,
    pub body_json: String,
    pub created_at: NaiveDateTime,
}

impl StoredStatement {
    /// Stores the statement unless one with the same number and cut-off is already stored;
    /// returns the stored one (so that an issued statement never changes).
    pub fn issue(conn: &mut DbConnection, s: &StoredStatement) -> Result<StoredStatement> {
        use crate::schema::consumption_statements as t;
        crate::on_backend!(conn, |c| diesel::insert_into(t::table)
            .values(s)
            .on_conflict((t::number, t::cutoff))
            .do_nothing()
            .execute(c))
        .map_err(StoreError::query("storing a consumption statement"))?;
        t::table
            .filter(t::number.eq(&s.number))
            .filter(t::cutoff.eq(s.cutoff))
            .select(StoredStatement::as_select())
            .first(conn)
            .map_err(StoreError::query("reading a consumption statement"))
    }
}
