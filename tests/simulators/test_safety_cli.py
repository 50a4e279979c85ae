"""`scg sim safety` plays a devices file and a story until SIGTERM; `scg sim safety-control`
makes something happen in it."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import aiomqtt
import pytest
from broker_support import login_args, login_env

from scg.localsvc import Mosquitto
from simulators.cli import register

# The simulators' CLI alone, without the rest of `scg` (other packages register theirs).
RUN = ("import argparse, sys, logging; import simulators.cli as c; "
       "p = argparse.ArgumentParser(prog='scg'); c.register(p.add_subparsers()); "
       "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")


def run(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="scg")
    register(p.add_subparsers())
    args = p.parse_args(argv)
    code: int = args.func(args)
    return code


def test_help_explains_the_devices_file_and_the_actions(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    with pytest.raises(SystemExit):
        run(["sim", "safety", "--help"])
    out = capsys.readouterr().out
    assert "--devices FILE" in out and "kind: elevator_controller" in out
    assert "scg-sim/lift-cams" in out and "PREFIX/ID/set" in out
    with pytest.raises(SystemExit):
        run(["sim", "safety-control", "--help"])
    out = capsys.readouterr().out
    assert "throw         throw_detector       floor=VALUE" in out
    assert "ebike_enters  ebike_detector       [confidence=VALUE] [hits=VALUE]" in out


def test_bad_devices_file_is_refused_before_connecting(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    path = tmp_path / "devices.yaml"
    path.write_text("devices:\n  - {id: hz-1, kind: fire_hazard_sensor}\n")
    assert run(["sim", "safety", "--broker", "127.0.0.1:1", "--devices", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"scg sim safety: devices file {path}: devices[0]: device 'hz-1': "
                          "a fire_hazard_sensor needs `hazard:`")


def test_story_naming_a_device_that_is_not_listed_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "d.yaml").write_text("- {id: sos-1, kind: sos_button}\n")
    (tmp_path / "s.yaml").write_text("- {at: 5, action: press_sos, device: sos-2}\n")
    assert run(["sim", "safety", "--broker", "127.0.0.1:1", "--devices",
                str(tmp_path / "d.yaml"), "--story", str(tmp_path / "s.yaml")]) == 2
    assert "entry 0: device 'sos-2' is not in the fleet (sos-1)" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["throw", "t-1", "floor=high"], "argument floor of throw: expected a floor number >= 1"),
    (["throw", "t-1"], "action throw needs argument(s) floor"),
    (["press_sos", "s-1", "loud"], "'loud' is not KEY=VALUE"),
])
def test_control_arguments_are_checked_before_sending(argv: list[str], message: str,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    assert run(["sim", "safety-control", "--broker", "127.0.0.1:1", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.integration
async def test_cli_fleet_plays_its_story_obeys_control_and_stops_on_sigterm(
        broker: Mosquitto, tmp_path: Path) -> None:
    (tmp_path / "devices.yaml").write_text("""\
period: 0.2
devices:
  - {id: "sos-{n:02d}", kind: sos_button, repeat: 2}
  - {id: throw-1, kind: throw_detector, floors: 18}
""")
    (tmp_path / "story.yaml").write_text("- {at: 0.3, action: press_sos, device: sos-02}\n")
    addr = f"{broker.host}:{broker.port}"
    events: list[tuple[str, dict[str, object]]] = []
    heartbeats: set[str] = set()
    async with aiomqtt.Client(broker.host, broker.port, **login_args(broker)) as client:
        await client.subscribe("scg-sim/#", qos=1)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", RUN, "sim", "safety", "--broker", addr, "--devices",
            str(tmp_path / "devices.yaml"), "--story", str(tmp_path / "story.yaml"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=login_env(broker))
        try:
            async with asyncio.timeout(10):
                async for m in client.messages:
                    assert isinstance(m.payload, bytes)
                    _, _, device, name = str(m.topic).split("/")
                    if name == "status":
                        heartbeats.add(device)
                    elif name == "event":
                        events.append((device, json.loads(m.payload)))
                    if events and len(heartbeats) == 3:
                        break
            ctl = await asyncio.create_subprocess_exec(
                sys.executable, "-c", RUN, "sim", "safety-control", "--broker", addr,
                "throw", "throw-1", "floor=7", stdout=subprocess.PIPE, env=login_env(broker))
            assert await ctl.wait() == 0
            async with asyncio.timeout(10):
                async for m in client.messages:
                    assert isinstance(m.payload, bytes)
                    if str(m.topic) == "scg-sim/throw-cams/throw-1/event":
                        events.append(("throw-1", json.loads(m.payload)))
                        break
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(proc.communicate(), 15)
    assert heartbeats == {"sos-01", "sos-02", "throw-1"}
    assert [(d, e["event"]) for d, e in events] == [("sos-02", "press"),
                                                    ("throw-1", "object_thrown")]
    assert events[1][1]["floor"] == 7
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    assert "3 devices (2 sos_button, 1 throw_detector)" in text and "1 story steps" in text
    assert "stopped;" in text and "(2 events)" in text
