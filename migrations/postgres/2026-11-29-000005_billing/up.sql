-- Purchase-order consumption alerts (issue 7): recorded once per order, level and quantity
-- (an amended quantity may raise them again), with the cut-off that found them.
CREATE TABLE order_alerts (
    id              BIGSERIAL PRIMARY KEY,
    order_reference TEXT NOT NULL,
    level           INTEGER NOT NULL,     -- 80 or 100 (% of the quantity)
    consumed        BIGINT NOT NULL,
    quantity        BIGINT NOT NULL,
    cutoff          TIMESTAMP NOT NULL,
    recorded_at     TIMESTAMP NOT NULL,
    UNIQUE (order_reference, level, quantity)
);

-- Consumption statements as issued (indicators-v1 point 17: stored statements keep the values
-- they were computed with): one row per statement number and cut-off.
CREATE TABLE consumption_statements (
    number      TEXT NOT NULL,
    cutoff      TIMESTAMP NOT NULL,
    body_json   TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (number, cutoff)
);
