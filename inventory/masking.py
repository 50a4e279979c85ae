"""Masked forms of personal data, as shown to whoever may not see it whole: enough to tell
two residents apart on a list (张*华, 138****5678, 3号楼2单元***室), not enough to call or
find them. The conventions are those of Chinese service platforms (GB/T 35273 calls this
去标识化 by masking).
"""

from __future__ import annotations

import re
from typing import Final

_LAST_DIGITS: Final = re.compile(r"(\d+)(\D*)$")


def mask_name(name: str) -> str:
    """First and last character kept, the rest starred; a two-character name keeps the
    first (张三 -> 张*), a one-character name is all star."""
    text = name.strip()
    if len(text) <= 1:
        return "*" * len(text)
    if len(text) == 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


def mask_phone(phone: str) -> str:
    """A mobile keeps its first three and last four digits (138****5678); a landline its
    area code and last four (0531-****1234); anything else only its last four digits."""
    text = phone.strip()
    if re.fullmatch(r"1\d{10}", text):
        return text[:3] + "****" + text[-4:]
    area, dash, number = text.partition("-")
    if dash and number.isdigit() and len(number) > 4:
        return f"{area}-{'*' * (len(number) - 4)}{number[-4:]}"
    if len(text) <= 4:
        return "*" * len(text)
    return "*" * (len(text) - 4) + text[-4:]


def mask_room(room: str) -> str:
    """The building and unit kept, the door number starred (3号楼2单元502室 ->
    3号楼2单元***室); a room without digits keeps its first third."""
    text = room.strip()
    found = _LAST_DIGITS.search(text)
    if found is not None and found.start(1) > 0:
        return text[:found.start(1)] + "*" * len(found.group(1)) + found.group(2)
    keep = len(text) // 3
    return text[:keep] + "*" * (len(text) - keep)
