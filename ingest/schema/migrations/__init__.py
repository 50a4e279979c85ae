"""Numbered plain-PostgreSQL migrations (a package so the .sql files ship in wheels)."""
