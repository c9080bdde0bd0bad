-- Deliverables (feed spec point 34, issue 23): the signed file of a UO1 or UO2.1 (état des
-- lieux partagé, projet professionnel), deposited in inbox/L{ll}/livrables/ or pushed to the
-- API, checked against the SHA-256 of its name, archived, then matched with the fiche that
-- declares it (livrable_sha256). Matching is done when read, so a fiche arriving after its
-- file still finds it. One file per lot and content.
CREATE TABLE deliverables (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    lot             TEXT NOT NULL,
    numero_dossier  TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    format          TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    channel         TEXT NOT NULL,
    received_at     TIMESTAMP NOT NULL,
    archive_path    TEXT NOT NULL,
    UNIQUE (lot, sha256)
);
CREATE INDEX deliverables_dossier ON deliverables (numero_dossier);
