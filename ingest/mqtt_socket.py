"""Read the broker connection in large chunks instead of paho's few bytes at a time.

paho-mqtt reads each packet with several `recv` calls (the fixed header byte, each byte of
the remaining length, then the body) and runs `select` before every packet. At thousands
of small messages a second those system calls were a large share of ingest's CPU. The
socket returned here answers paho's small reads from one `recv` of up to 64 KiB and tells
paho, through `pending()` (the hook paho already uses for TLS), that more bytes are
waiting, so paho reads on without a `select` in between.
"""

from __future__ import annotations

from typing import Any, Final

import paho.mqtt.client as mqtt

#: Bytes asked of the kernel per read.
CHUNK: Final = 65536


class ReadAheadSocket:
    """A socket (plain or TLS) whose reads are served from a read-ahead buffer."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._data = b""
        self._pos = 0

    def recv(self, size: int) -> bytes:
        if self._pos >= len(self._data):
            # Raises what the socket raises (BlockingIOError, ssl.SSLWantReadError, …):
            # paho handles those as it always did.
            data = self._sock.recv(max(size, CHUNK))
            if len(data) <= size:
                return bytes(data)
            self._data, self._pos = bytes(data), 0
        start = self._pos
        self._pos = min(start + size, len(self._data))
        return self._data[start:self._pos]

    def pending(self) -> int:
        buffered = len(self._data) - self._pos
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return buffered + int(inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class ReadAheadClient(mqtt.Client):
    """paho's client on a `ReadAheadSocket`; everything else is paho's own."""

    def _create_socket(self) -> Any:
        return ReadAheadSocket(super()._create_socket())
