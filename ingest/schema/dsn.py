"""Database URLs in messages: never print a password."""

from __future__ import annotations


def redact(url: str) -> str:
    """`url` without its password: postgresql://user:secret@host/db -> postgresql://user@host/db."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
