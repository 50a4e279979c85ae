"""A small HTTP/1.1 server on asyncio streams: one `Listener` per camera port.

Written here rather than borrowed from uvicorn because a camera must be able to vanish:
`close()` stops listening (connects are refused) *and* drops the connections already
open, and `open()` binds the same port again. Only what ONVIF clients send is handled:
Content-Length or chunked bodies, keep-alive, `Connection: close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20
MAX_HEADERS = 100
IDLE_TIMEOUT = 30.0   # seconds a kept-alive connection may sit without a request

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 413: "Payload Too Large", 500: "Internal Server Error",
            501: "Not Implemented", 503: "Service Unavailable"}


@dataclass(slots=True)
class Request:
    method: str
    target: str                      # as sent: path and query, still percent-encoded
    headers: dict[str, str]          # lower-case names
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.target).query).items()}


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Awaitable[Response]]


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Listener:
    """Serves `handler` on host:port. `open()` and `close()` act at once (no await), so a
    fault set from synchronous code refuses the very next connect."""

    def __init__(self, host: str, port: int, handler: Handler, *, name: str) -> None:
        self.host, self.port, self.name = host, port, name
        self._handler = handler
        self._sock: socket.socket | None = None
        self._server: asyncio.Server | None = None
        self._starting: asyncio.Task[None] | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    @property
    def listening(self) -> bool:
        return self._sock is not None

    def open(self) -> asyncio.Task[None]:
        """Bind and listen now (the kernel queues connects at once); serving starts in the
        returned task. With port 0 the system picks a port, kept for later re-opens."""
        if self._sock is not None and self._starting is not None:
            return self._starting
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"{self.name}: cannot listen on {self.host}:{self.port}: "
                                     f"{exc.strerror}; choose another port") from None
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._starting = asyncio.get_running_loop().create_task(self._start(sock))
        return self._starting

    async def _start(self, sock: socket.socket) -> None:
        self._server = await asyncio.start_server(self._serve, sock=sock)

    def close(self) -> None:
        """Stop listening and reset every open connection, now: connects are refused."""
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        self._starting = None
        server, self._server = self._server, None
        if server is not None:
            server.close()  # also closes the listening socket
        elif self._sock is not None:
            self._sock.close()
        self._sock = None
        for task, writer in list(self._connections.items()):
            writer.transport.abort()
            task.cancel()

    async def wait_closed(self) -> None:
        """Wait until the connections dropped by `close()` have finished."""
        tasks = list(self._connections)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        try:
            while True:
                try:
                    async with asyncio.timeout(IDLE_TIMEOUT):
                        request = await _read_request(reader)
                except BadRequest as exc:
                    await _write(writer, Response(exc.status, str(exc).encode()), close=True)
                    return
                if request is None:
                    return
                try:
                    response = await self._handler(request)
                except Exception:  # one bad request must not take the camera down
                    log.exception("%s: handler failed on %s %s", self.name, request.method,
                                  request.target)
                    response = Response(500, b"internal error in the simulated camera")
                close = request.headers.get("connection", "").lower() == "close"
                await _write(writer, response, close=close)
                if close:
                    return
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            return  # idle, gone, cut short, or a line past the stream limit: hang up
        except asyncio.CancelledError:
            # close() or the loop's shutdown dropped this connection. The task is a leaf and
            # ending is what was asked; ending quietly also spares the log from Python
            # 3.11's stream callback, which reports a cancelled connection task as an error.
            return
        finally:
            self._connections.pop(task, None)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").rstrip("\r\n").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(400, f"malformed request line {line[:80]!r}")
    method, target, _ = parts
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS):
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep:
            raise BadRequest(400, f"malformed header line {raw[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    else:
        raise BadRequest(400, f"more than {MAX_HEADERS} header lines")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise BadRequest(400, "Content-Length is not a number") from None
        if length > MAX_BODY:
            raise BadRequest(413, f"body of {length} bytes is over {MAX_BODY}")
        body = await reader.readexactly(length) if length else b""
    return Request(method.upper(), target, headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readline()
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError:
            raise BadRequest(400, f"bad chunk size {size_line[:40]!r}") from None
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers are ignored
            return b"".join(chunks)
        total += size
        if total > MAX_BODY:
            raise BadRequest(413, f"chunked body is over {MAX_BODY} bytes")
        chunks.append(await reader.readexactly(size))
        await reader.readline()


async def _write(writer: asyncio.StreamWriter, response: Response, *, close: bool) -> None:
    reason = _REASONS.get(response.status, "Status")
    head = [f"HTTP/1.1 {response.status} {reason}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
            "Server: scg-sim-onvif",
            f"Connection: {'close' if close else 'keep-alive'}"]
    head += [f"{k}: {v}" for k, v in response.headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body)
    await writer.drain()
