//! National identifiers of the exchange format (spec §6): dossier numbers, purchase orders and
//! their consumption references, consumption statement numbers. Each parses with an error
//! that names the part that is wrong, and formats back to exactly the text it came from.

use crate::lot::Lot;
use crate::work_unit::WorkUnit;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why an identifier does not parse; each variant names the part that is wrong and what
/// was expected there, so the message can be acted on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} must be {expected} characters long, got {got}")]
    Length {
        kind: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{kind}: {part} must be {expected}, got {got:?}")]
    Part {
        kind: &'static str,
        part: &'static str,
        expected: &'static str,
        got: String,
    },
    #[error("{kind}: expected the shape {shape}, got {got:?}")]
    Shape {
        kind: &'static str,
        shape: &'static str,
        got: String,
    },
}

impl IdError {
    /// The part of the identifier that is wrong (`"length"` or `"shape"` when it is the whole).
    pub fn part(&self) -> &'static str {
        match self {
            IdError::Length { .. } => "length",
            IdError::Part { part, .. } => part,
            IdError::Shape { .. } => "shape",
        }
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn part_err(kind: &'static str, part: &'static str, expected: &'static str, got: &str) -> IdError {
    IdError::Part {
        kind,
        part,
        expected,
        got: got.to_owned(),
    }
}

/// An operator code (`OO` in dossier numbers): two upper-case ASCII letters or digits,
/// assigned per holder (titulaire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OperatorCode([u8; 2]);

impl OperatorCode {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII by construction")
    }
}

impl FromStr for OperatorCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let b = s.as_bytes();
        if b.len() == 2
            && b.iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            Ok(OperatorCode([b[0], b[1]]))
        } else {
            Err(part_err(
                "operator code",
                "operator code",
                "two upper-case letters or digits",
                s,
            ))
        }
    }
}

impl fmt::Display for OperatorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for OperatorCode {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        s.parse()
    }
}

impl From<OperatorCode> for String {
    fn from(c: OperatorCode) -> String {
        c.to_string()
    }
}

/// National dossier number `OOAAMMUUXXXXXX` (CCTP note 38, spec §6.1 and point 15): operator
/// code, two-digit year and month of creation, work unit, and a six-digit counter reset
/// every month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DossierNumber {
    operator: OperatorCode,
    year: u8,
    month: u8,
    work_unit: WorkUnit,
    counter: u32,
}

impl DossierNumber {
    const KIND: &'static str = "dossier number";

    pub fn new(
        operator: OperatorCode,
        year: u8,
        month: u8,
        work_unit: WorkUnit,
        counter: u32,
    ) -> Option<Self> {
        (year <= 99 && (1..=12).contains(&month) && counter <= 999_999).then_some(Self {
            operator,
            year,
            month,
            work_unit,
            counter,
        })
    }
    pub fn operator(&self) -> OperatorCode {
        self.operator
    }
    /// Two-digit year of creation (`AA`).
    pub fn year2(&self) -> u8 {
        self.year
    }
    /// Month of creation (`MM`), 1..=12.
    pub fn month(&self) -> u8 {
        self.month
    }
    pub fn work_unit(&self) -> WorkUnit {
        self.work_unit
    }
    pub fn counter(&self) -> u32 {
        self.counter
    }
    /// Whether `AAMM` equals the month of `date` (spec point 15: otherwise `DOSSIER_MOIS`).
    pub fn created_in_month_of(&self, date: chrono::NaiveDate) -> bool {
        use chrono::Datelike;
        i32::from(self.year) == date.year().rem_euclid(100) && u32::from(self.month) == date.month()
    }
}

