"""Alarms for operations staff: read (`query`), acted on (`actions`: acknowledge, close)
and pushed live (`hub`: PostgreSQL notifications fanned out to server-sent events).
They are opened and cleared on the write path, in `ingest.alarms`."""
