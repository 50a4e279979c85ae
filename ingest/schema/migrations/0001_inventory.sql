-- The community register imported from inventory YAML: communities, compounds (小区),
-- buildings and devices. Replaced as a whole per community on each import.

CREATE TABLE settings (
    key         text PRIMARY KEY,
    value       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE communities (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    district_code  text NOT NULL CHECK (district_code ~ '^[0-9]{6}$'),
    households     integer CHECK (households >= 0),
    source         text,
    imported_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE compounds (
    community  text NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    id         text NOT NULL,
    name       text,
    closed     boolean NOT NULL DEFAULT false,
    ebikes     boolean NOT NULL DEFAULT false,
    attrs      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (community, id)
);

CREATE TABLE buildings (
    community    text NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    id           text NOT NULL,
    compound     text,
    floors       integer CHECK (floors >= 1),
    residential  boolean NOT NULL DEFAULT true,
    attrs        jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (community, id),
    FOREIGN KEY (community, compound) REFERENCES compounds (community, id)
);

-- Telemetry tables deliberately have no foreign key to devices: items for devices that are
-- not (yet) in the inventory are kept, and re-importing an inventory keeps the history.
CREATE TABLE devices (
    community     text NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    id            text NOT NULL,
    kind          text NOT NULL,
    name          text,
    compound      text,
    building      text,
    public        boolean NOT NULL DEFAULT true,
    gateway       text,
    protocol      text,
    address       text,
    capabilities  text[] NOT NULL DEFAULT '{}',
    attrs         jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (community, id),
    FOREIGN KEY (community, compound) REFERENCES compounds (community, id),
    FOREIGN KEY (community, building) REFERENCES buildings (community, id)
);

CREATE INDEX devices_kind ON devices (community, kind);
CREATE INDEX devices_gateway ON devices (community, gateway);
