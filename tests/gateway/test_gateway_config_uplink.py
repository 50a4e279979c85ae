"""The uplink section's login and TLS settings, checked when the config is read: the
password file, the gateway's own broker account, and CA / certificate / key files that
exist, parse and belong together — each mistake named with its key and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gateway_support import FakeDriver, config_dict, write_config
from tls_support import TestCA

from gateway.config import ConfigError, UplinkTls, load_config
from scg.cli import main


def problems(folder: Path, uplink: dict[str, Any]) -> list[str]:
    doc = config_dict()
    doc["uplink"].update(uplink)
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(folder, doc))
    return caught.value.problems


def loads(folder: Path, uplink: dict[str, Any]) -> Any:
    doc = config_dict()
    doc["uplink"].update(uplink)
    return load_config(write_config(folder, doc)).uplink


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "pki")


def test_password_file_is_read_relative_to_the_config_and_kept_out_of_repr(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    (tmp_path / "uplink.password").write_text("s3cret-token\n")
    uplink = loads(tmp_path, {"username": "demo/gw1", "password_file": "uplink.password"})
    assert uplink.password == "s3cret-token"
    assert uplink.password_file == tmp_path.absolute() / "uplink.password"
    assert "s3cret" not in repr(uplink)


@pytest.mark.parametrize(("uplink", "expected"), [
    ({"username": "demo/gw1", "password_file": "nowhere.password"},
     "uplink.password_file: `password_file` cannot be read: No such file or directory"),
    ({"username": "demo/gw1", "password": "x", "password_file": "empty.password"},
     "uplink.password_file: both `password` and `password_file` are set; keep one"),
    ({"username": "demo/gw1", "password_file": "empty.password"},
     "uplink.password_file: `password_file` '{folder}/empty.password' must hold the password "
     "on one line, got nothing"),
    ({"password_file": "good.password"},
     "uplink.password_file: `password_file` is set without `username`; add the username, "
     "e.g. `username: demo/gw1` (the account `scg broker config` makes for this gateway)"),
    ({"username": "demo/gw2", "password_file": "good.password"},
     "uplink.username: `username` 'demo/gw2' is the broker account of another gateway; "
     "this one is 'demo/gw1'. The broker's ACL would accept and drop everything it "
     "publishes: use this gateway's own account"),
])
def test_login_mistakes_are_named(tmp_path: Path, fake_driver: type[FakeDriver],
                                  uplink: dict[str, Any], expected: str) -> None:
    (tmp_path / "empty.password").write_text("\n")
    (tmp_path / "good.password").write_text("pw\n")
    found = problems(tmp_path, uplink)
    assert len(found) == 1, found
    assert expected.format(folder=tmp_path.absolute()) in found[0]


def test_mutual_tls_files_load(tmp_path: Path, fake_driver: type[FakeDriver],
                               ca: TestCA) -> None:
    mine = ca.client("demo/gw1")
    uplink = loads(tmp_path, {"port": 8883, "tls": {
        "ca_file": str(ca.ca_file), "cert_file": str(mine.cert_file),
        "key_file": str(mine.key_file)}})
    assert uplink.tls == UplinkTls(ca.ca_file, mine.cert_file, mine.key_file)
    assert uplink.tls.context().verify_mode.name == "CERT_REQUIRED"
    assert uplink.tls.context().check_hostname


def test_tls_with_only_a_ca_is_server_authentication(tmp_path: Path,
                                                     fake_driver: type[FakeDriver],
                                                     ca: TestCA) -> None:
    assert loads(tmp_path, {"tls": {"ca_file": str(ca.ca_file)}}).tls == UplinkTls(ca.ca_file)


def test_tls_mistakes_are_named_with_their_key(tmp_path: Path, fake_driver: type[FakeDriver],
                                               ca: TestCA) -> None:
    mine, other = ca.client("demo/gw1"), ca.client("demo/gw2")
    not_pem = tmp_path / "notes.txt"
    not_pem.write_text("not a certificate\n")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"ca_file": "missing-ca.crt"},
         "uplink.tls.ca_file: `ca_file` cannot be read: No such file or directory "
         f"('{tmp_path.absolute()}/missing-ca.crt'); check the path"),
        ({"ca_file": str(not_pem)},
         f"uplink.tls.ca_file: uplink.tls.ca_file '{not_pem}' holds no usable CA certificate"),
        ({"ca_file": str(ca.ca_file), "cert_file": str(mine.cert_file),
          "key_file": str(other.key_file)},
         f"uplink.tls.key_file: uplink.tls.key_file '{other.key_file}' is not the key of "
         f"uplink.tls.cert_file '{mine.cert_file}'; give the key the certificate was issued "
         "for"),
        ({"ca_file": str(ca.ca_file), "key_file": str(mine.key_file)},
         "uplink.tls.key_file: uplink.tls.key_file is set without uplink.tls.cert_file"),
        ({"ca_file": str(ca.ca_file), "cert_file": str(not_pem)},
         f"uplink.tls.cert_file: uplink.tls.cert_file '{not_pem}': not a usable PEM "
         "certificate"),
        ({"cafile": str(ca.ca_file)}, "uplink.tls.cafile: unknown key `cafile`; did you mean "
                                      "`ca_file`?"),
        ({}, "uplink.tls: `tls` is empty; give at least `ca_file`"),
    ]
    for tls, expected in cases:
        found = problems(tmp_path, {"tls": tls or None})
        assert any(expected in p for p in found), (tls, found)


def test_check_says_how_the_gateway_logs_in(tmp_path: Path, fake_driver: type[FakeDriver],
                                            ca: TestCA,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    mine = ca.client("demo/gw1")
    (tmp_path / "uplink.password").write_text("pw\n")
    doc = config_dict(8883, devices=1)
    doc["uplink"].update(username="demo/gw1", password_file="uplink.password", tls={
        "ca_file": str(ca.ca_file), "cert_file": str(mine.cert_file),
        "key_file": str(mine.key_file)})
    path = write_config(tmp_path, doc)
    assert main(["gateway", "check", "--config", str(path)]) == 0
    assert "uplink 127.0.0.1:8883 over TLS with a client certificate as demo/gw1, spool" in \
        capsys.readouterr().out
