-- Effective device state, computed at read time so that a gateway coming back restores
-- its devices' edge states at once (nothing is rewritten when a last will arrives):
--   no protocol in the inventory        -> unmonitored (a plain device, nothing can report)
--   its gateway's last word was offline -> unknown (an edge box losing its uplink is not a
--                                          device failure)
--   no state reported yet               -> unknown
--   otherwise                           -> the edge state
CREATE VIEW device_effective_state AS
SELECT
    d.community,
    d.id AS device,
    d.kind,
    d.name,
    d.compound,
    d.building,
    d.public,
    coalesce(s.gateway, d.gateway) AS gateway,
    d.protocol,
    d.address,
    d.capabilities,
    s.state AS edge_state,
    CASE
        WHEN d.protocol IS NULL THEN 'unmonitored'
        WHEN g.online IS FALSE THEN 'unknown'
        WHEN s.state IS NULL THEN 'unknown'
        ELSE s.state
    END AS state,
    CASE
        WHEN d.protocol IS NULL THEN NULL
        WHEN g.online IS FALSE THEN g.since
        ELSE s.since
    END AS since,
    CASE
        WHEN d.protocol IS NULL THEN 'no controller: not monitored'
        WHEN g.online IS FALSE THEN
            'gateway ' || g.gateway || ' is offline (last will); the device''s own state is unknown'
        WHEN s.state IS NULL THEN 'no state reported yet by gateway ' || coalesce(d.gateway, '?')
        ELSE s.reason
    END AS reason,
    s.last_seen
FROM devices d
LEFT JOIN device_status s ON s.community = d.community AND s.device = d.id
LEFT JOIN gateways g ON g.community = d.community AND g.gateway = coalesce(s.gateway, d.gateway);
