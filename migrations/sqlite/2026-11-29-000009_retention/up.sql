-- Retention (issue 10): when a receipt's raw file was deleted by the purge.
ALTER TABLE receipts ADD COLUMN purged_at TIMESTAMP;
