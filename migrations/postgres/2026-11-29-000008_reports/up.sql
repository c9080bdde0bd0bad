-- Committee documents and statements as rendered (issue 9), kept for download from the API.
-- A document of the same kind, lot, period and cut-off is stored once.
CREATE TABLE documents (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,        -- comite-suivi, synthese-nationale, revue-qualite, …
    lot         TEXT,                 -- NULL: national or all lots
    period      TEXT NOT NULL,        -- 2025-10, 2025-S2, 2025, 2025-T3
    cutoff      TIMESTAMP NOT NULL,
    file_name   TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    pdf         BYTEA NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (kind, lot, period, cutoff, file_name)
);
CREATE INDEX documents_lot_period ON documents (lot, period);

-- Scheduled jobs: one row per job and period; a job done for its period is not run again.
CREATE TABLE job_runs (
    id          BIGSERIAL PRIMARY KEY,
    job         TEXT NOT NULL,        -- monthly, quarterly, half-yearly, daily-sweep, …
    period      TEXT NOT NULL,
    status      TEXT NOT NULL,        -- running, done, failed
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    detail      TEXT NOT NULL,
    UNIQUE (job, period)
);

-- E-mails to send: one per document and recipient, sent once, retried with backoff.
CREATE TABLE email_outbox (
    id              BIGSERIAL PRIMARY KEY,
    document_id     BIGINT NOT NULL REFERENCES documents (id),
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    status          TEXT NOT NULL,    -- pending, sending, sent, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT,
    sent_at         TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (document_id, recipient)
);
CREATE INDEX email_outbox_status ON email_outbox (status, next_attempt_at);
