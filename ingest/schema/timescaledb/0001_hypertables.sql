-- TimescaleDB only: turn the time-series tables of migrations/0002 into hypertables.
-- Applied after the plain migrations, only where the extension exists.
-- Columns and indexes stay the same, so every query works in both storage modes.
-- The pre-2.13 call form of create_hypertable is used because it works on every 2.x.

SELECT create_hypertable('readings', 'time', chunk_time_interval => INTERVAL '1 day',
                         migrate_data => true, if_not_exists => true,
                         create_default_indexes => false);
SELECT create_hypertable('events', 'time', chunk_time_interval => INTERVAL '7 days',
                         migrate_data => true, if_not_exists => true,
                         create_default_indexes => false);
SELECT create_hypertable('device_state_changes', 'since', chunk_time_interval => INTERVAL '30 days',
                         migrate_data => true, if_not_exists => true,
                         create_default_indexes => false);
SELECT create_hypertable('probes', 'time', chunk_time_interval => INTERVAL '7 days',
                         migrate_data => true, if_not_exists => true,
                         create_default_indexes => false);
