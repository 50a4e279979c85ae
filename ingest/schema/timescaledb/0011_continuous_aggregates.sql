-- scg:requires-license timescale
-- Continuous aggregates in place of the plain rollup tables of migrations/0013: hourly
-- availability per device (from the hour-cut state intervals) and daily energy per
-- counter (from the readings). Same names and columns, so every query reads both modes.
-- Real-time aggregation is on: hours not yet materialized are computed from the raw rows
-- at query time; the refresh policies (ingest.schema.timescale) materialize the rest,
-- including hours a late state change rewrote. Created WITH NO DATA because a migration
-- runs in a transaction; migrate refreshes them once it is done.
-- device_state_intervals is a hypertable by now (migrate makes every TIME_SERIES table one
-- before the TimescaleDB migrations run).

DROP TABLE availability_hourly;
DROP TABLE energy_daily;

CREATE MATERIALIZED VIEW availability_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT community, device, time_bucket(INTERVAL '1 hour', start) AS hour,
       sum(CASE WHEN state = 'online' THEN extract(epoch FROM stop - start) ELSE 0 END)::float8
           AS online_s,
       sum(CASE WHEN state = 'degraded' THEN extract(epoch FROM stop - start) ELSE 0 END)::float8
           AS degraded_s,
       sum(CASE WHEN state = 'offline' THEN extract(epoch FROM stop - start) ELSE 0 END)::float8
           AS offline_s,
       sum(CASE WHEN state = 'unknown' THEN extract(epoch FROM stop - start) ELSE 0 END)::float8
           AS unknown_s
FROM device_state_intervals
GROUP BY community, device, time_bucket(INTERVAL '1 hour', start)
WITH NO DATA;

CREATE MATERIALIZED VIEW energy_daily
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT community, device, metric, time_bucket(INTERVAL '1 day', time, 'Asia/Shanghai') AS day,
       min(time) AS first_time, first(value, time) AS first_value,
       max(time) AS last_time, last(value, time) AS last_value, count(*) AS readings
FROM readings
WHERE metric LIKE '%\_kwh'
GROUP BY community, device, metric, time_bucket(INTERVAL '1 day', time, 'Asia/Shanghai')
WITH NO DATA;

-- The aggregates follow the raw rows: the writer's rollup calls do nothing here.
CREATE OR REPLACE FUNCTION scg_state_intervals_rebuilt(p_community text, p_device text,
                                                       p_from timestamptz) RETURNS void
LANGUAGE plpgsql AS $$ BEGIN END $$;

CREATE OR REPLACE FUNCTION scg_rollup_energy(p_community text[], p_device text[],
                                             p_metric text[], p_day timestamptz[],
                                             p_first_time timestamptz[],
                                             p_first_value float8[],
                                             p_last_time timestamptz[],
                                             p_last_value float8[], p_readings int8[])
RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;
