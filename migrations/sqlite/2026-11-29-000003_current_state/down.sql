ALTER TABLE dossiers ADD COLUMN current_fiche_id BIGINT;
