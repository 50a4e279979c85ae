-- Indicator snapshots: each community's measured indicators computed by the evaluator
-- (inside `scg api`, or `scg evaluator run`) when its data changed, and stored, so that
-- GET /api/communities/{id}/indicators, the report as of now, the county overview and the
-- hourly history read one row instead of computing (indicators.snapshots).
--
-- community_data_versions: the writer bumps a community's counters in the transaction
-- that stores its data (one row per community and batch, ingest.data_versions). `version`
-- counts every batch that wrote something of the community; `state_version` only those
-- carrying state changes, events or a gateway's birth / last will, which the evaluator
-- recomputes for within seconds (readings and probes wait a little longer).

CREATE TABLE community_data_versions (
    community      text PRIMARY KEY,
    version        bigint NOT NULL DEFAULT 0,
    state_version  bigint NOT NULL DEFAULT 0,
    changed_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per community: the latest snapshot. `indicators` is the JSON body served by
-- GET …/indicators (every result's to_dict(), in INDICATOR_IDS order); `overview` is the
-- community's entry in GET /api/overview. The versions, the inventory's import time and
-- the latest declaration's entry time say which data the snapshot reflects.
CREATE TABLE indicator_snapshots (
    community      text PRIMARY KEY REFERENCES communities (id) ON DELETE CASCADE,
    as_of          timestamptz NOT NULL,
    data_version   bigint NOT NULL,
    state_version  bigint NOT NULL,
    inventory_at   timestamptz NOT NULL,
    declared_at    timestamptz,
    computed_at    timestamptz NOT NULL DEFAULT now(),
    compute_ms     integer NOT NULL,
    indicators     text NOT NULL,
    overview       jsonb NOT NULL
);

-- Evaluators alive: each beats here every poll. A snapshot behind the data is served only
-- while one is alive (it is about to be replaced); otherwise the API computes.
CREATE TABLE snapshot_evaluators (
    name        text PRIMARY KEY,                 -- host:pid
    started_at  timestamptz NOT NULL,
    beat_at     timestamptz NOT NULL
);

-- Energy saving counts kWh and the windowed networked rate seconds: not whole numbers.
ALTER TABLE indicator_history
    ALTER COLUMN numerator TYPE double precision,
    ALTER COLUMN denominator TYPE double precision;

-- The overview counts the alarms not yet closed, per community and severity.
CREATE INDEX alarms_not_closed ON alarms (community, severity, state) WHERE state <> 'closed';
