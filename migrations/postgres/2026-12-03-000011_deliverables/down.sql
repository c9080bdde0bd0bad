DROP TABLE deliverables;