impl FromStr for DossierNumber {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let k = Self::KIND;
        let n = s.chars().count();
        if n != 14 || !s.is_ascii() {
            return Err(IdError::Length {
                kind: k,
                expected: 14,
                got: n,
            });
        }
        let operator: OperatorCode = s[0..2].parse().map_err(|_| {
            part_err(
                k,
                "operator code (characters 1-2)",
                "two upper-case letters or digits",
                &s[0..2],
            )
        })?;
        let (aa, mm, uu, xx) = (&s[2..4], &s[4..6], &s[6..8], &s[8..14]);
        if !all_digits(aa) {
            return Err(part_err(k, "year (characters 3-4)", "two digits", aa));
        }
        let month: u8 = if all_digits(mm) {
            mm.parse().unwrap_or(0)
        } else {
            0
        };
        if !(1..=12).contains(&month) {
            return Err(part_err(k, "month (characters 5-6)", "01 to 12", mm));
        }
        let work_unit = WorkUnit::from_dossier_code(uu)
            .map_err(|_| part_err(k, "work unit (characters 7-8)", "00, 01, 21 or 22", uu))?;
        if !all_digits(xx) {
            return Err(part_err(k, "counter (characters 9-14)", "six digits", xx));
        }
        Ok(Self {
            operator,
            year: aa.parse().expect("two digits"),
            month,
            work_unit,
            counter: xx.parse().expect("six digits"),
        })
    }
}

impl fmt::Display for DossierNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{:02}{:02}{}{:06}",
            self.operator,
            self.year,
            self.month,
            self.work_unit.dossier_code(),
            self.counter
        )
    }
}

impl TryFrom<String> for DossierNumber {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        s.parse()
    }
}

impl From<DossierNumber> for String {
    fn from(d: DossierNumber) -> String {
        d.to_string()
    }
}

/// Parses the common head `AAAA-Lotww-UOxx-yy` of purchase orders and consumption references.
fn parse_order_head(kind: &'static str, s: &str) -> Result<(PurchaseOrderRef, usize), IdError> {
    let shape_err = || IdError::Shape {
        kind,
        shape: PurchaseOrderRef::SHAPE,
        got: s.to_owned(),
    };
    let mut parts = s.splitn(5, '-');
    let (Some(year), Some(lot), Some(uo), Some(order)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(shape_err());
    };
    if year.len() != 4 || !all_digits(year) {
        return Err(part_err(kind, "year (AAAA)", "four digits", year));
    }
    let lot = lot
        .strip_prefix("Lot")
        .and_then(|l| Lot::parse(l).ok())
        .ok_or_else(|| part_err(kind, "lot (Lotww)", "Lot01 to Lot19", lot))?;
    let work_unit = uo
        .strip_prefix("UO")
        .and_then(|u| WorkUnit::from_column_code(u).ok())
        .ok_or_else(|| part_err(kind, "work unit (UOxx)", "UO00, UO01, UO2.1 or UO2.2", uo))?;
    if order.len() != 2 || !all_digits(order) || order == "00" {
        return Err(part_err(
            kind,
            "order number (yy)",
            "two digits from 01 to 99",
            order,
        ));
    }
    let head_len = year.len() + lot.to_string().len() + 3 + uo.len() + order.len() + 3;
    Ok((
        PurchaseOrderRef {
            year: year.parse().expect("four digits"),
            lot,
            work_unit,
            number: order.parse().expect("two digits"),
        },
        head_len,
    ))
}

/// A purchase order (bon de commande), `AAAA-Lotww-UOxx-yy` (spec §6.2): year, lot, work
/// unit and order number of the year for that work unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PurchaseOrderRef {
    year: u16,
    lot: Lot,
    work_unit: WorkUnit,
    number: u8,
}

impl PurchaseOrderRef {
    const KIND: &'static str = "purchase order reference";
    const SHAPE: &'static str = "AAAA-Lotww-UOxx-yy";

    pub fn new(year: u16, lot: Lot, work_unit: WorkUnit, number: u8) -> Option<Self> {
        ((1000..=9999).contains(&year) && (1..=99).contains(&number)).then_some(Self {
            year,
            lot,
            work_unit,
            number,
        })
    }
    pub fn year(&self) -> u16 {
        self.year
    }
    pub fn lot(&self) -> Lot {
        self.lot
    }
    pub fn work_unit(&self) -> WorkUnit {
        self.work_unit
    }
    pub fn number(&self) -> u8 {
        self.number
    }
    /// The first purchase order named inside `text`: an order reference, a consumption
    /// reference, or an identifier that carries one (a statement `EC-2025-Lot08-UO01-01-2025-T3`).
    pub fn find_in(text: &str) -> Option<PurchaseOrderRef> {
        text.match_indices("-Lot").find_map(|(i, _)| {
            let start = i.checked_sub(4)?;
            let head = text.get(start..)?;
            parse_order_head(Self::KIND, head).ok().map(|(o, _)| o)
        })
    }
    /// The consumption reference of the `sequence`-th unit consumed on this order.
    pub fn unit(self, sequence: u32) -> Option<ConsumptionRef> {
        (1..=99_999).contains(&sequence).then_some(ConsumptionRef {
            order: self,
            sequence,
        })
    }
}

