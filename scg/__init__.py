"""The `scg` command, the demo, and the local services (broker, database) they start."""
