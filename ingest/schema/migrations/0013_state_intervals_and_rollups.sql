-- Availability from state intervals, and the two rollups the indicators read.
--
-- device_state_intervals: each device's edge-state timeline cut at every hour boundary,
-- from its first state change up to its latest one (the open span after the latest change
-- is read from device_status). The writer rebuilds a device's pieces from the hour of the
-- change before its earliest new change, so late and out-of-order state changes come out
-- exactly as if they had arrived in order.
--
-- availability_hourly (seconds per state per device and hour) and energy_daily (first and
-- last reading per energy counter and local day) are plain tables here, maintained by the
-- writer through the functions below; on TimescaleDB they are replaced by continuous
-- aggregates of the same name and columns (../timescaledb/0011_continuous_aggregates.sql),
-- and the maintaining functions become no-ops.

CREATE TABLE device_state_intervals (
    start      timestamptz NOT NULL,
    stop       timestamptz NOT NULL CHECK (stop > start),
    community  text NOT NULL,
    device     text NOT NULL,
    gateway    text NOT NULL,
    state      text NOT NULL CHECK (state IN ('online', 'degraded', 'offline', 'unknown'))
);
CREATE INDEX device_state_intervals_device_start
    ON device_state_intervals (community, device, start);
CREATE INDEX device_state_intervals_start ON device_state_intervals (start);

CREATE TABLE availability_hourly (
    community   text NOT NULL,
    device      text NOT NULL,
    hour        timestamptz NOT NULL,
    online_s    double precision NOT NULL,
    degraded_s  double precision NOT NULL,
    offline_s   double precision NOT NULL,
    unknown_s   double precision NOT NULL,
    PRIMARY KEY (community, device, hour)
);

-- Days are local days: Shandong keeps China Standard Time (UTC+8) all year.
CREATE TABLE energy_daily (
    community    text NOT NULL,
    device       text NOT NULL,
    metric       text NOT NULL,
    day          timestamptz NOT NULL,
    first_time   timestamptz NOT NULL,
    first_value  double precision NOT NULL,
    last_time    timestamptz NOT NULL,
    last_value   double precision NOT NULL,
    readings     bigint NOT NULL,
    PRIMARY KEY (community, device, metric, day)
);

-- Called by the writer after its state changes are stored: rebuild the pieces of each
-- (community, device) from the hour of the change in force before `since_from`.
CREATE FUNCTION scg_rebuild_state_intervals(p_community text[], p_device text[],
                                            p_from timestamptz[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    i integer;
    prev timestamptz;
    start_h timestamptz;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_device, 1), 0) LOOP
        SELECT max(since) INTO prev FROM device_state_changes
        WHERE community = p_community[i] AND device = p_device[i] AND since < p_from[i];
        start_h := date_trunc('hour', coalesce(prev, p_from[i]));
        DELETE FROM device_state_intervals
        WHERE community = p_community[i] AND device = p_device[i] AND start >= start_h;
        INSERT INTO device_state_intervals (start, stop, community, device, gateway, state)
        WITH changes AS (
            (SELECT since, state, gateway FROM device_state_changes
             WHERE community = p_community[i] AND device = p_device[i] AND since <= start_h
             ORDER BY since DESC, state DESC LIMIT 1)
            UNION ALL
            SELECT since, state, gateway FROM device_state_changes
            WHERE community = p_community[i] AND device = p_device[i] AND since > start_h
        ), spans AS (
            SELECT greatest(since, start_h) AS s,
                   lead(since) OVER (ORDER BY since, state) AS e, state, gateway
            FROM changes
        )
        SELECT greatest(s, h), least(e, h + interval '1 hour'), p_community[i], p_device[i],
               gateway, state
        FROM spans CROSS JOIN LATERAL
             generate_series(date_trunc('hour', s), e, interval '1 hour') AS h
        WHERE e > s AND least(e, h + interval '1 hour') > greatest(s, h);
        PERFORM scg_state_intervals_rebuilt(p_community[i], p_device[i], start_h);
    END LOOP;
END
$$;

-- Plain PostgreSQL: the hourly rollup follows the rebuilt pieces.
CREATE FUNCTION scg_state_intervals_rebuilt(p_community text, p_device text,
                                            p_from timestamptz) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM availability_hourly
    WHERE community = p_community AND device = p_device AND hour >= p_from;
    INSERT INTO availability_hourly (community, device, hour, online_s, degraded_s, offline_s,
                                     unknown_s)
    SELECT community, device, date_trunc('hour', start),
           sum(CASE WHEN state = 'online' THEN extract(epoch FROM stop - start) ELSE 0 END),
           sum(CASE WHEN state = 'degraded' THEN extract(epoch FROM stop - start) ELSE 0 END),
           sum(CASE WHEN state = 'offline' THEN extract(epoch FROM stop - start) ELSE 0 END),
           sum(CASE WHEN state = 'unknown' THEN extract(epoch FROM stop - start) ELSE 0 END)
    FROM device_state_intervals
    WHERE community = p_community AND device = p_device AND start >= p_from
    GROUP BY community, device, date_trunc('hour', start);
$$;

-- Plain PostgreSQL: fold first / last readings per (device, metric, local day), already
-- reduced by the writer to one row per key and batch, into energy_daily.
CREATE FUNCTION scg_rollup_energy(p_community text[], p_device text[], p_metric text[],
                                  p_day timestamptz[], p_first_time timestamptz[],
                                  p_first_value float8[], p_last_time timestamptz[],
                                  p_last_value float8[], p_readings int8[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO energy_daily AS e (community, device, metric, day, first_time, first_value,
                                   last_time, last_value, readings)
    SELECT * FROM unnest(p_community, p_device, p_metric, p_day, p_first_time, p_first_value,
                         p_last_time, p_last_value, p_readings)
    ON CONFLICT (community, device, metric, day) DO UPDATE SET
        first_value = CASE WHEN EXCLUDED.first_time < e.first_time
                           THEN EXCLUDED.first_value ELSE e.first_value END,
        first_time = least(e.first_time, EXCLUDED.first_time),
        last_value = CASE WHEN EXCLUDED.last_time > e.last_time
                          THEN EXCLUDED.last_value ELSE e.last_value END,
        last_time = greatest(e.last_time, EXCLUDED.last_time),
        readings = e.readings + EXCLUDED.readings;
$$;

-- Fill everything from the history already stored.
SELECT scg_rebuild_state_intervals(array_agg(community), array_agg(device),
                                   array_agg(first_since))
FROM (SELECT community, device, min(since) AS first_since FROM device_state_changes
      GROUP BY community, device) d;

INSERT INTO energy_daily (community, device, metric, day, first_time, first_value,
                          last_time, last_value, readings)
SELECT community, device, metric, date_trunc('day', time, 'Asia/Shanghai'), min(time),
       (array_agg(value ORDER BY time))[1], max(time),
       (array_agg(value ORDER BY time DESC))[1], count(*)
FROM readings WHERE metric LIKE '%\_kwh'
GROUP BY community, device, metric, date_trunc('day', time, 'Asia/Shanghai');
