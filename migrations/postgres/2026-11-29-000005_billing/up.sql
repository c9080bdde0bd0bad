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
