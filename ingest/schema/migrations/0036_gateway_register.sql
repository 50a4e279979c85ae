-- Which gateway speaks for which device: ingest accepts an item only for a device the
-- inventory registers to the gateway that sent it (ingest/register.py). A community lists
-- a gateway when one of its devices names it, or when its inventory names it under
-- `gateways:` (a gateway installed before its devices are registered): those are kept here.
CREATE TABLE community_gateways (
    community  text NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    gateway    text NOT NULL,
    PRIMARY KEY (community, gateway)
);

-- The register's version: every statement that changes devices or community_gateways bumps
-- it in its own transaction, so ingest, which keeps the register in memory, checks one
-- row per batch and reloads only after an import has committed. `epoch` tells databases
-- apart (one process may write to several, e.g. the tests).
CREATE TABLE register_state (
    only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    epoch       uuid NOT NULL DEFAULT gen_random_uuid(),
    version     bigint NOT NULL DEFAULT 0,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO register_state DEFAULT VALUES;

-- SECURITY DEFINER: whoever may change the register moves its version, without being
-- allowed to write register_state otherwise.
CREATE FUNCTION scg_register_changed() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE register_state SET version = version + 1, changed_at = now();
    RETURN NULL;
END
$$;

CREATE TRIGGER devices_register_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION scg_register_changed();
CREATE TRIGGER community_gateways_register_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON community_gateways
    FOR EACH STATEMENT EXECUTE FUNCTION scg_register_changed();
