"""The ONVIF driver against an ONVIF camera emulator nobody here wrote (ipycam), whose
snapshot URL asks for HTTP Basic. Optional: skipped unless `ipycam` is importable (it needs
OpenCV, so it is not in the lock; `pip install ipycam opencv-python-headless` to run it).

Only ipycam's HTTP handler is served, on loopback and a free port: `IPCamera.start()` would
also bind WS-Discovery on UDP 3702 and RTSP on every interface.
"""

from __future__ import annotations

import asyncio
import socket
import socketserver
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from onvif_farm import CameraSink, eventually

from drivers.base import DeviceSpec, Outcome
from drivers.onvif import create

ipycam = pytest.importorskip("ipycam", reason="ipycam (an independent ONVIF camera emulator) "
                                              "is not installed")

pytestmark = pytest.mark.integration


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def emulated_camera() -> Iterator[tuple[int, Any]]:
    """An ipycam camera with user admin / pw-4711 on a loopback port, fed a new frame every
    50 ms (a live picture: the same frame twice would be judged frozen)."""
    port = _free_port()
    config = ipycam.CameraConfig(name="independent", local_ip="127.0.0.1", onvif_port=port,
                                 username="admin", password="pw-4711")
    camera = ipycam.IPCamera(config)
    ipycam.IPCameraHTTPHandler.camera = camera
    server = _Server(("127.0.0.1", port), ipycam.IPCameraHTTPHandler)
    stop = threading.Event()

    def feed() -> None:
        rng = np.random.default_rng(7)
        base = np.linspace(40, 200, 640, dtype=np.float32)[None, :, None]
        while not stop.is_set():
            frame = base + rng.normal(0, 8, (360, 640, 1)).astype(np.float32)
            camera.stream(np.repeat(np.clip(frame, 0, 255).astype(np.uint8), 3, axis=2))
            stop.wait(0.05)

    threads = [threading.Thread(target=server.serve_forever, daemon=True),
               threading.Thread(target=feed, daemon=True)]
    for t in threads:
        t.start()
    try:
        yield port, camera
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("password", "check"), [("pw-4711", "ok"), ("wrong", "auth")])
async def test_an_independent_camera_with_basic_snapshots_is_probed(
        emulated_camera: tuple[int, Any], password: str, check: str) -> None:
    port, _camera = emulated_camera
    device = DeviceSpec("cam-ipy", "onvif", "onvif_profile_s",
                        f"http://127.0.0.1:{port}/onvif/device_service",
                        timedelta(seconds=0.3), {"username": "admin", "password": password})
    driver = create({"timeout": "2s", "events": False}, [device])
    sink = CameraSink()
    task = asyncio.create_task(driver.run(sink))
    try:
        await eventually(lambda: len(sink.probes("cam-ipy")) >= 3, "three probes", within=20)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert set(sink.checks("cam-ipy")) == {check}, [p.reason for p in sink.probes("cam-ipy")]
    if check == "ok":
        assert {o.outcome for o in sink.seen("cam-ipy")} == {Outcome.OK}
        prober = driver.prober("cam-ipy")
        assert prober is not None and prober.link.login.scheme == "basic"
    else:
        # ipycam wants credentials for GetSystemDateAndTime too, so the driver cannot rule
        # out a clock it could not read: "wrong credentials or clock skew: ...".
        assert sink.seen("cam-ipy")[-1].reason.startswith("wrong credentials")
