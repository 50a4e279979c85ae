"""An oversized evidence upload is refused while it arrives, against a real uvicorn on a
loopback port: a 200 MB upload is answered 413 before 60 MB of it were read — whether it
declares its length (refused before a byte of the body is read) or streams it in chunks
(refused as soon as the count passes the limit) — and the server then closes the
connection instead of reading the rest."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from auth_support import user_headers

from web import create_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MB = 1_000_000
UPLOAD = 200 * MB
CHUNK = 1 << 20
BOUNDARY = "scg-upload-limit-test"


class ReadCounter:
    """Wraps the application and counts the body bytes the server handed it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.read = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counted() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counted if scope["type"] == "http" else receive, send)


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[int]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on",
                                           log_level="warning"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


@dataclass
class Upload:
    status: int | None     # None: no answer could be read
    sent: int              # body bytes the client got into the socket


def upload(port: int, headers: dict[str, str], *, chunked: bool) -> Upload:
    """POST 200 MB of evidence as multipart, declared (Content-Length) or chunked, until the
    server stops taking it; read the answer on another thread meanwhile."""
    part = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"evidence\"; "
            f"filename=\"scan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    framing = ["Transfer-Encoding: chunked" if chunked else f"Content-Length: {UPLOAD}"]
    head = "\r\n".join([
        "POST /api/communities/demo/declared/growth-01 HTTP/1.1", f"Host: 127.0.0.1:{port}",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        *(f"{k}: {v}" for k, v in headers.items()), *framing, "", ""]).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    answer = bytearray()

    def read() -> None:
        try:
            while data := sock.recv(65536):
                answer.extend(data)
        except OSError:
            pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sent = 0
    try:
        sock.sendall(head)
        payload = part + bytes(CHUNK - len(part))
        while sent < UPLOAD:
            piece = payload[:UPLOAD - sent] if sent == 0 else bytes(min(CHUNK, UPLOAD - sent))
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked
                         else piece)
            sent += len(piece)
    except OSError:   # the server closed the connection: what it refused was not read
        pass
    reader.join(30)
    sock.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
    return Upload(status, sent)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_200_mb_upload_is_refused_before_60_mb_are_read(
        loaded: str, tmp_path: Path, chunked: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    headers = await user_headers(loaded)
    counter = ReadCounter(create_app(loaded, evidence_dir=tmp_path / "evidence"))
    async with serve(counter) as port:
        done = await asyncio.to_thread(upload, port, headers, chunked=chunked)
    assert done.status == 413
    assert counter.read < 60 * MB
    if not chunked:
        assert counter.read == 0           # refused on its declared length alone
    else:
        assert counter.read > 50 * MB      # the limit (50 MiB + 1 MiB) was counted to
    assert done.sent < UPLOAD              # the server closed: the client could not finish
    assert not list((tmp_path / "evidence").rglob("upload-*"))
    with capsys.disabled():
        print(f"\nupload limit ({'chunked' if chunked else 'content-length'}): server read "
              f"{counter.read / MB:.1f} MB of {UPLOAD / MB:.0f} MB; client got "
              f"{done.sent / MB:.1f} MB into the socket before the server closed it")
