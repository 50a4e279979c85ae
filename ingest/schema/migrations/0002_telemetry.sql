-- What gateways send: the envelopes received (the de-duplication key), their items split by
-- kind, gateway birth / last will, current device status, and everything rejected.
-- Time-series tables (readings, events, device_state_changes, probes) become hypertables
-- when TimescaleDB is present (see ../timescaledb/); their columns are the same either way.

CREATE TABLE received_envelopes (
    community    text NOT NULL,
    gateway      text NOT NULL,
    seq          bigint NOT NULL,
    sent_at      timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    items        integer NOT NULL,
    rejected     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (community, gateway, seq)
);

CREATE TABLE readings (
    time       timestamptz NOT NULL,
    community  text NOT NULL,
    gateway    text NOT NULL,
    device     text NOT NULL,
    metric     text NOT NULL,
    value      double precision NOT NULL
);
CREATE INDEX readings_device_metric_time ON readings (community, device, metric, time DESC);
CREATE INDEX readings_time ON readings (time DESC);

CREATE TABLE events (
    time       timestamptz NOT NULL,
    community  text NOT NULL,
    gateway    text NOT NULL,
    device     text NOT NULL,
    type       text NOT NULL,
    severity   text NOT NULL CHECK (severity IN ('info', 'warning', 'alarm', 'critical')),
    active     boolean,
    data       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_device_time ON events (community, device, time DESC);
CREATE INDEX events_type_time ON events (community, type, time DESC);
CREATE INDEX events_time ON events (time DESC);

CREATE TABLE device_state_changes (
    since      timestamptz NOT NULL,
    community  text NOT NULL,
    gateway    text NOT NULL,
    device     text NOT NULL,
    state      text NOT NULL CHECK (state IN ('online', 'degraded', 'offline', 'unknown')),
    reason     text NOT NULL DEFAULT ''
);
CREATE INDEX device_state_changes_device_since
    ON device_state_changes (community, device, since DESC);
CREATE INDEX device_state_changes_since ON device_state_changes (since DESC);

CREATE TABLE probes (
    time       timestamptz NOT NULL,
    community  text NOT NULL,
    gateway    text NOT NULL,
    device     text NOT NULL,
    ok         boolean NOT NULL,
    reason     text NOT NULL DEFAULT '',
    data       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX probes_device_time ON probes (community, device, time DESC);
CREATE INDEX probes_time ON probes (time DESC);

-- The edge's latest verdict per device plus when it was last heard from. `state` and
-- `since` only move forward in `since`; `last_seen` only moves forward in time.
CREATE TABLE device_status (
    community   text NOT NULL,
    device      text NOT NULL,
    gateway     text NOT NULL,
    state       text CHECK (state IN ('online', 'degraded', 'offline', 'unknown')),
    since       timestamptz,
    reason      text NOT NULL DEFAULT '',
    last_seen   timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (community, device)
);

-- Birth / last will. `online` is null while only envelopes (no status message) were seen.
-- `since` is when ingest saw the status flip: a last will carries the time the gateway
-- connected, not the time it vanished.
CREATE TABLE gateways (
    community      text NOT NULL,
    gateway        text NOT NULL,
    online         boolean,
    since          timestamptz,
    reported_at    timestamptz,
    last_envelope  timestamptz,
    PRIMARY KEY (community, gateway)
);

CREATE TABLE dead_letters (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    topic       text NOT NULL,
    community   text,
    gateway     text,
    seq         bigint,
    code        text NOT NULL,
    reason      text NOT NULL,
    payload     bytea NOT NULL,
    item_index  integer
);
CREATE INDEX dead_letters_received_at ON dead_letters (received_at DESC);
