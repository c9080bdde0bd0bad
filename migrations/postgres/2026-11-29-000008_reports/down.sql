DROP TABLE email_outbox;
DROP TABLE job_runs;
DROP TABLE documents;
