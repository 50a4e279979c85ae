"""The small picture a probe sends north: made from the snapshot, and sent when it shows
an operator something new — the picture check failed, failed differently, or passes again
since the last picture sent — and otherwise once per `every` (an hour). So the latest
picture centrally always shows what the latest verdict judged, a healthy camera costs one
thumbnail an hour, and a black one does not send the same black square every period.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

from PIL import Image

from drivers.onvif.picture import Check
from telemetry.thumbnails import THUMBNAIL_MAX_BYTES

#: Checks whose picture decodes, so there is something to show.
PICTURE_CHECKS = frozenset({Check.OK, Check.BLACK, Check.WHITE, Check.BLANK, Check.FROZEN})

# Big enough to tell a scene, a lens cap and a frozen frame apart; JPEG quality steps down
# before the size does, because a smaller picture hides more than a blurrier one.
_FIRST_SIZE = (320, 180)
_QUALITIES = (75, 60, 45, 30, 20)


def make_thumbnail(jpeg: bytes, max_bytes: int = THUMBNAIL_MAX_BYTES) -> bytes | None:
    """A JPEG of at most `max_bytes` showing `jpeg` shrunk to 320×180 or less (halved
    again while even the lowest quality does not fit); None when it does not decode."""
    try:
        with Image.open(io.BytesIO(jpeg)) as image:
            image.draft("RGB", _FIRST_SIZE)  # decode at 1/2..1/8 scale: cheap
            picture = image.convert("RGB")
    except Exception:  # Pillow raises OSError, SyntaxError, ValueError... on bad data
        return None
    size = _FIRST_SIZE
    while True:
        small = picture.copy()
        small.thumbnail(size)
        for quality in _QUALITIES:
            out = io.BytesIO()
            small.save(out, "JPEG", quality=quality, optimize=True)
            if out.tell() <= max_bytes:
                return out.getvalue()
        if size[0] <= 16:
            return None  # noise no size makes small: nothing worth sending
        size = (size[0] // 2, size[1] // 2)


class ThumbnailSchedule:
    """When one camera's probe carries a thumbnail. `clock` gives monotonic seconds."""

    def __init__(self, every: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self._last_sent: float | None = None
        self._last_check: Check | None = None

    def due(self, check: Check) -> bool:
        """Whether a probe whose picture check is `check` should carry one."""
        if check not in PICTURE_CHECKS:
            return False
        if self._last_sent is None:
            return True
        if check is not self._last_check:
            return True  # failing, failing another way, or good again: show it now
        return self.clock() - self._last_sent >= self.every

    def sent(self, check: Check) -> None:
        self._last_sent = self.clock()
        self._last_check = check
