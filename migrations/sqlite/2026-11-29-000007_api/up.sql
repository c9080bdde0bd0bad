-- Login lockout (issue 8): failed attempts since the last success, and a lock end.
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMP;

-- Append-only audit log, hash-chained: each entry's hash covers the previous entry's hash and
-- its own fields, so that an edited or deleted row breaks the chain (`cep audit verify`).
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL,
    role        TEXT NOT NULL,
    action      TEXT NOT NULL,        -- e.g. dossier_access, dossier_access_refused, case_opened
    lot         TEXT,
    target      TEXT,                 -- a dossier number, a case id, a user name
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_action_lot_at ON audit_log (action, lot, at);

-- Revoked access tokens (by their jti) until they would have expired anyway.
CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY,
    expires_at  TIMESTAMP NOT NULL
);
