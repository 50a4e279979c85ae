-- History that ages well on plain PostgreSQL: the time-series tables become declaratively
-- range-partitioned on their time column, so that `scg db maintain` expires old data by
-- dropping whole partitions (no DELETE, no bloat) and creates the coming ones ahead.
--
-- Where TimescaleDB is installed this migration changes nothing: those tables are (or are
-- about to become) hypertables, whose chunks do the same job.
--
-- A populated table is not copied: it is renamed `<table>_p_legacy` and attached as the
-- partition for everything before the next period boundary (its constraint is validated
-- first, which reads it once but does not rewrite it). maintain drops it whole once all of
-- it is past retention. A `<table>_p_default` partition catches rows outside every
-- partition (data older than the oldest partition arriving late), so no insert fails for
-- want of a partition; maintain moves such rows into a partition when it creates one,
-- and deletes those past retention.

CREATE TABLE time_partitions (
    parent     text NOT NULL,
    name       text PRIMARY KEY,
    lower      timestamptz,                -- null: from the beginning of time (MINVALUE)
    upper      timestamptz NOT NULL
);
CREATE INDEX time_partitions_parent ON time_partitions (parent, upper);

-- Make sure partitions of `p_unit` ('day', 'week' or 'month', aligned in UTC) cover
-- [p_lo, p_hi); gaps left by partitions of another length are filled, not overlapped.
CREATE FUNCTION scg_ensure_partitions(p_table text, p_column text, p_unit text,
                                      p_lo timestamptz, p_hi timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    period timestamptz := date_trunc(p_unit, p_lo, 'UTC');
    period_end timestamptz;
    lo timestamptz;
    hi timestamptz;
    name text;
    created integer := 0;
    has_default boolean := to_regclass(p_table || '_p_default') IS NOT NULL;
BEGIN
    IF p_unit NOT IN ('day', 'week', 'month') THEN
        RAISE EXCEPTION 'partition unit % is not day, week or month', p_unit;
    END IF;
    WHILE period < p_hi LOOP
        period_end := period + ('1 ' || p_unit)::interval;
        lo := period;
        WHILE lo < period_end LOOP
            -- Skip past a partition that covers `lo`, then stop at the next one that starts.
            SELECT max(upper) INTO hi FROM time_partitions
            WHERE parent = p_table AND coalesce(lower, '-infinity') <= lo AND upper > lo;
            IF hi IS NOT NULL THEN
                lo := hi;
                CONTINUE;
            END IF;
            SELECT least(period_end, min(lower)) INTO hi FROM time_partitions
            WHERE parent = p_table AND lower > lo AND lower < period_end;
            hi := coalesce(hi, period_end);
            name := format('%s_p%s', p_table, to_char(lo AT TIME ZONE 'UTC', 'YYYYMMDD'));
            IF to_char(lo AT TIME ZONE 'UTC', 'HH24MISS') <> '000000' THEN
                name := name || to_char(lo AT TIME ZONE 'UTC', '"t"HH24MISS');
            END IF;
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                           name, p_table);
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (%I >= %L AND %I < %L)',
                           name, name || '_bounds', p_column, lo, p_column, hi);
            IF has_default THEN
                EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= %L AND %I < %L '
                               'RETURNING *) INSERT INTO %I SELECT * FROM moved',
                               p_table || '_p_default', p_column, lo, p_column, hi, name);
            END IF;
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                           p_table, name, lo, hi);
            INSERT INTO time_partitions (parent, name, lower, upper)
            VALUES (p_table, name, lo, hi);
            created := created + 1;
            lo := hi;
        END LOOP;
        period := period_end;
    END LOOP;
    RETURN created;
END
$$;

-- Drop the partitions of `p_table` that end at or before `p_horizon`, and delete the rows
-- before it from the default partition; return the names dropped.
CREATE FUNCTION scg_drop_partitions(p_table text, p_column text, p_horizon timestamptz)
RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    dropped text[] := '{}';
    part record;
BEGIN
    FOR part IN SELECT name FROM time_partitions
                WHERE parent = p_table AND upper <= p_horizon ORDER BY upper LOOP
        EXECUTE format('DROP TABLE %I', part.name);
        DELETE FROM time_partitions WHERE name = part.name;
        dropped := dropped || part.name;
    END LOOP;
    IF to_regclass(p_table || '_p_default') IS NOT NULL THEN
        EXECUTE format('DELETE FROM %I WHERE %I < %L', p_table || '_p_default', p_column,
                       p_horizon);
    END IF;
    RETURN dropped;
END
$$;

-- Turn one plain table into a partitioned one (see the top of this file).
CREATE FUNCTION scg_partition_table(p_table text, p_column text, p_unit text,
                                    p_ahead integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    legacy text := p_table || '_p_legacy';
    idx record;
    newest timestamptz;
    boundary timestamptz;
BEGIN
    EXECUTE format('ALTER TABLE %I RENAME TO %I', p_table, legacy);
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS) '
                   'PARTITION BY RANGE (%I)', p_table, legacy, p_column);
    -- The same indexes, under the same names, on the partitioned table.
    FOR idx IN SELECT c.relname AS name, n.nspname AS schema,
                      pg_get_indexdef(i.indexrelid) AS def
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE i.indrelid = legacy::regclass LOOP
        EXECUTE format('ALTER INDEX %I RENAME TO %I', idx.name, legacy || '_' || idx.name);
        EXECUTE replace(idx.def, format(' ON %I.%I ', idx.schema, legacy),
                        format(' ON %I.%I ', idx.schema, p_table));
    END LOOP;
    EXECUTE format('SELECT max(%I) FROM %I', p_column, legacy) INTO newest;
    IF newest IS NULL THEN
        EXECUTE format('DROP TABLE %I', legacy);
        boundary := date_trunc(p_unit, now(), 'UTC');
    ELSE
        boundary := date_trunc(p_unit, greatest(newest, now()), 'UTC')
                    + ('1 ' || p_unit)::interval;
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (%I < %L) NOT VALID',
                       legacy, legacy || '_bounds', p_column, boundary);
        EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', legacy, legacy || '_bounds');
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%L)',
                       p_table, legacy, boundary);
        INSERT INTO time_partitions (parent, name, lower, upper)
        VALUES (p_table, legacy, NULL, boundary);
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', p_table || '_p_default', p_table);
    PERFORM scg_ensure_partitions(p_table, p_column, p_unit, boundary,
                                  boundary + (p_ahead || ' ' || p_unit)::interval);
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        RETURN;
    END IF;
    PERFORM scg_partition_table('readings', 'time', 'month', 2);
    PERFORM scg_partition_table('events', 'time', 'month', 2);
    PERFORM scg_partition_table('device_state_changes', 'since', 'month', 2);
    PERFORM scg_partition_table('probes', 'time', 'month', 2);
    PERFORM scg_partition_table('device_state_intervals', 'start', 'month', 2);
END
$$;
