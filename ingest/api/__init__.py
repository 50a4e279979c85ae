"""The HTTP API of the central service: health, communities, indicators, devices,
camera records."""

from ingest.api.main import create_app

__all__ = ["create_app"]
