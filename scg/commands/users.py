"""`scg user …`: the people (and programs) who may use the API, run on the central server
by whoever holds the database URL. Every change is recorded in `user_changes` with the
operating-system user who ran the command as its actor.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from scg.commands.common import (
    CommandError,
    connect,
    database_arg,
    database_url,
    guarded,
    require_migrated,
)

_ROLES_HELP = ("admin: users, inventory and configuration, and everything an operator may do; "
               "operator: alarms, declared values and device commands; auditor: reads "
               "everything, changes nothing; viewer: indicators, reports and device health")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    user = sub.add_parser("user", help="users, roles and API tokens",
                          description="Manage who may use the API and the console. Roles: "
                                      f"{_ROLES_HELP}.")
    usub = user.add_subparsers(dest="user_command", metavar="COMMAND", required=True)

    add = usub.add_parser("add", help="add a user",
                          description="Add a user with a role, for the whole county or only "
                                      "the communities given. The password is asked twice "
                                      "in a terminal, or read from one line of standard "
                                      "input with --password-stdin; at least 12 characters.")
    add.add_argument("name", help="the user name, as records will show it (e.g. wang.fang)")
    add.add_argument("--role", required=True, choices=["admin", "operator", "auditor",
                                                       "viewer"], help=_ROLES_HELP)
    add.add_argument("--community", action="append", metavar="ID",
                     help="only this community (repeat for several); default the whole "
                          "county")
    how = add.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true",
                     help="read the password from one line of standard input")
    how.add_argument("--no-password", action="store_true",
                     help="an account for a program: it signs in only with API tokens from "
                          "`scg user token`")
    add.set_defaults(func=_add)

    passwd = usub.add_parser("passwd", help="set a user's password",
                             description="Set a user's password; the user's browser sessions "
                                         "and short-lived tokens end (API tokens stay).")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true",
                        help="read the password from one line of standard input")
    passwd.set_defaults(func=_passwd)

    for verb, text in (("disable", "disable a user: every token and session of it ends"),
                       ("enable", "enable a disabled user again")):
        p = usub.add_parser(verb, help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument("name")
        p.set_defaults(func=_disable if verb == "disable" else _enable)

    lst = usub.add_parser("list", help="list users",
                          description="Every user with role, scope, whether disabled, last "
                                      "sign-in and how many API tokens are valid (never "
                                      "the tokens themselves).")
    lst.set_defaults(func=_list)

    tok = usub.add_parser("token", help="make an API token for a user (printed once)",
                          description="Make a long-lived API token for a program acting as "
                                      "the user. The token is printed once, alone on standard "
                                      "output, and only its SHA-256 is kept: store it where "
                                      "the program reads it (a file only it may read), not "
                                      "on a command line.")
    tok.add_argument("name")
    tok.add_argument("--expires", default="90d", metavar="DURATION",
                     help="lifetime: 90d, 12h, 30m or P90D (default 90d, at most 3660d)")
    tok.add_argument("--label", default="", help="what the token is for, shown in the record")
    tok.set_defaults(func=_token)

    for p in (add, passwd, lst, tok, *(usub.choices[v] for v in ("disable", "enable"))):
        database_arg(p)


def cli_actor() -> str:
    """The actor of a change made with `scg user`: the operating-system user."""
    try:
        who = os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return f"cli:{who}"


def read_password(from_stdin: bool) -> str:
    """One line of standard input, or asked twice in a terminal; checked against the
    policy (CommandError with what it needs)."""
    from web.auth.passwords import PasswordRefused, check_policy

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise CommandError("the two passwords differ; nothing was changed")
    else:
        raise CommandError("no password: standard input is not a terminal, so pass "
                           "--password-stdin and send the password as one line (or "
                           "--no-password for an account that uses API tokens only)")
    try:
        check_policy(password)
    except PasswordRefused as exc:
        raise CommandError(str(exc)) from None
    return password


def _run(args: argparse.Namespace, body: Any) -> int:
    async def main() -> Any:
        from web.auth.users import UserError

        conn = await connect(database_url(args))
        try:
            await require_migrated(conn)
            return await body(conn)
        except UserError as exc:
            raise CommandError(str(exc)) from None
        finally:
            await conn.close()

    return guarded(args, main)


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _hash(password: str) -> str:
    from web.auth.passwords import hash_password

    return hash_password(password)


def _add(args: argparse.Namespace) -> int:
    from web.auth.users import UserError, add_user, check_name

    try:  # before asking for a password that could not be used
        check_name(args.name)
        password = None if args.no_password else read_password(args.password_stdin)
    except (UserError, CommandError) as exc:
        print(f"scg user: {exc}", file=sys.stderr)
        return 2

    async def body(conn: Any) -> None:
        await add_user(conn, args.name, args.role, args.community,
                       None if password is None else _hash(password),
                       actor=cli_actor(), at=_now())
        scope = ", ".join(sorted(set(args.community))) if args.community else "whole county"
        how = "API tokens only" if password is None else "password set"
        print(f"added user {args.name} ({args.role}, {scope}; {how})")

    return _run(args, body)


def _passwd(args: argparse.Namespace) -> int:
    from web.auth.users import set_password

    try:
        password = read_password(args.password_stdin)
    except CommandError as exc:
        print(f"scg user: {exc}", file=sys.stderr)
        return 2

    async def body(conn: Any) -> None:
        await set_password(conn, args.name, _hash(password), actor=cli_actor(), at=_now())
        print(f"password of {args.name} set; its sessions and short-lived tokens ended")

    return _run(args, body)


def _disable(args: argparse.Namespace) -> int:
    from web.auth.users import set_disabled

    async def body(conn: Any) -> None:
        await set_disabled(conn, args.name, True, actor=cli_actor(), at=_now())
        print(f"user {args.name} disabled; its tokens and sessions no longer work")

    return _run(args, body)


def _enable(args: argparse.Namespace) -> int:
    from web.auth.users import set_disabled

    async def body(conn: Any) -> None:
        await set_disabled(conn, args.name, False, actor=cli_actor(), at=_now())
        print(f"user {args.name} enabled (make new tokens with `scg user token`)")

    return _run(args, body)


def _list(args: argparse.Namespace) -> int:
    from web.auth.users import list_users

    async def body(conn: Any) -> None:
        users = await list_users(conn)
        if not users:
            print("no users yet; add one with `scg user add NAME --role admin`")
            return
        rows = [("name", "role", "scope", "disabled", "last sign-in", "API tokens")]
        for u in users:
            tokens = (f"{u.tokens} (until {u.token_expiry:%Y-%m-%d})" if u.tokens else "0")
            rows.append((u.name, u.role, ", ".join(u.communities or []) or "county",
                         "yes" if u.disabled else "no",
                         f"{u.last_login_at:%Y-%m-%d %H:%M}Z" if u.last_login_at else "never",
                         tokens))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())

    return _run(args, body)


def _token(args: argparse.Namespace) -> int:
    from web.auth.settings import parse_lifetime
    from web.auth.users import make_api_token

    try:
        lifetime = parse_lifetime(args.expires, "--expires")
    except ValueError as exc:
        print(f"scg user: {exc}", file=sys.stderr)
        return 2

    async def body(conn: Any) -> None:
        issued = await make_api_token(conn, args.name, lifetime, label=args.label,
                                      actor=cli_actor(), at=_now())
        print(issued.token, flush=True)
        print(f"API token {issued.id} of {args.name}, valid until "
              f"{issued.expires_at:%Y-%m-%d %H:%M}Z; send it as `Authorization: Bearer "
              "<token>`. It is shown only this once.", file=sys.stderr)

    return _run(args, body)
