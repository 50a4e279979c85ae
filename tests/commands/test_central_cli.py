"""The central commands as an operator runs them: clear messages and exit status 2 on errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from ingest_support import INVENTORY

from ingest.schema.migrate import PLAIN_DIR, discover
from scg.cli import main
from scg.commands.ingest import register

UNREACHABLE = "postgresql://scg:secret@127.0.0.1:9/scg"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_db_migrate_applies_then_finds_nothing_to_do(
        database: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "db", "migrate", "--database-url", database)
    migrations = discover(PLAIN_DIR)
    names = ", ".join(m.name for m in migrations)
    assert code == 0
    assert out.startswith(f"applied {len(migrations)} migration(s): {names}; storage: "
                          "postgresql (")
    code, out, _ = run(capsys, "db", "migrate", "--database-url", database)
    assert (code, out.split(";")[0]) == (0, "applied 0 migration(s)")


def test_unreachable_database_exits_2_without_traceback_or_password(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "db", "migrate", "--database-url", UNREACHABLE)
    assert code == 2
    assert err.startswith("scg db: cannot reach the database at "
                          "postgresql://scg@127.0.0.1:9/scg: ")
    assert "secret" not in err and "Traceback" not in err


def test_missing_database_url_says_how_to_give_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "db", "migrate", "--database-url", "")
    assert (code, err) == (2, "scg db: no database given: pass --database-url or set "
                              "SCG_DATABASE_URL\n")


def test_inventory_import_loads_the_file(database: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(INVENTORY)
    assert run(capsys, "db", "migrate", "--database-url", database)[0] == 0
    code, out, _ = run(capsys, "inventory", "import", str(path), "--database-url", database)
    assert (code, out) == (0, f"imported community demo from {path}: 2 compounds, "
                              "1 buildings, 8 devices\n")


def test_inventory_import_into_an_unmigrated_database_says_migrate_first(
        database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(INVENTORY)
    code, _, err = run(capsys, "inventory", "import", str(path), "--database-url", database)
    assert code == 2
    assert err.endswith("; run `scg db migrate` first\n")


def test_bad_inventory_exits_2_listing_the_problems(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(INVENTORY.replace("compound: north\n    gateway", "compound: east\n"
                                                                     "    gateway"))
    code, _, err = run(capsys, "inventory", "import", str(path), "--database-url", UNREACHABLE)
    assert code == 2
    assert err == (f"scg inventory: inventory {path} has 1 problem:\n"
                   "  devices[0].compound: 'east' is not in compounds (known: north, south); "
                   "add it under compounds or correct the id\n")


def test_inventory_check_summarises_without_a_database(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(INVENTORY)
    code, out, _ = run(capsys, "inventory", "check", str(path))
    assert (code, out) == (0, f"{path}: community demo (演示社区), 2 compounds, 1 buildings, "
                              "1 camera, 7 light\n")


def test_ingest_run_rejects_a_malformed_broker_address(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ingest", "run", "--database-url", UNREACHABLE,
                       "--broker", "localhost")
    assert (code, err) == (2, "scg ingest: --broker 'localhost' is not HOST:PORT "
                              "(e.g. 127.0.0.1:1883)\n")


def test_ingest_run_on_an_unreachable_database_exits_2(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ingest", "run", "--database-url", UNREACHABLE)
    assert code == 2
    assert err.startswith("scg ingest: cannot reach the database at "
                          "postgresql://scg@127.0.0.1:9/scg")


def test_api_on_an_unreachable_database_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "api", "--database-url", UNREACHABLE)
    assert code == 2
    assert err.startswith("scg api: cannot reach the database")


def test_api_on_a_descriptor_that_is_no_listening_socket_exits_2(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import socket

    code, _, err = run(capsys, "api", "--database-url", UNREACHABLE, "--fd", "999")
    assert (code, err) == (2, "scg api: --fd 999: not an open socket in this process (Bad "
                              "file descriptor); pass the descriptor of a listening socket "
                              "the parent left open, or --host/--port to bind one\n")
    with socket.socket() as unbound:
        fd = unbound.fileno()
        code, _, err = run(capsys, "api", "--database-url", UNREACHABLE, "--fd", str(fd))
    assert (code, err) == (2, f"scg api: --fd {fd}: the socket is not "
                              "listening; the parent must bind it and call listen() before "
                              "starting scg api\n")
    with open(tmp_path / "file", "w") as f:
        code, _, err = run(capsys, "api", "--database-url", UNREACHABLE,
                           "--fd", str(f.fileno()))
    assert code == 2 and "not an open socket in this process (Socket operation on " \
        "non-socket)" in err, err


def test_commands_register_with_help_on_a_parent_parser() -> None:
    parser = argparse.ArgumentParser(prog="scg")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["ingest", "run", "--broker", "10.0.0.5:1884", "--shared",
                              "--database-url", "postgresql://x/y"])
    assert (args.broker, args.shared, args.client_id) == ("10.0.0.5:1884", True, "scg-ingest")
    assert callable(args.func)


def test_ingest_run_on_an_unmigrated_database_says_migrate_first(
        database: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ingest", "run", "--database-url", database)
    names = ", ".join(m.name for m in discover(PLAIN_DIR))
    assert (code, err) == (2, f"scg ingest: the database at {database} lacks migrations "
                              f"{names}; run `scg db migrate` first\n")


def test_demo_on_a_taken_api_port_says_so_before_starting_anything(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import socket

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        code, _, err = run(capsys, "demo", "--state-dir", str(tmp_path / "state"),
                           "--api-port", str(port))
    assert code == 2
    assert err == (f"scg demo: port {port} on 127.0.0.1 is in use; stop what uses it or pass "
                   "--api-port\n")
    assert not (tmp_path / "state").exists(), "nothing was started"