impl FromStr for PurchaseOrderRef {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let (order, len) = parse_order_head(Self::KIND, s)?;
        if len != s.len() {
            return Err(IdError::Shape {
                kind: Self::KIND,
                shape: Self::SHAPE,
                got: s.to_owned(),
            });
        }
        Ok(order)
    }
}

impl fmt::Display for PurchaseOrderRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-Lot{}-UO{}-{:02}",
            self.year,
            self.lot,
            self.work_unit.column_code(),
            self.number
        )
    }
}

impl TryFrom<String> for PurchaseOrderRef {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        s.parse()
    }
}

impl From<PurchaseOrderRef> for String {
    fn from(r: PurchaseOrderRef) -> String {
        r.to_string()
    }
}

/// A purchase-order consumption reference `AAAA-Lotww-UOxx-yy-zzzzz` (spec §6.2, point 17):
/// the order, and the five-digit sequence (01–99999) of the unit consumed on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConsumptionRef {
    order: PurchaseOrderRef,
    sequence: u32,
}

impl ConsumptionRef {
    const KIND: &'static str = "consumption reference";

    pub fn order(&self) -> PurchaseOrderRef {
        self.order
    }
    pub fn sequence(&self) -> u32 {
        self.sequence
    }
}

impl FromStr for ConsumptionRef {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let (order, len) = parse_order_head(Self::KIND, s)?;
        let rest = &s[len..];
        let seq = rest.strip_prefix('-').ok_or_else(|| IdError::Shape {
            kind: Self::KIND,
            shape: "AAAA-Lotww-UOxx-yy-zzzzz",
            got: s.to_owned(),
        })?;
        if seq.len() != 5 || !all_digits(seq) || seq == "00000" {
            return Err(part_err(
                Self::KIND,
                "unit sequence (zzzzz)",
                "five digits from 00001 to 99999",
                seq,
            ));
        }
        Ok(Self {
            order,
            sequence: seq.parse().expect("five digits"),
        })
    }
}

impl fmt::Display for ConsumptionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:05}", self.order, self.sequence)
    }
}

impl TryFrom<String> for ConsumptionRef {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        s.parse()
    }
}

impl From<ConsumptionRef> for String {
    fn from(r: ConsumptionRef) -> String {
        r.to_string()
    }
}

/// A quarterly consumption statement number (numéro de décompte) `AAAA-Lotww-Tq-nn`
/// (spec §6.3, point 18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StatementNumber {
    year: u16,
    lot: Lot,
    quarter: u8,
    sequence: u8,
}

impl StatementNumber {
    const KIND: &'static str = "statement number";

    pub fn new(year: u16, lot: Lot, quarter: u8, sequence: u8) -> Option<Self> {
        ((1000..=9999).contains(&year) && (1..=4).contains(&quarter) && sequence <= 99).then_some(
            Self {
                year,
                lot,
                quarter,
                sequence,
            },
        )
    }
    pub fn year(&self) -> u16 {
        self.year
    }
    pub fn lot(&self) -> Lot {
        self.lot
    }
    pub fn quarter(&self) -> u8 {
        self.quarter
    }
    pub fn sequence(&self) -> u8 {
        self.sequence
    }
}

