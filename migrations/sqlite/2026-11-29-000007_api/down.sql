DROP TABLE revoked_tokens;
DROP TABLE audit_log;
ALTER TABLE users DROP COLUMN locked_until;
ALTER TABLE users DROP COLUMN failed_logins;
