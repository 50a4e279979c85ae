-- How far the records' hash chains have been verified row by row, per chain, for the
-- acceptance report's information-security row (信息安全: 记录不可修改、删除). Walking a
-- whole chain costs seconds per hundred thousand rows, so a report walks the rows
-- appended since the last one, checks that the rows verified before are still as many
-- as they were and end in the same hash, and walks a slice of those again, round after
-- round from the first row (acceptance.audit_progress); `scg audit verify` still walks
-- everything at once.
--
-- Only ever moved forward, and never past a break: a chain that stops matching keeps
-- its last good row here and is reported broken until it is repaired.

CREATE TABLE audit_checkpoints (
    chain                text PRIMARY KEY,
    row_id               bigint NOT NULL,
    hash                 text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    rows                 bigint NOT NULL CHECK (rows > 0),
    -- When the chain was first walked from its first row (genesis), and last walked.
    first_verified_at    timestamptz NOT NULL,
    verified_at          timestamptz NOT NULL,
    -- The round of walking the verified rows again: the last row it has reached (0: the
    -- next round starts at the first row) and when the round in progress began.
    recheck_id           bigint NOT NULL DEFAULT 0 CHECK (recheck_id >= 0),
    recheck_started_at   timestamptz,
    -- The last complete round: every verified row walked again between these times.
    rechecked_from       timestamptz,
    rechecked_at         timestamptz,
    CHECK (recheck_id <= row_id)
);
