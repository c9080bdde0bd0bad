-- Identity resolution (issue 5): runs with the model they used, the merges and splits of
-- national person ids, and analysts' decisions that every later run respects.
CREATE TABLE link_runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP NOT NULL,
    mode            TEXT NOT NULL,        -- full | incremental
    records         BIGINT NOT NULL,      -- operator persons considered
    new_records     BIGINT NOT NULL,      -- of which without a national id before the run
    candidate_pairs BIGINT NOT NULL,
    matched_pairs   BIGINT NOT NULL,
    ids_changed     BIGINT NOT NULL,      -- operator persons whose national id was set or changed
    model           TEXT NOT NULL         -- the Fellegi-Sunter parameters (JSON)
);

CREATE TABLE link_events (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id                   BIGINT NOT NULL REFERENCES link_runs (id),
    kind                     TEXT NOT NULL,  -- merge | split
    national_person_id       TEXT NOT NULL,  -- the id kept (merge) or left (split)
    other_national_person_id TEXT NOT NULL,  -- the id absorbed (merge) or created (split)
    records                  BIGINT NOT NULL,
    reason                   TEXT NOT NULL
);
CREATE INDEX link_events_person ON link_events (national_person_id);

CREATE TABLE link_decisions (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_person_a  BIGINT NOT NULL REFERENCES operator_persons (id),
    operator_person_b  BIGINT NOT NULL REFERENCES operator_persons (id),
    same               BOOLEAN NOT NULL,
    decided_by         TEXT NOT NULL,
    reason             TEXT NOT NULL,
    decided_at         TIMESTAMP NOT NULL
);
CREATE INDEX link_decisions_pair ON link_decisions (operator_person_a, operator_person_b);

-- Blocking keys of every linked operator person (hashes; no clear value), so that a day's new
-- beneficiaries are matched against their candidates only, without reading every identity.
CREATE TABLE link_keys (
    key                BIGINT NOT NULL,
    operator_person_id BIGINT NOT NULL REFERENCES operator_persons (id)
);
CREATE INDEX link_keys_key ON link_keys (key);
-- No index on operator_person_id: keys are deleted by person only for beneficiaries an analyst
-- decided on, and a second index costs more on every full run than those deletes.

-- Incremental linking looks again at beneficiaries whose identity changed since its last run.
CREATE INDEX identity_records_seen ON identity_records (first_seen_at);
