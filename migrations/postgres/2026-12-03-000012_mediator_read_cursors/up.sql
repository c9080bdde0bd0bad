-- Every read of a dossier by the médiateur reaches its operator (Annex 2 §3, issue 23.2): the
-- reads are reported in the lot's next processing report, or in the daily notice when the lot
-- sends nothing, and this cursor (the last audit entry reported, per lot) advances in the same
-- transaction. Before, only the reads of a file's own day were reported, and a read made after
-- the lot's last file of a day reached no report.
CREATE TABLE mediator_read_cursors (
    lot            TEXT PRIMARY KEY,
    last_audit_id  BIGINT NOT NULL
);
