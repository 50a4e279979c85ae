-- Room on each page for the next version of a row, in the tables the writer updates in
-- place at every batch (ingest/latest_values.py: a row per device, per device and metric,
-- per condition, per gateway, per meter and day). On pages filled to the brim an update
-- cannot stay on its page: PostgreSQL writes the new version on another page with a new
-- primary-key entry, and table and index bloat. With room left, nearly every update is a
-- heap-only (HOT) one. Measured on the batches of `python -m bench ingest` (500 messages
-- of one reading): 20 % of these updates were HOT before and nearly all after, the upsert
-- of a batch took about a quarter less time and the tables stayed a quarter of the size.
-- energy_daily gains a row per meter and day and updates only the current day's rows, so
-- it gets less room: finished days should not keep half-empty pages.
-- The setting applies to pages filled from now on; existing pages keep their layout until
-- the table is rewritten (VACUUM FULL), which this migration does not do. On TimescaleDB
-- energy_daily is a continuous aggregate (timescaledb/0011), not a table: left alone.
DO $$
DECLARE
    target record;
BEGIN
    FOR target IN
        SELECT c.oid::regclass AS rel, room.fill
        FROM (VALUES ('device_status', 50), ('reading_latest', 50), ('condition_latest', 50),
                     ('gateways', 50), ('energy_daily', 80)) AS room(name, fill)
        JOIN pg_class c ON c.oid = to_regclass(room.name)
        WHERE c.relkind = 'r'
    LOOP
        EXECUTE format('ALTER TABLE %s SET (fillfactor = %s)', target.rel, target.fill);
    END LOOP;
END
$$;
