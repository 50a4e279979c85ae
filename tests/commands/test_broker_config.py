"""`scg broker config` without a broker: mosquitto's own hash format, the ACL blocks, the
files it writes (and their permissions), keeping and rotating passwords, and the
messages for what cannot be done. The same files on a real mosquitto:
tests/ingest/test_ingest_broker_acl.py."""

from __future__ import annotations

import base64
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from scg.broker.accounts import (
    AccountError,
    account_for,
    acl_text,
    gateway_account,
    ingest_account,
)
from scg.broker.files import ACL_HEADER, BrokerConfigError, write_broker_config
from scg.broker.passwd import hash_password, passwd_text, verify_password
from scg.cli import main

GATEWAYS = [("demo", "demo-gw1"), ("demo", "demo-gw2"), ("north", "demo-gw1")]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.skipif(shutil.which("mosquitto_passwd") is None,
                    reason="mosquitto_passwd (Debian package mosquitto) is not installed")
def test_our_hash_is_the_one_mosquitto_passwd_writes(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.touch()
    subprocess.run(["mosquitto_passwd", "-b", str(passwd), "gw", "s3cret:with spaces"],
                   check=True, capture_output=True)
    user, theirs = passwd.read_text().strip().split(":", 1)
    _, algorithm, iterations, salt, _digest = theirs.split("$")
    ours = hash_password("s3cret:with spaces", salt=base64.b64decode(salt),
                         iterations=int(iterations))
    assert (user, algorithm, ours) == ("gw", "7", theirs)
    assert verify_password("s3cret:with spaces", theirs)
    assert not verify_password("s3cret", theirs)


def test_password_file_lines_are_sorted_and_each_verifies() -> None:
    text = passwd_text({"demo/gw2": "b", "demo/gw1": "a"})
    lines = [line.split(":", 1) for line in text.splitlines()]
    assert [u for u, _ in lines] == ["demo/gw1", "demo/gw2"]
    assert verify_password("a", lines[0][1]) and verify_password("b", lines[1][1])
    with pytest.raises(ValueError, match="without ':'"):
        passwd_text({"a:b": "x"})


def test_a_gateway_block_names_its_community_and_gateway_literally() -> None:
    assert acl_text([gateway_account("demo", "demo-gw1")]).splitlines() == [
        '# Community "demo", gateway "demo-gw1".',
        "user demo/demo-gw1",
        "topic write scg/v1/demo/demo-gw1/telemetry",
        "topic write scg/v1/demo/demo-gw1/events",
        "topic write scg/v1/demo/demo-gw1/state",
        "topic write scg/v1/demo/demo-gw1/meta",
        "topic write scg/v1/demo/demo-gw1/status",
        "topic read scg/v1/demo/demo-gw1/cmd/#",
    ]


def test_account_names_say_the_role() -> None:
    assert account_for("north/gw-7") == gateway_account("north", "gw-7")
    assert [g.topic for g in account_for("scg-ingest").grants] == ["scg/v1/#",
                                                                   "scg/v1/+/+/cmd/#"]
    assert [g.topic for g in account_for("devices").grants] == ["scg-sim/#"]
    with pytest.raises(AccountError, match="COMMUNITY/GATEWAY"):
        account_for("demo-gw1")
    with pytest.raises(AccountError):
        account_for("demo/bad+id")


def test_files_hold_every_account_and_secrets_are_private(tmp_path: Path) -> None:
    result = write_broker_config(tmp_path / "out", GATEWAYS)
    out = tmp_path / "out"
    assert result.accounts == ["scg-ingest", "demo/demo-gw1", "demo/demo-gw2",
                               "north/demo-gw1"]
    assert result.created == result.accounts
    users = [line.split(":")[0] for line in (out / "passwd").read_text().splitlines()]
    assert users == sorted(result.accounts)
    acl_users = [line[5:] for line in (out / "acl").read_text().splitlines()
                 if line.startswith("user ")]
    assert acl_users == result.accounts
    secrets = [out / "passwd", out / "credentials" / "scg-ingest.env",
               *(result.password_file(name) for name in result.accounts)]
    assert {str(p.relative_to(out)): stat.S_IMODE(p.stat().st_mode) for p in secrets} == \
        {str(p.relative_to(out)): 0o600 for p in secrets}
    assert stat.S_IMODE((out / "credentials").stat().st_mode) == 0o700
    ingest_pw = result.password_file("scg-ingest").read_text().strip()
    assert (out / "credentials" / "scg-ingest.env").read_text() == \
        f"SCG_BROKER_USERNAME=scg-ingest\nSCG_BROKER_PASSWORD={ingest_pw}\n"
    passwords = {result.password_file(n).read_text().strip() for n in result.accounts}
    assert len(passwords) == 4 and all(len(p) == 32 for p in passwords)


def test_rotation_by_gateway_id_must_be_unambiguous(tmp_path: Path) -> None:
    write_broker_config(tmp_path, GATEWAYS)
    with pytest.raises(BrokerConfigError, match=r"'demo-gw1' is used in several communities "
                       r"\(demo/demo-gw1, north/demo-gw1\); name one of them"):
        write_broker_config(tmp_path, GATEWAYS, rotate=["demo-gw1"])
    with pytest.raises(BrokerConfigError, match="--rotate demo-gw9: no such gateway"):
        write_broker_config(tmp_path, GATEWAYS, rotate=["demo-gw9"])
    before = (tmp_path / "credentials" / "scg-ingest.password").read_text()
    result = write_broker_config(tmp_path, GATEWAYS, rotate=["demo-gw2", "scg-ingest"])
    assert result.rotated == ["scg-ingest", "demo/demo-gw2"]
    assert result.kept == ["demo/demo-gw1", "north/demo-gw1"]
    assert (tmp_path / "credentials" / "scg-ingest.password").read_text() != before


def test_a_damaged_stored_password_is_reported_not_replaced(tmp_path: Path) -> None:
    write_broker_config(tmp_path, GATEWAYS)
    stored = tmp_path / "credentials" / "demo" / "demo-gw1.password"
    stored.write_text("two words\n")
    with pytest.raises(BrokerConfigError, match=r"demo-gw1\.password is empty or has spaces; "
                       r"delete the file to have a new password made"):
        write_broker_config(tmp_path, GATEWAYS)


def test_cli_reads_inventories_and_says_what_it_did(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = tmp_path / "demo.yaml"
    inventory.write_text('community: {id: demo, name: 演示, district: "370102"}\n'
                         "devices:\n"
                         "  - {id: l1, kind: light, gateway: demo-gw1, protocol: mqtt, "
                         "address: l1}\n  - {id: l2, kind: light}\n")
    code, out, err = run(capsys, "broker", "config", "--out", str(tmp_path / "o"),
                         "--inventory", str(inventory))
    assert (code, err) == (0, "")
    assert out.splitlines()[:3] == [
        f"wrote {tmp_path / 'o' / 'passwd'} and {tmp_path / 'o' / 'acl'}: 2 accounts "
        "(1 gateways and scg-ingest)",
        f"  new password: scg-ingest -> {tmp_path / 'o/credentials/scg-ingest.password'}",
        f"  new password: demo/demo-gw1 -> "
        f"{tmp_path / 'o/credentials/demo/demo-gw1.password'}"]
    code, out, _ = run(capsys, "broker", "config", "--out", str(tmp_path / "o"),
                       "--inventory", str(inventory))
    assert code == 0 and "  kept: 2 unchanged" in out


def test_cli_errors_name_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCG_DATABASE_URL", raising=False)
    code, _, err = run(capsys, "broker", "config", "--out", str(tmp_path))
    assert code == 2
    assert err == ("scg broker: no inventory given: pass --inventory FILE (repeatable) or "
                   "--database-url (or set SCG_DATABASE_URL)\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("community: {id: demo}\n")
    code, _, err = run(capsys, "broker", "config", "--out", str(tmp_path / "o"),
                       "--inventory", str(bad))
    assert code == 2
    assert err.startswith(f"scg broker: inventory {bad} has ")
    assert not (tmp_path / "o").exists()  # nothing written from a bad inventory


@pytest.mark.integration
def test_cli_reads_the_gateways_of_the_database(
        loaded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "broker", "config", "--out", str(tmp_path),
                         "--database-url", loaded)
    assert (code, err) == (0, "")
    assert "3 accounts (2 gateways and scg-ingest)" in out
    assert sorted(p.name for p in (tmp_path / "credentials" / "demo").iterdir()) == \
        ["demo-gw1.password", "demo-gw2.password"]


def test_the_shipped_acl_example_is_what_the_command_writes() -> None:
    example = (Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "acl.example")
    _note, generated = example.read_text().split("\n\n", 1)
    assert generated == acl_text([ingest_account(), gateway_account("demo", "demo-gw1"),
                                  gateway_account("demo", "demo-gw2")], ACL_HEADER)
