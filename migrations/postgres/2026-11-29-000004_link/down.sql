DROP INDEX identity_records_seen;
DROP TABLE link_keys;
DROP TABLE link_decisions;
DROP TABLE link_events;
DROP TABLE link_runs;
