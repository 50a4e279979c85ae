"""Gateway config: a valid file loads with its defaults; each kind of mistake is reported
with the file, line, key path and the fix; all mistakes come back together."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from gateway_support import FakeDriver, config_dict, write_config

from gateway.build import build_drivers
from gateway.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "edge" / "gateway.example.yaml"


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    return caught.value.problems


def only_problem(path: Path) -> str:
    problems = problems_of(path)
    assert len(problems) == 1, problems
    return problems[0]


def test_valid_config_loads_with_defaults_and_spool_beside_the_file(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    config = load_config(write_config(folder, config_dict(1884)))
    assert (config.community, config.gateway) == ("demo", "gw1")
    assert config.uplink.port == 1884
    assert config.uplink.client_id == "scg-gw-demo-gw1"
    assert config.uplink.keepalive == 30
    assert config.uplink.reconnect_min == 0.05
    assert config.spool.path == folder.absolute() / "spool.sqlite"
    assert config.spool.max_bytes == 16 * 1024 * 1024
    assert (config.spool.batch_items, config.spool.max_inflight) == (500, 20)
    assert config.health.failures_to_offline == 2
    assert [d.id for d in config.devices] == ["dev-1", "dev-2"]
    assert config.devices[0].period == timedelta(seconds=0.1)
    assert config.devices[0].options == {}
    assert config.devices_by_driver() == {"fake": list(config.devices)}


@pytest.mark.parametrize(("text", "seconds"), [("10s", 10), ("5m", 300), ("1h", 3600),
                                               ("250ms", 0.25), (7, 7), (2.5, 2.5),
                                               ("5.0s", 5)])
def test_periods_accept_units_and_plain_seconds(tmp_path: Path, fake_driver: type[FakeDriver],
                                                text: str | float, seconds: float) -> None:
    doc = config_dict(devices=1)
    doc["devices"][0]["period"] = text
    config = load_config(write_config(tmp_path, doc))
    assert config.devices[0].period == timedelta(seconds=seconds)


@pytest.mark.parametrize(("text", "size"), [("64MiB", 64 << 20), ("2 GiB", 2 << 30),
                                            (5_000_000, 5_000_000), ("1536 KiB", 1536 << 10)])
def test_spool_sizes_accept_binary_units(tmp_path: Path, fake_driver: type[FakeDriver],
                                         text: str | int, size: int) -> None:
    config = load_config(write_config(tmp_path, config_dict(
        spool={"path": "s.sqlite", "max_bytes": text})))
    assert config.spool.max_bytes == size


def test_the_example_config_is_valid_and_its_drivers_accept_it() -> None:
    config = load_config(EXAMPLE)
    assert config.gateway == "demo-gw1"
    assert config.spool.path == Path("/var/lib/scg/spool.sqlite")
    assert {d.driver for d in config.devices} == {"mqtt"}
    assert set(build_drivers(config)) == {"mqtt"}


def test_bad_period_names_line_key_and_the_accepted_forms(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    doc = config_dict(devices=4)
    doc["devices"][3]["period"] = "soon"
    path = write_config(tmp_path, doc)
    line = path.read_text().splitlines().index("  period: soon") + 1
    assert only_problem(path) == (
        f"line {line}, devices[3].period: `period` must be a duration like 10s, 5m, 1h or a "
        "number of seconds, got 'soon'")


def test_unknown_key_is_an_error_that_suggests_the_right_one(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    doc = config_dict(devices=1)
    doc["devices"][0]["perod"] = doc["devices"][0].pop("period")
    problems = problems_of(write_config(tmp_path, doc))
    assert any("devices[0].perod: unknown key `perod`; did you mean `period`?" in p
               for p in problems), problems
    assert any("devices[0].period: `period` is missing" in p for p in problems), problems


def test_unknown_top_level_key_lists_the_known_ones(tmp_path: Path,
                                                    fake_driver: type[FakeDriver]) -> None:
    doc = config_dict()
    doc["colour"] = "blue"
    problem = only_problem(write_config(tmp_path, doc))
    assert "colour: unknown key `colour`; remove it (known keys: community, gateway" in problem


def test_duplicate_device_ids_name_both_entries(tmp_path: Path,
                                                fake_driver: type[FakeDriver]) -> None:
    doc = config_dict(devices=3)
    doc["devices"][2]["id"] = "dev-1"
    problem = only_problem(write_config(tmp_path, doc))
    assert "devices[2].id: `id` 'dev-1' is already used by devices[0] (line" in problem
    assert "device ids must be unique within a gateway" in problem


def test_unknown_driver_is_reported_once_with_the_known_drivers(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    doc = config_dict(devices=3, drivers={})
    for device in doc["devices"]:
        device["driver"] = "modbsu"
    problem = only_problem(write_config(tmp_path, doc))
    assert "devices[0].driver: there is no driver 'modbsu'; known drivers:" in problem
    assert "mqtt" in problem
    assert "(3 devices name it)" in problem


def test_driver_section_for_a_driver_that_does_not_exist(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    doc = config_dict()
    doc["drivers"]["mqt"] = {"host": "127.0.0.1"}
    assert "drivers.mqt: there is no driver 'mqt'" in only_problem(write_config(tmp_path, doc))


@pytest.mark.parametrize(("key", "value"), [("community", "demo/a"), ("gateway", "gw+1"),
                                            ("gateway", "")])
def test_ids_that_cannot_be_topic_levels_are_refused(
        tmp_path: Path, fake_driver: type[FakeDriver], key: str, value: str) -> None:
    doc = config_dict()
    doc[key] = value
    problem = only_problem(write_config(tmp_path, doc))
    assert f"{key}: `{key}` is not usable in MQTT topics: {key} id {value!r} is not valid: use " \
           "1-64 characters of letters, digits" in problem


def test_device_id_with_a_slash_is_refused(tmp_path: Path,
                                           fake_driver: type[FakeDriver]) -> None:
    doc = config_dict(devices=1)
    doc["devices"][0]["id"] = "light/1"
    problem = only_problem(write_config(tmp_path, doc))
    assert "devices[0].id: `id` 'light/1' cannot be an MQTT topic level: remove '/'" in problem


def test_device_named_like_the_gateway_is_refused(tmp_path: Path,
                                                  fake_driver: type[FakeDriver]) -> None:
    doc = config_dict(devices=1)
    doc["devices"][0]["id"] = "gw1"
    assert "is the gateway's own id" in only_problem(write_config(tmp_path, doc))


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, "community: demo\ngateway: gw1\nuplink:\n  host: [a, b\n"
                                  "spool: {}\n")
    problem = only_problem(path)
    assert problem.startswith("line 5, column 6: YAML syntax error:"), problem


def test_a_key_written_twice_is_an_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, "community: demo\ngateway: gw1\ncommunity: other\n")
    problem = only_problem(path)
    assert problem.startswith("line 3, column 1: YAML syntax error:"), problem
    assert "key 'community' appears twice (first on line 1); keep one" in problem


def test_missing_section_and_key_say_what_to_add(tmp_path: Path,
                                                 fake_driver: type[FakeDriver]) -> None:
    doc = config_dict()
    del doc["spool"]
    doc["uplink"] = {"port": 1883}
    problems = problems_of(write_config(tmp_path, doc))
    assert problems == [
        "line 1, spool: section `spool` is missing; add it, e.g. "
        "`spool: {path: /var/lib/scg/spool.sqlite}`",
        "line 3, uplink.host: `host` is missing; add it to `uplink`, e.g. `host: 10.0.0.5`",
    ]


def test_bad_numbers_and_sizes_say_the_allowed_range(tmp_path: Path,
                                                     fake_driver: type[FakeDriver]) -> None:
    doc = config_dict(spool={"path": "s.sqlite", "max_bytes": "lots", "batch_items": 0})
    doc["uplink"]["port"] = 70000
    problems = problems_of(write_config(tmp_path, doc))
    assert len(problems) == 3, problems
    joined = "\n".join(problems)
    assert "uplink.port: `port` must be a whole number from 1 to 65535, got 70000" in joined
    assert "spool.max_bytes: `max_bytes` must be a number of bytes or a size like 512KiB, " \
           "64MiB, 1GiB, got 'lots'" in joined
    assert "spool.batch_items: `batch_items` must be a whole number from 1 to 10000, got 0" \
        in joined


def test_reconnect_max_below_reconnect_min_is_refused(tmp_path: Path,
                                                      fake_driver: type[FakeDriver]) -> None:
    doc = config_dict()
    doc["uplink"].update(reconnect_min="5s", reconnect_max=2)
    assert "`reconnect_max` (2 s) is less than `reconnect_min` (5 s)" in \
        only_problem(write_config(tmp_path, doc))


def test_every_mistake_is_reported_at_once_in_file_order(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    doc = config_dict(devices=3)
    doc["gateway"] = "gw 1"
    doc["uplink"]["kepalive"] = 10
    doc["devices"][1]["period"] = "often"
    doc["devices"][2]["driver"] = "nope"
    path = write_config(tmp_path, doc)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = caught.value.problems
    assert len(problems) == 4, problems
    assert [p.split(":")[0].split(", ")[1] for p in problems] == [
        "gateway", "uplink.kepalive", "devices[1].period", "devices[2].driver"]
    # each line number points at the offending key in the file
    lines = path.read_text().splitlines()
    for problem, text in zip(problems, ["gateway: gw 1", "kepalive: 10", "period: often",
                                        "driver: nope"], strict=True):
        number = int(problem.split(",")[0].removeprefix("line "))
        assert lines[number - 1].strip().lstrip("- ") == text, (problem, lines[number - 1])
    message = str(caught.value)
    assert message.startswith(f"gateway config {path}: 4 problems to fix\n  - line 2, gateway")


def test_unreadable_file_says_so(tmp_path: Path) -> None:
    problem = only_problem(tmp_path / "missing.yaml")
    assert problem.startswith("cannot read the file: No such file or directory")


def test_driver_refusing_its_settings_becomes_a_config_error(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    doc = config_dict(drivers={"fake": {"colour": "red"}})
    path = write_config(tmp_path, doc)
    config = load_config(path)  # the structure is fine; the driver judges its own settings
    with pytest.raises(ConfigError) as caught:
        build_drivers(config)
    assert str(path) in str(caught.value)
    assert caught.value.problems == [
        "drivers.fake: unknown setting(s) colour for the fake driver; remove them"]


def test_empty_file_is_explained(tmp_path: Path) -> None:
    problem = only_problem(write_config(tmp_path, ""))
    assert problem == ("the file must hold a mapping with keys community, gateway, uplink, "
                       "spool, health, drivers, devices, got nothing")


def test_example_config_is_plain_yaml() -> None:
    # The example documents every key; it must stay loadable by any YAML tool too.
    doc = yaml.safe_load(EXAMPLE.read_text())
    assert set(doc) == {"community", "gateway", "uplink", "spool", "health", "drivers",
                        "devices", "rules"}
