DROP TABLE mediation_cases;
DROP TABLE indicator_values;
DROP TABLE indicator_runs;