impl FromStr for StatementNumber {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let k = Self::KIND;
        let parts: Vec<&str> = s.split('-').collect();
        let [year, lot, quarter, seq] = parts[..] else {
            return Err(IdError::Shape {
                kind: k,
                shape: "AAAA-Lotww-Tq-nn",
                got: s.to_owned(),
            });
        };
        if year.len() != 4 || !all_digits(year) {
            return Err(part_err(k, "year (AAAA)", "four digits", year));
        }
        let lot = lot
            .strip_prefix("Lot")
            .and_then(|l| Lot::parse(l).ok())
            .ok_or_else(|| part_err(k, "lot (Lotww)", "Lot01 to Lot19", lot))?;
        let q = quarter
            .strip_prefix('T')
            .filter(|q| q.len() == 1 && all_digits(q))
            .and_then(|q| q.parse::<u8>().ok())
            .filter(|q| (1..=4).contains(q))
            .ok_or_else(|| part_err(k, "quarter (Tq)", "T1, T2, T3 or T4", quarter))?;
        if seq.len() != 2 || !all_digits(seq) {
            return Err(part_err(k, "sequence (nn)", "two digits", seq));
        }
        Ok(Self {
            year: year.parse().expect("four digits"),
            lot,
            quarter: q,
            sequence: seq.parse().expect("two digits"),
        })
    }
}

impl fmt::Display for StatementNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-Lot{}-T{}-{:02}",
            self.year, self.lot, self.quarter, self.sequence
        )
    }
}

impl TryFrom<String> for StatementNumber {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        s.parse()
    }
}

impl From<StatementNumber> for String {
    fn from(r: StatementNumber) -> String {
        r.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_6_2_the_order_named_in_a_reference_or_a_statement_id() {
        let o: PurchaseOrderRef = "2025-Lot08-UO01-02".parse().unwrap();
        assert_eq!(PurchaseOrderRef::find_in("2025-Lot08-UO01-02"), Some(o));
        assert_eq!(
            PurchaseOrderRef::find_in("2025-Lot08-UO01-02-00017"),
            Some(o)
        );
        assert_eq!(
            PurchaseOrderRef::find_in("EC-2025-Lot08-UO01-02-2025-T3"),
            Some(o)
        );
        assert_eq!(PurchaseOrderRef::find_in("EC-2025-Lot8-UO01-02"), None);
        assert_eq!(PurchaseOrderRef::find_in("-Lot08-UO01-02"), None);
        assert_eq!(PurchaseOrderRef::find_in("é-Lot08"), None);
    }
    use proptest::prelude::*;

    #[test]
    fn note_38_dossier_number_parts() {
        let d: DossierNumber = "A7251021000042".parse().unwrap();
        assert_eq!(d.operator().as_str(), "A7");
        assert_eq!((d.year2(), d.month()), (25, 10));
        assert_eq!(d.work_unit(), WorkUnit::Uo21);
        assert_eq!(d.counter(), 42);
        assert!(d.created_in_month_of("2025-10-31".parse().unwrap()));
        assert!(!d.created_in_month_of("2025-11-01".parse().unwrap()));
    }

    #[test]
    fn dossier_number_errors_name_the_wrong_part() {
        let cases = [
            ("A725102100004", "length"),
            ("a7251021000042", "operator code (characters 1-2)"),
            ("A7X51021000042", "year (characters 3-4)"),
            ("A7251321000042", "month (characters 5-6)"),
            ("A7250021000042", "month (characters 5-6)"),
            ("A7251023000042", "work unit (characters 7-8)"),
            ("A72510210000X2", "counter (characters 9-14)"),
            ("A72510210000é2", "length"),
        ];
        for (s, part) in cases {
            let e = s.parse::<DossierNumber>().unwrap_err();
            assert_eq!(e.part(), part, "{s}: {e}");
        }
        let msg = "A7251023000042"
            .parse::<DossierNumber>()
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("00, 01, 21 or 22") && msg.contains("\"23\""),
            "{msg}"
        );
    }

    #[test]
    fn cctp_example_consumption_reference() {
        // The CCTP's own example: 2020-Lot08-UO2.1-02-00256 (five-digit sequence).
        let r: ConsumptionRef = "2020-Lot08-UO2.1-02-00256".parse().unwrap();
        assert_eq!(r.order().to_string(), "2020-Lot08-UO2.1-02");
        assert_eq!(r.order().lot(), Lot::parse("08").unwrap());
        assert_eq!(r.order().work_unit(), WorkUnit::Uo21);
        assert_eq!(r.sequence(), 256);
    }

