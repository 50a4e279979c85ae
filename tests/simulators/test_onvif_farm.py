"""The camera farm as a whole: hundreds of cameras in one process, start-up faults, fault
schedules from a file, and the validation of specs and schedules."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from simulators.onvif import (
    CameraFarm,
    CameraSpec,
    Fault,
    FaultEntry,
    load_faults,
    make_cameras,
    parse_faults,
)

DATE_REQUEST = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
                b'<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>'
                b"</s:Body></s:Envelope>")


async def eventually(cond: Callable[[], bool], what: str, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.01)


async def test_five_hundred_cameras_start_in_well_under_a_few_seconds_and_all_answer() -> None:
    began = time.perf_counter()
    farm = CameraFarm(make_cameras(500))
    async with farm:
        started = time.perf_counter() - began
        assert started < 3.0, f"500 cameras took {started:.2f} s to start"
        urls = farm.urls()
        assert len(urls) == 500 and len({u.split(":")[2] for u in urls.values()}) == 500
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:
            async def ask(url: str) -> int:
                async with http.post(url, data=DATE_REQUEST) as answer:
                    body = await answer.read()
                    assert b"<tt:UTCDateTime>" in body
                    return answer.status

            statuses = await asyncio.gather(*(ask(u) for u in urls.values()))
        assert set(statuses) == {200}


def free_run(count: int) -> int:
    """A first port of `count` free consecutive ports, above the usual ephemeral range
    (32768-60999 on Linux) so that client sockets of other tests do not take them."""
    for base in range(61000, 65000, 16):
        socks = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    pytest.skip(f"no {count} consecutive free ports between 61000 and 65000")


async def test_cameras_on_consecutive_ports_from_the_base_port() -> None:
    base = free_run(3)
    farm = CameraFarm(make_cameras(3), base_port=base)
    try:
        await farm.start()
    except OSError:
        pytest.skip(f"ports {base}..{base + 2} were taken by something else meanwhile")
    try:
        assert [farm.camera(c).port for c in farm.cameras] == [base, base + 1, base + 2]
    finally:
        await farm.stop()


async def test_a_taken_port_is_reported_with_the_camera_and_the_fix() -> None:
    async with CameraFarm(make_cameras(1)) as first:
        taken = first.camera("cam-001").port
        with pytest.raises(OSError, match=f"camera cam-001: cannot listen on "
                                          f"127.0.0.1:{taken}.*choose another port"):
            await CameraFarm(make_cameras(2), base_port=taken).start()


async def test_faults_given_in_the_spec_hold_from_the_start() -> None:
    specs = [CameraSpec("cam-001", faults={Fault.UNREACHABLE: True}),
             CameraSpec("cam-002", faults={Fault.CLOCK_SKEW: 90, Fault.BLACK: True})]
    async with CameraFarm(specs) as farm:
        assert not farm.camera("cam-001").listener.listening
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", farm.camera("cam-001").port)
        assert farm.camera("cam-002").skew == 90
        farm.set_fault("cam-001", Fault.UNREACHABLE, False)
        _, writer = await asyncio.open_connection("127.0.0.1", farm.camera("cam-001").port)
        writer.close()


async def test_a_schedule_sets_and_clears_faults_on_time() -> None:
    schedule = [FaultEntry("cam-001", Fault.BLACK, True, at=0.0),
                FaultEntry("cam-002", Fault.SLOW, 2.0, at=0.1, duration=0.2)]
    async with CameraFarm(make_cameras(2), schedule=schedule) as farm:
        assert farm.camera("cam-001").faults == {Fault.BLACK: True}
        await eventually(lambda: farm.camera("cam-002").faults == {Fault.SLOW: 2.0},
                         "cam-002 turns slow at 0.1 s")
        await eventually(lambda: farm.camera("cam-002").faults == {},
                         "cam-002 is fast again at 0.3 s")


def test_fault_files_are_read_and_checked(tmp_path: Path) -> None:
    good = tmp_path / "faults.yaml"
    good.write_text("- {camera: cam-003, fault: clock_skew, value: 120}\n"
                    "- {camera: cam-004, fault: events_stop, at: 30, duration: 60}\n")
    assert load_faults(good) == [FaultEntry("cam-003", Fault.CLOCK_SKEW, 120.0),
                                 FaultEntry("cam-004", Fault.EVENTS_STOP, True, 30.0, 60.0)]
    cases = [
        ([{"camera": "cam-1", "fault": "smoke"}], "entry 0: unknown fault 'smoke'"),
        ([{"camera": "cam-1", "fault": "slow"}], "slow needs a number of seconds"),
        ([{"camera": "cam-1", "fault": "black", "value": 3}], "black is on/off"),
        ([{"camera": "cam-1", "fault": "black", "when": 3}], "unknown key"),
        ([{"camera": "cam-1", "fault": "black", "at": -1}], "'at' must be a number"),
        ([{"camera": "cam-1", "fault": "black", "value": False}], "needs a value that sets"),
        ({"cam-1": "black"}, "must be a list"),
    ]
    for doc, message in cases:
        with pytest.raises(ValueError, match=message):
            parse_faults(doc, source="f.yaml")
    with pytest.raises(ValueError, match="cannot read it"):
        load_faults(tmp_path / "missing.yaml")


def test_specs_and_farms_refuse_bad_settings() -> None:
    with pytest.raises(ValueError, match="without '/'"):
        CameraSpec("cam/1")
    assert CameraSpec("cam-001").serial == CameraSpec("cam-001").serial
    assert [c.id for c in make_cameras(2, start=9)] == ["cam-009", "cam-010"]
    with pytest.raises(ValueError, match="gives the same id twice"):
        make_cameras(2, pattern="cam")
    with pytest.raises(ValueError, match="not in this farm: cam-009"):
        CameraFarm(make_cameras(1), schedule=[FaultEntry("cam-009", Fault.BLACK, True)])
    with pytest.raises(ValueError, match="leaves no room for 2 cameras"):
        CameraFarm(make_cameras(2), base_port=65535)
