"""README tells the truth about the product: its command table lists exactly the commands
`scg --help` has, its quick start names every kind of device the demo runs with the
demo's own counts, its example of a gateway config error is the message the gateway
prints, and its links stay inside the repository (a clone has no `../shared`)."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scg.cli import build_parser
from scg.demo_plan import DemoPlan

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


def _leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
                   ) -> Iterator[tuple[str, ...]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path
        return
    for name, child in subs[0].choices.items():
        yield from _leaf_commands(child, (*path, name))


def _table_rows() -> list[tuple[tuple[str, ...], str]]:
    """(command path, whole row) for each row of README's command table. The path is the
    words after `scg` up to the first option or placeholder."""
    rows = []
    for line in _section("Commands").splitlines():
        if not line.startswith("| `scg "):
            continue
        first_cell = line.split(" | ")[0]
        for command in re.findall(r"`scg ([^`]*)`", first_cell):
            words = []
            for word in command.split():
                if not re.fullmatch(r"[a-z][a-z0-9-]*", word):
                    break
                words.append(word)
            rows.append((tuple(words), line))
    return rows


def test_every_command_of_scg_help_has_a_row_in_readme() -> None:
    rows = _table_rows()
    missing = []
    for leaf in _leaf_commands(build_parser()):
        named = any(path == leaf for path, _ in rows)
        # `scg user add …` rows may list their siblings: "also `passwd`, `disable`"; and
        # `scg keys init|rotate|…` names several in one.
        parent = leaf[:-1]
        listed = bool(parent) and any(
            path[:len(parent)] == parent
            and re.search(rf"[`|\\\s]{re.escape(leaf[-1])}[`|\\\s]", row)
            for path, row in rows)
        if not (named or listed):
            missing.append(" ".join(leaf))
    assert missing == [], f"README's command table lacks: {missing}"


def test_every_row_of_the_readme_table_is_a_real_command() -> None:
    leaves = set(_leaf_commands(build_parser()))
    prefixes = {leaf[:n] for leaf in leaves for n in range(1, len(leaf) + 1)}
    stale = [" ".join(path) for path, _ in _table_rows() if path not in prefixes]
    assert stale == [], f"README names commands scg does not have: {stale}"


def test_quick_start_names_every_kind_of_demo_device_with_its_count() -> None:
    summary = DemoPlan().devices_summary()
    quick_start = " ".join(_section("Quick start").split())
    phrases = re.findall(
        r"\d+ (?:street-light controllers|plain lights|ONVIF cameras|household meters|"
        r"e-bike charging stations|fire-alarm gateways|fire alarm controllers|"
        r"safety devices)", summary)
    assert len(phrases) == 8, summary
    missing = [phrase for phrase in phrases if phrase not in quick_start]
    assert missing == [], f"README's quick start does not say {missing} (scg demo --help does)"
    assert "GB 26875" in quick_start


def test_the_config_error_example_is_what_the_gateway_prints(tmp_path: Path) -> None:
    example = re.search(r"```console\n\$ (scg gateway check --config gateway.yaml)\n(.*?)```",
                        README, re.S)
    assert example, "README lost its `scg gateway check` example"
    devices = "\n".join(
        f"  - {{id: light-00{n}, driver: mqtt, profile: street_light, address: light-00{n}, "
        f"period: {'soon' if n == 4 else '10s'}}}" for n in range(1, 5))
    (tmp_path / "gateway.yaml").write_text(
        "community: demo\ngateway: demo-gw1\nuplink: {host: 127.0.0.1, port: 1883}\n"
        f"spool: {{path: {tmp_path}/spool.sqlite}}\ndrivers:\n"
        "  mqtt: {host: 127.0.0.1, port: 1883}\n"
        f"devices:\n{devices}\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "scg.cli", *example.group(1).split()[1:]],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert (done.stdout + done.stderr).strip() == example.group(2).strip()


@pytest.mark.parametrize("doc", ["README.md", "docs/indicators.md", "deploy/README.md"])
def test_links_stay_inside_the_repository(doc: str) -> None:
    path = ROOT / doc
    if not path.exists():
        pytest.skip(f"{doc} does not exist")
    text = path.read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        resolved = (path.parent / target).resolve()
        if (ROOT not in resolved.parents and resolved != ROOT) or not resolved.exists():
            broken.append(target)
    assert broken == [], f"{doc} links outside the repository or to nothing: {broken}"
