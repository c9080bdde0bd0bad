DROP TABLE consumption_statements;
DROP TABLE order_alerts;
