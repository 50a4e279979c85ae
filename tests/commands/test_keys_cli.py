"""`scg keys` and a sealed import as an operator runs them, down to what a database dump
shows: the demo's residents and camera logins nowhere in clear."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from personal_support import SAFE_WITH_RESIDENTS

from scg.cli import main
from scg.demo_plan import DemoPlan
from scg.localsvc import PostgresCluster

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCG_DATA_KEY_FILE", raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def key_ids(capsys: pytest.CaptureFixture[str], keys: Path) -> list[str]:
    code, out, _ = run(capsys, "keys", "list", "--key-file", str(keys))
    assert code == 0
    return [line.split()[0] for line in out.splitlines()]


def test_init_refuses_to_overwrite_and_list_shows_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "data.keys"
    code, out, _ = run(capsys, "keys", "init", "--key-file", str(keys))
    assert code == 0 and out.startswith(f"wrote key file {keys} (mode 0600) with key ")
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    ident = out.split("with key ")[1][:8]
    code, _, err = run(capsys, "keys", "init", "--key-file", str(keys))
    assert code == 2 and err.startswith(f"scg keys: {keys} already exists; scg never "
                                        "overwrites a key file")
    code, out, _ = run(capsys, "keys", "list", "--key-file", str(keys))
    assert code == 0 and out.startswith(f"{ident}  current  made ")
    code, _, err = run(capsys, "keys", "list")
    assert (code, err) == (2, "scg keys: no key file given: pass --key-file PATH or set "
                              "SCG_DATA_KEY_FILE\n")


def test_import_needs_a_key_for_residents_then_rotate_and_retire(
        database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = tmp_path / "safe.yaml"
    inventory.write_text(SAFE_WITH_RESIDENTS, encoding="utf-8")
    keys = tmp_path / "data.keys"
    assert run(capsys, "db", "migrate", "--database-url", database)[0] == 0
    code, _, err = run(capsys, "inventory", "import", str(inventory), "--database-url",
                       database)
    assert code == 2 and "holds personal data (4 residents)" in err
    assert run(capsys, "keys", "init", "--key-file", str(keys))[0] == 0
    first = key_ids(capsys, keys)[0]
    code, out, _ = run(capsys, "inventory", "import", str(inventory), "--database-url",
                       database, "--key-file", str(keys))
    assert code == 0
    assert out.splitlines()[1] == (
        f"sealed 4 residents and 0 device credentials under key {first}; {inventory} is "
        "their only plain copy: keep it where only you can read it, or delete it")
    code, out, _ = run(capsys, "keys", "rotate", "--key-file", str(keys), "--database-url",
                       database, "--batch", "3")
    second = key_ids(capsys, keys)[1]
    assert code == 0
    assert out.splitlines() == [
        f"added key {second} to {keys}; it is now the current key",
        "  residents: 3 rows re-sealed", "  residents: 4 rows re-sealed",
        f"every sealed value is now under key {second} (4 residents, 0 device_credentials "
        "re-sealed by this run)",
        f"old keys still in the file: {first}; remove each with `scg keys retire KEYID` once "
        "no database or backup you may restore needs it"]
    code, out, _ = run(capsys, "keys", "list", "--key-file", str(keys), "--database-url",
                       database)
    assert code == 0
    assert [(line[:17], line.split(" UTC  ")[1]) for line in out.splitlines()] == [
        (f"{first}  old    ", "seals nothing"), (f"{second}  current", "seals 4 residents")]
    # A value sealed under the old key again (an import run with an old copy of the file)
    # keeps the old key from being retired until it is re-sealed.
    old_copy = tmp_path / "old.keys"
    old_copy.write_text(keys.read_text().replace(f'"current": "{second}"',
                                                 f'"current": "{first}"'))
    old_copy.chmod(0o600)
    assert run(capsys, "inventory", "import", str(inventory), "--database-url", database,
               "--key-file", str(old_copy))[0] == 0
    code, _, err = run(capsys, "keys", "retire", first, "--key-file", str(keys),
                       "--database-url", database)
    assert (code, err) == (2, f"scg keys: key {first} still seals 4 in residents; run `scg "
                              "keys rotate --resume` to re-seal them under the current key "
                              "first\n")
    code, out, _ = run(capsys, "keys", "rotate", "--resume", "--key-file", str(keys),
                       "--database-url", database)
    assert code == 0 and not out.startswith("added key")
    code, _, err = run(capsys, "keys", "retire", second, "--key-file", str(keys),
                       "--database-url", database)
    assert code == 2 and f"key {second} is the current key" in err
    code, out, _ = run(capsys, "keys", "retire", first, "--key-file", str(keys),
                       "--database-url", database)
    assert (code, out) == (0, f"retired key {first}: removed from {keys}\n")
    assert key_ids(capsys, keys) == [second]


def test_a_dump_of_the_demo_database_holds_no_resident_or_password_in_clear(
        pg_cluster: PostgresCluster, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The demo's inventory (its fictitious residents and its cameras' login), imported as
    `scg demo` imports it, then `pg_dump` of the whole database searched for each value."""
    database = pg_cluster.create_database("t_keys_demo_dump")
    plan = DemoPlan()
    doc = plan.scenario.inventory({c.id: f"http://127.0.0.1:{20000 + i}/onvif/device_service"
                                   for i, c in enumerate(plan.cameras.cameras)})
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    keys = tmp_path / "data.keys"
    assert run(capsys, "keys", "init", "--key-file", str(keys))[0] == 0
    assert run(capsys, "db", "migrate", "--database-url", database)[0] == 0
    code, out, err = run(capsys, "inventory", "import", str(inventory), "--database-url",
                         database, "--key-file", str(keys))
    assert code == 0, err
    assert "sealed 8 residents and 44 device credentials" in out
    dump = subprocess.run([str(pg_cluster.bindir / "pg_dump"), "-d", database],
                          capture_output=True, check=True).stdout.decode("utf-8")
    secrets = [plan.cameras.password]
    for resident in doc["residents"]:
        contact = resident["emergency_contact"]
        secrets += [resident["name"], resident["phone"], resident["room"], contact["name"],
                    contact["phone"]]
    assert len(secrets) == 41
    assert [s for s in secrets if s in dump] == []
    # The dump is searched as text: the community's own (not personal) name is in it.
    assert "演示社区" in dump
    rows = dump.split("COPY public.residents")[1].split("\\.")[0].splitlines()[1:]
    assert len(rows) == 8
