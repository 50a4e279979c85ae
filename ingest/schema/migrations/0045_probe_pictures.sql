-- The thumbnails cameras' probes carry (telemetry/thumbnails.py: a JPEG of at most 20 KB,
-- sent when the picture check's verdict changes and otherwise about once an hour), so an
-- operator sees the black or frozen picture an indicator counted. Kept apart from `probes`
-- (history, kept for months, written at every probe) and from `device_status` (rewritten
-- at every batch): only the latest few per camera are kept (ingest/probe_pictures.py
-- removes the older ones as new ones arrive), and the latest is one lookup of the primary
-- key's index. `check_name` and `ok` are the probe's verdict on that picture.
CREATE TABLE probe_pictures (
    community   text NOT NULL,
    device      text NOT NULL,
    time        timestamptz NOT NULL,
    gateway     text NOT NULL,
    ok          boolean NOT NULL,
    check_name  text NOT NULL DEFAULT '',
    jpeg        bytea NOT NULL CHECK (length(jpeg) <= 20480
                                      AND substring(jpeg FROM 1 FOR 2) = '\xffd8'::bytea),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (community, device, time)
);
