"""`scg keys init|rotate|retire|list`: the key file that seals residents' data and device
credentials in the database (`inventory.keyfile`, `inventory.sealing`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from scg.commands.common import (
    CommandError,
    connect,
    database_arg,
    database_url,
    guarded,
    require_migrated,
)

_ENV = "SCG_DATA_KEY_FILE"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    keys = sub.add_parser(
        "keys", help="the key file sealing personal data (SM4-GCM)",
        description="Residents' names, phones, rooms and contacts and the device credentials "
                    "the centre keeps are stored SM4-GCM sealed under a key file. Every "
                    f"subcommand takes --key-file PATH (env {_ENV}).")
    ksub = keys.add_subparsers(dest="keys_command", metavar="COMMAND", required=True)
    init = ksub.add_parser(
        "init", help="write a new key file with one random key",
        description="Write a new key file (mode 0600) with one random 128-bit SM4 key. An "
                    "existing file is never overwritten.")
    _key_file_arg(init)
    init.set_defaults(func=_init)
    rotate = ksub.add_parser(
        "rotate", help="add a new current key and re-seal every value under it",
        description="Add a new random key to the key file and make it current, then re-seal "
                    "every sealed value in the database under it, BATCH rows per transaction. "
                    "If it is interrupted, run it again with --resume: it re-seals what is "
                    "left without adding another key. The old key stays in the file until "
                    "`scg keys retire`. A running API reads the changed file by itself.")
    _key_file_arg(rotate)
    database_arg(rotate)
    rotate.add_argument("--resume", action="store_true",
                        help="add no key; re-seal what is not yet under the current key")
    rotate.add_argument("--batch", type=int, default=500, metavar="BATCH",
                        help="rows per transaction (default 500)")
    rotate.set_defaults(func=_rotate)
    retire = ksub.add_parser(
        "retire", help="remove an old key that no sealed value uses any more",
        description="Remove key KEYID from the key file. Refused while it is the current key "
                    "or while any value in the database is sealed with it. Keep a backup of "
                    "the old key file with the database backups made before: they need it.")
    retire.add_argument("key_id", metavar="KEYID", help="the key's id, as `scg keys list` "
                                                        "shows it")
    _key_file_arg(retire)
    database_arg(retire)
    retire.set_defaults(func=_retire)
    listing = ksub.add_parser(
        "list", help="the keys of the key file, and how many rows each seals",
        description="List the keys of the key file (the current one marked); with a "
                    "database, how many rows each key seals there.")
    _key_file_arg(listing)
    database_arg(listing)
    listing.set_defaults(func=_list)


def _key_file_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--key-file", default=os.environ.get(_ENV), metavar="PATH",
                   help=f"the key file (env {_ENV})")


def _path(args: argparse.Namespace) -> Path:
    if not args.key_file:
        raise CommandError(f"no key file given: pass --key-file PATH or set {_ENV}")
    return Path(args.key_file).expanduser()


def _keyfile_errors() -> Any:
    from inventory.keyfile import KeyFileError

    return KeyFileError


def _init(args: argparse.Namespace) -> int:
    async def body() -> int:
        from inventory.keyfile import init_key_file

        path = _path(args)
        try:
            key = init_key_file(path)
        except _keyfile_errors() as exc:
            raise CommandError(str(exc)) from None
        print(f"wrote key file {path} (mode 0600) with key {key.id}. Set {_ENV}={path} for "
              "`scg inventory import`, `scg api` and `scg keys`, and back the file up apart "
              "from the database: without it the residents' data cannot be read.")
        return 0

    return guarded(args, body)


def _rotate(args: argparse.Namespace) -> int:
    async def body() -> int:
        from inventory.keyfile import add_key, load_key_file
        from inventory.personal_store import reseal_all
        from inventory.sealing import SealingError

        if args.batch < 1:
            raise CommandError(f"--batch must be at least 1, got {args.batch}")
        path = _path(args)
        url = database_url(args)
        conn = await connect(url)
        try:
            await require_migrated(conn)
            try:
                if not args.resume:
                    key = add_key(path)
                    print(f"added key {key.id} to {path}; it is now the current key")
                ring = load_key_file(path)
            except _keyfile_errors() as exc:
                raise CommandError(str(exc)) from None
            try:
                done = await reseal_all(conn, ring, batch=args.batch, progress=lambda t, n:
                                        print(f"  {t}: {n} rows re-sealed", flush=True))
            except SealingError as exc:
                raise CommandError(f"{exc}. Re-sealing stopped there; run `scg keys rotate "
                                   "--resume` once it is fixed") from None
        finally:
            await conn.close()
        total = ", ".join(f"{n} {t}" for t, n in done.items())
        print(f"every sealed value is now under key {ring.current} ({total} re-sealed by "
              "this run)")
        old = sorted(k for k in ring.keys if k != ring.current)
        if old:
            print(f"old keys still in the file: {', '.join(old)}; remove each with `scg keys "
                  "retire KEYID` once no database or backup you may restore needs it")
        return 0

    return guarded(args, body)


def _retire(args: argparse.Namespace) -> int:
    async def body() -> int:
        from inventory.keyfile import load_key_file, remove_key
        from inventory.personal_store import sealed_counts

        path = _path(args)
        try:
            ring = load_key_file(path)
        except _keyfile_errors() as exc:
            raise CommandError(str(exc)) from None
        if args.key_id not in ring.keys:
            raise CommandError(f"key {args.key_id} is not in {path} (it holds "
                               f"{', '.join(sorted(ring.keys))})")
        if args.key_id == ring.current:
            raise CommandError(f"key {args.key_id} is the current key of {path}; rotate "
                               "first (`scg keys rotate`), then retire it")
        url = database_url(args)
        conn = await connect(url)
        try:
            await require_migrated(conn)
            used = (await sealed_counts(conn)).get(args.key_id, {})
        finally:
            await conn.close()
        if used:
            rows = ", ".join(f"{n} in {t}" for t, n in sorted(used.items()))
            raise CommandError(f"key {args.key_id} still seals {rows}; run `scg keys rotate "
                               "--resume` to re-seal them under the current key first")
        try:
            remove_key(path, args.key_id)
        except _keyfile_errors() as exc:
            raise CommandError(str(exc)) from None
        print(f"retired key {args.key_id}: removed from {path}")
        return 0

    return guarded(args, body)


def _list(args: argparse.Namespace) -> int:
    async def body() -> int:
        from inventory.keyfile import load_key_file
        from inventory.personal_store import sealed_counts

        path = _path(args)
        try:
            ring = load_key_file(path)
        except _keyfile_errors() as exc:
            raise CommandError(str(exc)) from None
        counts: dict[str, dict[str, int]] | None = None
        if args.database_url:
            conn = await connect(args.database_url)
            try:
                await require_migrated(conn)
                counts = await sealed_counts(conn)
            finally:
                await conn.close()
        for ident, key in ring.keys.items():
            mark = "current" if ident == ring.current else "old"
            made = key.created.strftime("%Y-%m-%d %H:%M UTC") if key.created else "?"
            used = ""
            if counts is not None:
                rows = counts.get(ident, {})
                used = "  seals " + (", ".join(f"{n} {t}" for t, n in sorted(rows.items()))
                                     or "nothing")
            print(f"{ident}  {mark:<7}  made {made}{used}")
        if counts is not None:
            strangers = sorted(set(counts) - set(ring.keys))
            if strangers:
                print(f"the database holds values sealed with keys not in {path}: "
                      f"{', '.join(strangers)}; they cannot be opened with this file")
                return 1
        return 0

    return guarded(args, body)
