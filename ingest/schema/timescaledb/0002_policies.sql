-- scg:requires-license timescale
-- Compression and retention policies: features of the Timescale (community) licence, not
-- of the Apache-2 build some distributions ship; migrate skips this file there and says
-- so in the storage note.

-- Readings are by far the largest table; a week-old chunk is no longer written to by a
-- healthy gateway (spools drain within hours), so compressing it costs nothing.
ALTER TABLE readings SET (timescaledb.compress,
                          timescaledb.compress_segmentby = 'community, device, metric',
                          timescaledb.compress_orderby = 'time DESC');
SELECT add_compression_policy('readings', INTERVAL '7 days', if_not_exists => true);

ALTER TABLE events SET (timescaledb.compress,
                        timescaledb.compress_segmentby = 'community, device',
                        timescaledb.compress_orderby = 'time DESC');
SELECT add_compression_policy('events', INTERVAL '30 days', if_not_exists => true);

ALTER TABLE probes SET (timescaledb.compress,
                        timescaledb.compress_segmentby = 'community, device',
                        timescaledb.compress_orderby = 'time DESC');
SELECT add_compression_policy('probes', INTERVAL '30 days', if_not_exists => true);

-- Raw readings are kept 400 days: the DB37/T 3890.3 energy-saving figure compares yearly
-- consumption, so a full year plus a margin must stay. Events, state changes and probes
-- are the assessor's evidence and small; they are kept without limit.
SELECT add_retention_policy('readings', INTERVAL '400 days', if_not_exists => true);
