DROP TABLE order_alerts;
