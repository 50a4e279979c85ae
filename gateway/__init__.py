"""The edge daemon: config, device registry, health state machine, spool, uplink."""
