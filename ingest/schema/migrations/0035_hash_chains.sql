-- The records become SM3 hash chains (ingest/schema/chain.py says how a row's hash is made):
-- each row of the operation log, the alarm changes, the declared values and the user
-- changes keeps the hash of the row before it and its own. The triggers of 0007, 0008
-- and 0022 refuse UPDATE and DELETE; the chain shows it when someone who may lift them
-- (the tables' owner, a superuser) changed a row all the same.
--
-- Rows already there are chained right after this file runs, in the same transaction
-- (ingest.schema.chain_audit.seal), and both columns then become NOT NULL: from here on
-- a row is only added through ingest.schema.chain.append, which takes the chain's lock
-- and computes the hashes.

ALTER TABLE operation_log
    ADD COLUMN prev_hash text CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    ADD COLUMN hash text CHECK (hash ~ '^[0-9a-f]{64}$');
ALTER TABLE alarm_changes
    ADD COLUMN prev_hash text CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    ADD COLUMN hash text CHECK (hash ~ '^[0-9a-f]{64}$');
ALTER TABLE declarations
    ADD COLUMN prev_hash text CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    ADD COLUMN hash text CHECK (hash ~ '^[0-9a-f]{64}$');
ALTER TABLE user_changes
    ADD COLUMN prev_hash text CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    ADD COLUMN hash text CHECK (hash ~ '^[0-9a-f]{64}$');
