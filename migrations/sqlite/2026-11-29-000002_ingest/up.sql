-- Ingestion (issue 4). Twin of the PostgreSQL file; only type names differ.

-- A dossier's current state, summarised for the checks that read it (spec §7, points 10, 23).
ALTER TABLE dossiers ADD COLUMN date_engagement DATE;
ALTER TABLE dossiers ADD COLUMN date_cloture DATE;
ALTER TABLE dossiers ADD COLUMN motif_cloture TEXT;
ALTER TABLE dossiers ADD COLUMN ever_eligible BOOLEAN NOT NULL DEFAULT FALSE;

-- Owner of each consumption reference: the dossier whose fiche carrying it was processed first
-- (point 17); a later dossier carrying it is BC_DUPLICATE.
CREATE TABLE consumption_refs (
    reference   TEXT PRIMARY KEY,
    dossier_id  BIGINT NOT NULL REFERENCES dossiers (id),
    receipt_id  BIGINT NOT NULL REFERENCES receipts (id)
);

-- The processing report of each receipt, as sent to the operator (outbox, API).
CREATE TABLE processing_reports (
    receipt_id  BIGINT PRIMARY KEY REFERENCES receipts (id),
    lot         TEXT,
    file_name   TEXT NOT NULL,
    status      TEXT NOT NULL,
    report_json TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

-- Where the pull client of each lot resumes (point 29).
CREATE TABLE pull_cursors (
    lot         TEXT PRIMARY KEY,
    since       TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE INDEX anomalies_line ON anomalies (receipt_id, line_number);
CREATE INDEX quarantined_receipt ON quarantined_lines (receipt_id, line_number);
CREATE INDEX complaints_receipt ON complaints (receipt_id);
