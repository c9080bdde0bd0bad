-- Indicator runs (issue 6): one row per computation of a period at a data cut-off, with the
-- code version and the billing rules it used; its values below (indicators-v1 point 17: a
-- stored run keeps the values it was computed with).
CREATE TABLE indicator_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    period        TEXT NOT NULL,        -- AAAA-MM or AAAA-S1 / AAAA-S2
    cutoff        TIMESTAMP NOT NULL,   -- the data cut-off, UTC
    computed_at   TIMESTAMP NOT NULL,
    code_version  TEXT NOT NULL,
    rules_json    TEXT NOT NULL
);
CREATE INDEX indicator_runs_period ON indicator_runs (period, cutoff);

-- One row per (code, lot, category) of a run (indicators-v1 "Output rows").
CREATE TABLE indicator_values (
    run_id        BIGINT NOT NULL REFERENCES indicator_runs (id),
    code          TEXT NOT NULL,
    lot           TEXT NOT NULL,        -- 01…19, or the region 01…18 for 2.x and 3, or national
    category      TEXT NOT NULL,        -- empty unless 2.3, 2.4 or 8.2
    numerator     BIGINT NOT NULL,
    denominator   DOUBLE,
    value         DOUBLE,
    median        DOUBLE,
    mean          DOUBLE,
    wilson_lower  DOUBLE,
    PRIMARY KEY (run_id, code, lot, category)
);

-- Mediation cases (CCTP: the médiateur opens one for a complaint; indicator 8.7 counts the
-- complaints a case covers). Opened and closed through the API (issue 8).
CREATE TABLE mediation_cases (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    lot                       TEXT NOT NULL,
    numero_dossier            TEXT,
    identifiant_beneficiaire  TEXT,
    complaint_reference       TEXT NOT NULL,
    mediator                  TEXT NOT NULL,
    opened_at                 TIMESTAMP NOT NULL,
    closed_at                 TIMESTAMP
);
CREATE INDEX mediation_cases_opened ON mediation_cases (opened_at);
