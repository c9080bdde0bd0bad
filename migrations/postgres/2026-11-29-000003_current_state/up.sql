-- A dossier's current fiche is (dossier_id, current_horodatage_utc), unique in fiches: the
-- column that repeated it is dropped (it cost one UPDATE per new dossier at ingestion).
ALTER TABLE dossiers DROP COLUMN current_fiche_id;
