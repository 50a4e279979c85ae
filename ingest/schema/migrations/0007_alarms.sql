-- Alarms for operations staff, the history of every alarm, and the operation log.
--
-- An event of severity alarm or critical becomes an alarm when stored: a condition
-- (active true) opens one that its clearing event (active false) marks cleared; a
-- momentary event (active null) opens one per event. `key` is the event's distinguishing
-- data value (the zone of a fire panel, the port of a charger), '' when it has none.
-- Staff move an alarm open -> acknowledged -> closed; clearing does not close it.

CREATE TABLE alarms (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    community          text NOT NULL,
    gateway            text NOT NULL,
    device             text NOT NULL,
    type               text NOT NULL,
    key                text NOT NULL DEFAULT '',
    severity           text NOT NULL CHECK (severity IN ('alarm', 'critical')),
    momentary          boolean NOT NULL,
    raised_at          timestamptz NOT NULL,          -- the event's own time
    received_at        timestamptz NOT NULL DEFAULT now(),
    data               jsonb NOT NULL DEFAULT '{}',
    cleared_at         timestamptz,                   -- the clearing event's time
    state              text NOT NULL DEFAULT 'open'
                       CHECK (state IN ('open', 'acknowledged', 'closed')),
    acknowledged_at    timestamptz,
    acknowledged_by    text,
    acknowledged_note  text,
    closed_at          timestamptz,
    closed_by          text,
    closed_note        text,
    CHECK (NOT momentary OR cleared_at IS NULL),
    CHECK ((state = 'open') = (acknowledged_at IS NULL)),
    CHECK ((state = 'closed') = (closed_at IS NOT NULL))
);

-- The same event stored twice (a redelivery that escaped the envelope check) is one alarm.
CREATE UNIQUE INDEX alarms_event ON alarms (community, device, type, key, raised_at);
-- A condition has at most one alarm that is not cleared: raising it again while it is up
-- (a gateway restart repeats the present conditions) adds nothing.
CREATE UNIQUE INDEX alarms_uncleared ON alarms (community, device, type, key)
    WHERE NOT momentary AND cleared_at IS NULL;
CREATE INDEX alarms_community_raised ON alarms (community, raised_at DESC);
CREATE INDEX alarms_community_type_raised ON alarms (community, type, raised_at DESC);

-- Every change of every alarm in commit order: the server-sent event stream and its resume
-- point (Last-Event-ID) are these ids. Writers take an advisory lock before adding rows so
-- that ids become visible in increasing order.
CREATE TABLE alarm_changes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    community    text NOT NULL,
    alarm        bigint NOT NULL REFERENCES alarms (id),
    change       text NOT NULL CHECK (change IN ('opened', 'cleared', 'acknowledged',
                                                 'closed')),
    at           timestamptz NOT NULL,
    by           text,
    note         text,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alarm_changes_community ON alarm_changes (community, id);

-- What staff did, appended and never altered or deleted (信息安全: 操作记录不可篡改、不可删除).
CREATE TABLE operation_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL,
    actor      text NOT NULL CHECK (actor <> ''),
    action     text NOT NULL,
    community  text,
    target     text NOT NULL,
    note       text,
    details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX operation_log_community_at ON operation_log (community, at DESC);

CREATE FUNCTION refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% of % refused: its rows are a record that cannot be altered or deleted',
        TG_OP, TG_TABLE_NAME
        USING HINT = 'append a new row instead (a correction is a new entry)';
END
$$;

CREATE TRIGGER operation_log_append_only BEFORE UPDATE OR DELETE ON operation_log
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER operation_log_no_truncate BEFORE TRUNCATE ON operation_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER alarm_changes_append_only BEFORE UPDATE OR DELETE ON alarm_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER alarm_changes_no_truncate BEFORE TRUNCATE ON alarm_changes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();
