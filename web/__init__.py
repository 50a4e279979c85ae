"""The HTTP side of the central service: the FastAPI application, its routes, dependencies
and models, the alarm console's queries and live stream."""

from web.main import create_app

__all__ = ["create_app"]