    #[test]
    fn point_17_reference_errors() {
        let cases = [
            ("2020-Lot08-UO2.1-02-0256", "unit sequence (zzzzz)"),
            ("2020-Lot08-UO2.1-02-00000", "unit sequence (zzzzz)"),
            ("2020-Lot08-UO2.1-00-00256", "order number (yy)"),
            ("2020-Lot20-UO2.1-02-00256", "lot (Lotww)"),
            ("2020-Lot00-UO01-02-00256", "lot (Lotww)"),
            ("2020-Lot08-UO21-02-00256", "work unit (UOxx)"),
            ("20-Lot08-UO01-02-00256", "year (AAAA)"),
            ("2020-Lot08-UO01-02", "shape"),
        ];
        for (s, part) in cases {
            let e = s.parse::<ConsumptionRef>().unwrap_err();
            assert_eq!(e.part(), part, "{s}: {e}");
        }
        assert_eq!(
            "2020-Lot08-UO01-02-00001-7"
                .parse::<ConsumptionRef>()
                .unwrap_err()
                .part(),
            "unit sequence (zzzzz)"
        );
        assert_eq!(
            "2020-Lot08-UO01-02-00001"
                .parse::<PurchaseOrderRef>()
                .unwrap_err()
                .part(),
            "shape"
        );
        // Lot 19 is a deliberate extension of the CCTP's 01–18 (point 17).
        assert!("2025-Lot19-UO00-01".parse::<PurchaseOrderRef>().is_ok());
    }

    #[test]
    fn point_18_statement_numbers() {
        let s: StatementNumber = "2025-Lot08-T3-01".parse().unwrap();
        assert_eq!((s.year(), s.quarter(), s.sequence()), (2025, 3, 1));
        assert_eq!(
            "2025-Lot08-T5-01"
                .parse::<StatementNumber>()
                .unwrap_err()
                .part(),
            "quarter (Tq)"
        );
        assert_eq!(
            "2025-Lot08-T3-1"
                .parse::<StatementNumber>()
                .unwrap_err()
                .part(),
            "sequence (nn)"
        );
        assert_eq!(
            "2025-Lot08-T3"
                .parse::<StatementNumber>()
                .unwrap_err()
                .part(),
            "shape"
        );
    }

    fn operator() -> impl Strategy<Value = OperatorCode> {
        "[A-Z0-9]{2}".prop_map(|s| s.parse().unwrap())
    }
    fn work_unit() -> impl Strategy<Value = WorkUnit> {
        prop::sample::select(WorkUnit::ALL.to_vec())
    }
    fn lot() -> impl Strategy<Value = Lot> {
        (1u8..=19).prop_map(|n| Lot::new(n).unwrap())
    }

    proptest! {
        #[test]
        fn dossier_number_round_trips(op in operator(), y in 0u8..=99, m in 1u8..=12, u in work_unit(), c in 0u32..=999_999) {
            let d = DossierNumber::new(op, y, m, u, c).unwrap();
            let text = d.to_string();
            prop_assert_eq!(text.len(), 14);
            prop_assert_eq!(text.parse::<DossierNumber>().unwrap(), d);
        }

        #[test]
        fn consumption_ref_round_trips(y in 1000u16..=9999, l in lot(), u in work_unit(), n in 1u8..=99, z in 1u32..=99_999) {
            let r = PurchaseOrderRef::new(y, l, u, n).unwrap().unit(z).unwrap();
            let text = r.to_string();
            prop_assert_eq!(text.parse::<ConsumptionRef>().unwrap(), r);
            prop_assert_eq!(r.order().to_string().parse::<PurchaseOrderRef>().unwrap(), r.order());
        }

        #[test]
        fn statement_number_round_trips(y in 1000u16..=9999, l in lot(), q in 1u8..=4, n in 0u8..=99) {
            let s = StatementNumber::new(y, l, q, n).unwrap();
            prop_assert_eq!(s.to_string().parse::<StatementNumber>().unwrap(), s);
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,30}") {
            let _ = s.parse::<DossierNumber>();
            let _ = s.parse::<ConsumptionRef>();
            let _ = s.parse::<PurchaseOrderRef>();
            let _ = s.parse::<StatementNumber>();
        }
    }
}
