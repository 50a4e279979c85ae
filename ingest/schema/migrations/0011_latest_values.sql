-- Latest values kept by the writer, in the same transaction as the history rows, so that
-- no indicator scans history to find a latest value:
--   device_status      each device's latest state, last-seen time and (new here) latest
--                      picture probe;
--   reading_latest     the latest reading per (device, metric);
--   condition_latest   the latest event per (device, type, key) of events that set or
--                      clear a condition (active not null): open faults, fire-zone
--                      conditions;
--   gateway_status_changes  every birth / last will, so that gateway-offline time can be
--                      taken out of windowed availability.
-- Every upsert moves a value only forward in time, so out-of-order and redelivered data
-- never move a latest value backwards. Each table is filled here from the history.

ALTER TABLE device_status
    ADD COLUMN probe_time    timestamptz,
    ADD COLUMN probe_ok      boolean,
    ADD COLUMN probe_reason  text,
    ADD COLUMN probe_data    jsonb;

UPDATE device_status s
SET probe_time = p.time, probe_ok = p.ok, probe_reason = p.reason, probe_data = p.data
FROM (SELECT DISTINCT ON (community, device) community, device, time, ok, reason, data
      FROM probes ORDER BY community, device, time DESC) p
WHERE s.community = p.community AND s.device = p.device;

-- A probe of a device that sent nothing else yet still needs its row.
INSERT INTO device_status (community, device, gateway, probe_time, probe_ok, probe_reason,
                           probe_data, last_seen)
SELECT DISTINCT ON (community, device) community, device, gateway, time, ok, reason, data,
       time
FROM probes ORDER BY community, device, time DESC
ON CONFLICT (community, device) DO NOTHING;

CREATE TABLE reading_latest (
    community  text NOT NULL,
    device     text NOT NULL,
    metric     text NOT NULL,
    gateway    text NOT NULL,
    time       timestamptz NOT NULL,
    value      double precision NOT NULL,
    PRIMARY KEY (community, device, metric)
);

INSERT INTO reading_latest (community, device, metric, gateway, time, value)
SELECT DISTINCT ON (community, device, metric) community, device, metric, gateway, time, value
FROM readings ORDER BY community, device, metric, time DESC;

-- `key` is the alarm key of the event's data (`zone=3`, `port=1`, '' when none; see
-- ingest.alarms.alarm_key), so each zone of a fire panel keeps its own condition.
CREATE TABLE condition_latest (
    community  text NOT NULL,
    device     text NOT NULL,
    type       text NOT NULL,
    key        text NOT NULL,
    time       timestamptz NOT NULL,
    active     boolean NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (community, device, type, key)
);

INSERT INTO condition_latest (community, device, type, key, time, active, data)
SELECT DISTINCT ON (community, device, type, key) community, device, type, key, time, active,
       data
FROM (SELECT community, device, type, time, active, data,
             CASE WHEN data ? 'zone' AND jsonb_typeof(data -> 'zone') <> 'null'
                       THEN 'zone=' || (data ->> 'zone')
                  WHEN data ? 'port' AND jsonb_typeof(data -> 'port') <> 'null'
                       THEN 'port=' || (data ->> 'port')
                  ELSE '' END AS key
      FROM events WHERE active IS NOT NULL) e
ORDER BY community, device, type, key, time DESC;

-- `at` is when ingest received the birth or last will (a last will carries the time the
-- gateway connected, not when it vanished: see gateways.since).
CREATE TABLE gateway_status_changes (
    community  text NOT NULL,
    gateway    text NOT NULL,
    at         timestamptz NOT NULL,
    online     boolean NOT NULL
);
CREATE INDEX gateway_status_changes_gateway_at ON gateway_status_changes (community, gateway, at);
CREATE INDEX gateway_status_changes_at ON gateway_status_changes (at);

INSERT INTO gateway_status_changes (community, gateway, at, online)
SELECT community, gateway, since, online FROM gateways
WHERE online IS NOT NULL AND since IS NOT NULL;
