ALTER TABLE receipts DROP COLUMN purged_at;
