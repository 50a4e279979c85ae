-- The measured indicators as they were: every community's results recorded at least hourly
-- (by the recorder inside `scg api`, or `scg history record` from cron), so that a report
-- can be produced as of a past time and a figure's course can be plotted.

CREATE TABLE indicator_history (
    community    text NOT NULL,
    indicator    text NOT NULL,                    -- stable id, e.g. smart_lighting_rate
    recorded_at  timestamptz NOT NULL,             -- the results' as_of
    value        double precision,                 -- percent, null when nothing to divide by
    numerator    integer NOT NULL,
    denominator  integer NOT NULL,
    status       jsonb NOT NULL,                   -- per tier: {"basic": "pass", "growth": "fail"}
    result       jsonb NOT NULL,                   -- the whole result as the API serves it
    PRIMARY KEY (community, indicator, recorded_at)
);
CREATE INDEX indicator_history_community_time ON indicator_history (community, recorded_at);
