"""Reading a posted form with the limits every form of the API shares: parsed once per
request (Starlette caches it), whether the CSRF check or the route reads it first."""

from __future__ import annotations

from typing import Final

from fastapi import Request
from starlette.datastructures import FormData

MAX_FILES: Final = 20
MAX_FIELDS: Final = 200


async def read_form(request: Request) -> FormData:
    return await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
