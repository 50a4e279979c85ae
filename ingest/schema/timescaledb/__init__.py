"""TimescaleDB-only migrations, applied after the plain ones where the extension exists."""
