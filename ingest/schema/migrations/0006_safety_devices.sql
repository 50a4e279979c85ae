-- Safety devices: the declared count of lone elderly residents, the elevator an e-bike
-- detector or lift controller serves, the resident an SOS button belongs to (one button
-- each), whom an access gate authenticates, and the floors a throw-detection camera
-- watches (an inclusive range).
--
-- An elevator is a device row (kind elevator) so that detectors and controllers point at it
-- with a foreign key; the inventory import deletes and rewrites a community's devices in
-- single statements, so the self-reference is checked once each statement ends.

ALTER TABLE communities ADD COLUMN lone_elderly integer CHECK (lone_elderly >= 0);

ALTER TABLE devices
    ADD COLUMN elevator    text,
    ADD COLUMN resident    text,
    ADD COLUMN subjects    text[] NOT NULL DEFAULT '{}'
        CHECK (subjects <@ ARRAY['person', 'vehicle']::text[]),
    ADD COLUMN watch_from  integer CHECK (watch_from >= 1),
    ADD COLUMN watch_to    integer,
    ADD CONSTRAINT devices_watched_floors
        CHECK ((watch_from IS NULL) = (watch_to IS NULL) AND watch_to >= watch_from),
    ADD FOREIGN KEY (community, elevator) REFERENCES devices (community, id);

CREATE UNIQUE INDEX devices_resident ON devices (community, resident)
    WHERE resident IS NOT NULL;
CREATE INDEX devices_elevator ON devices (community, elevator) WHERE elevator IS NOT NULL;
