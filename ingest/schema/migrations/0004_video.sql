-- Video: the community boundary, the key positions (重点点位) that must be watched, and the
-- camera record (一机一档) on devices: GB/T 28181 code, GB/T 2260 civil code, WGS-84 position
-- and the key position watched. Record fields are stored as given (compliance is measured,
-- not enforced). `origin` tells devices of the inventory YAML from cameras imported from a
-- platform's camera sheet; re-importing the YAML keeps the latter.

ALTER TABLE communities ADD COLUMN boundary jsonb;

CREATE TABLE key_positions (
    community  text NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    id         text NOT NULL,
    type       text NOT NULL CHECK (type IN ('community_entrance', 'parking_entrance',
                                             'main_road', 'fire_lane')),
    name       text,
    compound   text,
    PRIMARY KEY (community, id),
    FOREIGN KEY (community, compound) REFERENCES compounds (community, id)
);

ALTER TABLE devices
    ADD COLUMN code          text,
    ADD COLUMN civil_code    text,
    ADD COLUMN longitude     double precision,
    ADD COLUMN latitude      double precision,
    ADD COLUMN key_position  text,
    ADD COLUMN origin        text NOT NULL DEFAULT 'inventory'
                             CHECK (origin IN ('inventory', 'sheet')),
    ADD FOREIGN KEY (community, key_position) REFERENCES key_positions (community, id);

CREATE INDEX devices_key_position ON devices (community, key_position)
    WHERE key_position IS NOT NULL;
