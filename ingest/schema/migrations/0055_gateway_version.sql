-- The software release a gateway names in its birth and last will (telemetry.status,
-- optional), so that operations staff see which edge box runs which release. NULL: the
-- gateway has not said (an older release, or no status yet).
ALTER TABLE gateways ADD COLUMN version text;
