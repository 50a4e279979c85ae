-- Field devices: the household a meter serves, a charging station's port count, the hazard
-- kinds a fire panel or hazard sensor detects, and the zones of fire panels.
--
-- Columns and a table rather than keys in devices.attrs: the database then holds the rules
-- the indicators rely on — one meter per household (a unique index), only the four hazard
-- kinds, zones that point at a real building and vanish with their panel — and the
-- loaders join zones to buildings and events (data.zone) in plain SQL.

ALTER TABLE devices
    ADD COLUMN household  text,
    ADD COLUMN ports      integer CHECK (ports >= 1),
    ADD COLUMN hazards    text[] NOT NULL DEFAULT '{}'
        CHECK (hazards <@ ARRAY['fire_lane', 'hydrant', 'fire_door', 'electrical']::text[]);

CREATE UNIQUE INDEX devices_household ON devices (community, household)
    WHERE household IS NOT NULL;

-- One row per zone (回路/防区) of a fire panel. `zone` is the number the panel reports in
-- its zone events (data.zone); `area` public decides automatic fire alarm coverage.
CREATE TABLE fire_zones (
    community  text NOT NULL,
    panel      text NOT NULL,
    zone       integer NOT NULL CHECK (zone >= 0),
    building   text NOT NULL,
    area       text NOT NULL CHECK (area IN ('public', 'private')),
    PRIMARY KEY (community, panel, zone),
    FOREIGN KEY (community, panel) REFERENCES devices (community, id) ON DELETE CASCADE,
    FOREIGN KEY (community, building) REFERENCES buildings (community, id)
);

CREATE INDEX fire_zones_building ON fire_zones (community, building);
