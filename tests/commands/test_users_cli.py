"""`scg user` as an admin runs it: add users with a role and a scope, passwords only from a
terminal or one line of standard input (12 characters at least), API tokens printed once
and kept only as hashes, disable and list; every change recorded with who ran it."""

from __future__ import annotations

import asyncio
import getpass
import io

import asyncpg
import pytest

from scg.cli import main
from web.auth.passwords import verify_password
from web.auth.tokens import authenticate, digest

PASSWORD = "open sesame, twelve+"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str,
        stdin: str = "", tty: bool = False) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", Terminal(stdin) if tty else io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def fetch(dsn: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def test_add_list_token_disable(loaded: str, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    db = ("--database-url", loaded)
    code, out, err = run(capsys, monkeypatch, "user", "add", "wang.fang", "--role", "operator",
                         "--community", "demo", "--password-stdin", *db, stdin=PASSWORD + "\n")
    assert (code, out, err) == (0, "added user wang.fang (operator, demo; password set)\n", "")
    code, out, _ = run(capsys, monkeypatch, "user", "add", "duty-officer", "--role",
                       "operator", "--community", "demo", "--no-password", *db)
    assert (code, out) == (0, "added user duty-officer (operator, demo; API tokens only)\n")
    [row] = asyncio.run(fetch(loaded, "SELECT password_hash FROM users WHERE name = $1",
                              "wang.fang"))
    assert row["password_hash"].startswith("$argon2id$")
    assert verify_password(row["password_hash"], PASSWORD)

    code, out, err = run(capsys, monkeypatch, "user", "token", "duty-officer", "--expires",
                         "30d", "--label", "demo duty officer", *db)
    assert code == 0
    token = out.strip()
    assert out == token + "\n" and token.startswith("scg_")   # alone on standard output
    assert "It is shown only this once" in err
    stored = asyncio.run(fetch(loaded, "SELECT digest, expires_at - created_at AS life "
                                       "FROM auth_tokens"))
    assert [(r["digest"], r["life"].days) for r in stored] == [(digest(token), 30)]

    async def actor_of(token: str) -> object:
        conn = await asyncpg.connect(loaded)
        try:
            return await authenticate(conn, token, ("api",))
        finally:
            await conn.close()

    actor = asyncio.run(actor_of(token))
    assert actor is not None and (actor.name, actor.role, actor.communities) == (  # type: ignore[attr-defined]
        "duty-officer", "operator", frozenset({"demo"}))

    code, out, _ = run(capsys, monkeypatch, "user", "list", *db)
    lines = out.splitlines()
    assert lines[0].split() == ["name", "role", "scope", "disabled", "last", "sign-in", "API",
                                "tokens"]
    assert lines[1].split()[:6] == ["duty-officer", "operator", "demo", "no", "never", "1"]
    assert lines[2].split() == ["wang.fang", "operator", "demo", "no", "never", "0"]
    assert token not in out

    code, out, _ = run(capsys, monkeypatch, "user", "disable", "duty-officer", *db)
    assert code == 0
    assert asyncio.run(actor_of(token)) is None
    changes = asyncio.run(fetch(loaded, "SELECT actor, action, user_name FROM user_changes "
                                        "ORDER BY id"))
    me = f"cli:{getpass.getuser()}"
    assert [tuple(c) for c in changes] == [
        (me, "user.add", "wang.fang"), (me, "user.add", "duty-officer"),
        (me, "user.token", "duty-officer"), (me, "user.disable", "duty-officer")]


def test_refusals_say_what_to_do(loaded: str, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    db = ("--database-url", loaded)
    code, _, err = run(capsys, monkeypatch, "user", "add", "li", "--role", "viewer",
                       "--password-stdin", *db, stdin="short\n")
    assert (code, err) == (2, "scg user: the password has 5 characters; it needs at least "
                              "12 (a few words make a long one easy to remember)\n")
    code, _, err = run(capsys, monkeypatch, "user", "add", "li", "--role", "viewer", *db)
    assert code == 2 and "pass --password-stdin" in err   # no terminal to ask in
    code, _, err = run(capsys, monkeypatch, "user", "add", "li", "--role", "viewer",
                       "--community", "atlantis", "--no-password", *db)
    assert (code, err) == (2, "scg user: community atlantis is not in the inventory (known: "
                              "demo); import it first with `scg inventory import FILE`\n")
    code, _, err = run(capsys, monkeypatch, "user", "add", "bad name", "--role", "viewer",
                       "--no-password", *db)
    assert code == 2 and "user name 'bad name' is not valid" in err
    assert run(capsys, monkeypatch, "user", "add", "李强", "--role", "viewer",
               "--no-password", *db)[0] == 0
    code, _, err = run(capsys, monkeypatch, "user", "add", "李强", "--role", "admin",
                       "--no-password", *db)
    assert (code, err) == (2, "scg user: user '李强' already exists; `scg user passwd 李强` "
                              "sets its password\n")
    code, _, err = run(capsys, monkeypatch, "user", "token", "李强", "--expires", "soon", *db)
    assert (code, err) == (2, "scg user: --expires 'soon' is not a duration; write e.g. 90d, "
                              "12h, 30m or P90D (at most 3660 days)\n")
    # In a terminal the password is asked twice, and must be typed the same both times.
    typed = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(typed))
    code, _, err = run(capsys, monkeypatch, "user", "add", "zhou", "--role", "viewer", *db,
                       tty=True)
    assert (code, err) == (2, "scg user: the two passwords differ; nothing was changed\n")
    code, _, err = run(capsys, monkeypatch, "user", "passwd", "nobody", "--password-stdin",
                       *db, stdin=PASSWORD + "\n")
    assert (code, err) == (2, "scg user: there is no user 'nobody'; `scg user list` shows "
                              "them\n")


def test_a_new_password_ends_sessions_but_keeps_api_tokens(
        loaded: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    db = ("--database-url", loaded)
    run(capsys, monkeypatch, "user", "add", "zhao", "--role", "viewer", "--password-stdin",
        *db, stdin=PASSWORD + "\n")
    api_token = run(capsys, monkeypatch, "user", "token", "zhao", *db)[1].strip()

    async def session() -> None:
        from web.auth.tokens import issue

        conn = await asyncpg.connect(loaded)
        try:
            user = await conn.fetchval("SELECT id FROM users WHERE name = 'zhao'")
            from datetime import timedelta
            await issue(conn, user, "session", timedelta(hours=8))
        finally:
            await conn.close()

    asyncio.run(session())
    code, out, _ = run(capsys, monkeypatch, "user", "passwd", "zhao", "--password-stdin", *db,
                       stdin="another long password\n")
    assert (code, out) == (0, "password of zhao set; its sessions and short-lived tokens "
                              "ended\n")
    rows = asyncio.run(fetch(loaded, "SELECT kind, revoked_at IS NOT NULL AS revoked "
                                     "FROM auth_tokens ORDER BY id"))
    assert [tuple(r) for r in rows] == [("api", False), ("session", True)]
    assert api_token.startswith("scg_")
