"""The key file: made private and never overwritten, refused when others may read it,
rotated by adding a key, an old key retired only by name."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from inventory.keyfile import (
    KeyFileError,
    KeySource,
    add_key,
    init_key_file,
    load_key_file,
    remove_key,
)
from inventory.sealing import Place

WHERE = Place("demo", "resident", "r1", "name")


def test_init_writes_one_random_key_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data.keys"
    key = init_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring = load_key_file(path)
    assert (ring.current, list(ring.keys)) == (key.id, [key.id])
    assert ring.current_key.secret == key.secret and len(key.secret) == 16
    assert [p.name for p in tmp_path.iterdir()] == ["data.keys"]  # no temporary left
    other = tmp_path / "other.keys"
    assert init_key_file(other).secret != key.secret


def test_init_never_overwrites_a_key_file(tmp_path: Path) -> None:
    path = tmp_path / "data.keys"
    init_key_file(path)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists; scg never overwrites a key file"):
        init_key_file(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "data.keys"
    init_key_file(path)
    os.chmod(path, mode)
    with pytest.raises(KeyFileError) as caught:
        load_key_file(path)
    assert str(caught.value) == (
        f"key file {path} may be read by others (mode {mode:04o}): whoever reads it reads "
        f"every resident's data. Run `chmod 600 {path}` (and check who could have copied it)")


def test_a_missing_or_damaged_key_file_says_what_to_do(tmp_path: Path) -> None:
    missing = tmp_path / "none.keys"
    with pytest.raises(KeyFileError, match=r"does not exist; make one with `scg keys init "
                                           r"--key-file .*none.keys`"):
        load_key_file(missing)
    path = tmp_path / "data.keys"
    init_key_file(path)
    doc = json.loads(path.read_text())
    doc["current"] = "ffffffff"
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyFileError, match=r"\"current\" \('ffffffff'\) is not one of its "
                                           r"keys .*; restore it from its backup"):
        load_key_file(path)
    path.write_text("{not json")
    with pytest.raises(KeyFileError, match="is not a readable scg key file"):
        load_key_file(path)


def test_rotation_adds_a_current_key_and_keeps_the_old_to_open_old_values(
        tmp_path: Path) -> None:
    path = tmp_path / "data.keys"
    first = init_key_file(path)
    sealed = load_key_file(path).seal("张三华", WHERE)
    second = add_key(path)
    ring = load_key_file(path)
    assert ring.current == second.id != first.id
    assert set(ring.keys) == {first.id, second.id}
    assert ring.open(sealed, WHERE) == "张三华"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_only_an_old_key_can_be_removed(tmp_path: Path) -> None:
    path = tmp_path / "data.keys"
    first = init_key_file(path)
    with pytest.raises(KeyFileError, match=f"key {first.id} is the current key"):
        remove_key(path, first.id)
    second = add_key(path)
    with pytest.raises(KeyFileError, match="key 00000000 is not in"):
        remove_key(path, "00000000")
    assert list(remove_key(path, first.id).keys) == [second.id]
    assert list(load_key_file(path).keys) == [second.id]


def test_a_key_source_reads_the_file_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "data.keys"
    init_key_file(path)
    source = KeySource(path)
    first = source.ring()
    assert source.ring() is first  # unchanged: not read again
    new = add_key(path)
    assert source.ring().current == new.id
