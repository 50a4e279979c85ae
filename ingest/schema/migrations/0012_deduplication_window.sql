-- De-duplication that keeps what it needs and no more.
--
-- received_envelopes keeps the keys of recent envelopes only. Per gateway, `seq_high_water`
-- is the highest seq committed and `seq_floor` the highest seq whose key was pruned (`scg db
-- maintain`): an envelope with seq <= seq_floor is a duplicate by definition and is not looked
-- up. Why that is safe: a gateway's seq is monotonic in the order it sends (persisted in
-- its spool; a new spool file starts at the current time in milliseconds, above the old
-- one's), and maintain only raises the floor to the seq of an envelope that was itself
-- received at least the configured minimum age ago and lies the configured window of seqs
-- below the high-water mark. So an envelope dropped by the floor was sent before another
-- one that ingest received that long ago: a redelivery, or a message held in a broker
-- queue for longer than that minimum age.

ALTER TABLE gateways
    ADD COLUMN seq_high_water  bigint,
    ADD COLUMN seq_floor       bigint;         -- null: nothing pruned yet

INSERT INTO gateways AS g (community, gateway, seq_high_water)
SELECT community, gateway, max(seq) FROM received_envelopes GROUP BY community, gateway
ON CONFLICT (community, gateway) DO UPDATE SET seq_high_water = EXCLUDED.seq_high_water;

-- maintain prunes by received time within each gateway's keys.
CREATE INDEX received_envelopes_received_at ON received_envelopes (received_at);

-- Storage settings (retention, partition interval, compression age, de-duplication window)
-- live in `settings` under keys `storage.*`, written by `scg db migrate` / `scg db maintain`
-- options so that the timer's maintain applies what was configured.
