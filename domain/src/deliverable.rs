//! Deliverables (livrables, feed spec point 34): when one declared by a fiche is late. The
//! delay is the service's decision (the CCTP asks for the deposit "at closure" without one),
//! written in `docs/operateurs.md`.

use chrono::NaiveDateTime;

/// Days after the first fiche declaring a deliverable was received by which its file is
/// expected (a week lets a weekend and a bank holiday pass).
pub const LATE_AFTER_DAYS: i64 = 7;

/// Whether a deliverable declared at `declared_at` and not received is late at `now`.
pub fn is_late(declared_at: NaiveDateTime, now: NaiveDateTime) -> bool {
    now - declared_at > chrono::Duration::days(LATE_AFTER_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_34_a_deliverable_is_late_seven_days_after_its_declaration() {
        let d: NaiveDateTime = "2025-03-01T10:00:00".parse().unwrap();
        assert!(!is_late(d, "2025-03-08T10:00:00".parse().unwrap()));
        assert!(is_late(d, "2025-03-08T10:00:01".parse().unwrap()));
    }
}
