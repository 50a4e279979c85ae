"""The console's one Jinja environment: its templates (web/console/templates), the filters
every page writes with — local time (SCG_TIMEZONE, default Asia/Shanghai), ages, rates by
the one rounding rule (`indicators.model.percent_text`: truncated to one decimal), Chinese
words for codes — and `render`, which adds who is signed in and answers with the page's
security headers (`web.headers.html_page`)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from acceptance.phrasing import REASON_WORDS
from indicators.model import percent_text
from web.auth.actor import Actor
from web.console import words
from web.console.event_types import event_name
from web.console.places import place_text
from web.console.reasons import reason_words
from web.headers import html_page

TEMPLATES: Final = Path(__file__).with_name("templates")
ZONE_SETTING: Final = "SCG_TIMEZONE"
DEFAULT_ZONE: Final = "Asia/Shanghai"


def zone_from_env() -> ZoneInfo:
    """The zone the console writes times in; ValueError naming the setting and the fix."""
    name = os.environ.get(ZONE_SETTING, "").strip() or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{ZONE_SETTING}={name!r} is not a time zone; give an IANA name "
                         f"such as {DEFAULT_ZONE} or Asia/Urumqi") from None


@cache
def console_zone() -> ZoneInfo:
    return zone_from_env()


def as_time(value: Any) -> datetime | None:
    """A datetime from a datetime or an RFC 3339 string (the API's JSON); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def local(value: Any, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    t = as_time(value)
    return "—" if t is None else t.astimezone(console_zone()).strftime(fmt)


def age_words(seconds: float) -> str:
    """3 秒 / 12 分钟 / 5 小时 / 2 天 — the largest unit that fits, whole."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} 秒"
    if s < 3600:
        return f"{s // 60} 分钟"
    if s < 86400:
        return f"{s // 3600} 小时 {s % 3600 // 60} 分" if s < 36000 else f"{s // 3600} 小时"
    return f"{s // 86400} 天"


def age(value: Any, now: datetime | None = None) -> str:
    """How long ago `value` was: `5 分钟前`; `—` for none."""
    t = as_time(value)
    if t is None:
        return "—"
    return age_words(((now or datetime.now(UTC)) - t).total_seconds()) + "前"


def rate(numerator: float | None, denominator: float | None) -> str:
    """`83.3%` by the one rounding rule; `—` when there is nothing to divide by."""
    if numerator is None or not denominator:
        return "—"
    return percent_text(numerator, denominator) + "%"


def figure_text(f: dict[str, Any]) -> str:
    """An indicator's numerator and denominator as counted: items, or hours for the
    windowed networked rate (seconds online of seconds observed), or kWh."""
    num, den = f.get("numerator"), f.get("denominator")
    if f.get("id") == "video_networked_time_rate" and isinstance(num, int | float) \
            and isinstance(den, int | float):
        return f"在线 {num / 3600:.1f} / 观测 {den / 3600:.1f} 小时"
    if f.get("id") == "lighting_energy_saving":
        return f"节电 {number(num)} / 基准 {number(den)} kWh"
    return f"{number(num)} / {number(den)}"


def number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}" if not value.is_integer() else str(int(value))
    return str(value)


def query(base: dict[str, Any], **changes: Any) -> str:
    """`?a=1&b=2`: the page's filters with `changes` applied (None or "" drops a key)."""
    merged = {**base, **changes}
    kept = {k: v for k, v in merged.items() if v not in (None, "")}
    return "?" + urlencode(kept) if kept else "?"


def check_word(check: str | None) -> str:
    """A picture probe's or record check's name in words (`black` -> 黑屏)."""
    if not check:
        return "—"
    return "画面正常" if check == "ok" else REASON_WORDS.get(check, check)


def _word_filter(table: dict[str, str]) -> Any:
    return lambda code, empty="—": words.word(table, code, empty)


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html", "svg"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters.update(
        local=local, age=age, number=number,
        state=_word_filter(words.DEVICE_STATES), status=_word_filter(words.STATUSES),
        verdict=_word_filter(words.VERDICTS), tier=_word_filter(words.TIERS),
        severity=_word_filter(words.SEVERITIES), alarm_state=_word_filter(words.ALARM_STATES),
        change=_word_filter(words.ALARM_CHANGES), role=_word_filter(words.ROLES),
        kind=_word_filter(words.KINDS), action=_word_filter(words.ACTIONS),
        chain=_word_filter(words.CHAINS), indicator=_word_filter(words.INDICATORS),
        short=_word_filter(words.INDICATOR_SHORT), figure=figure_text,
        metric=_word_filter(words.METRICS),
        protocol=_word_filter(words.PROTOCOLS), check=_word_filter(words.RECORD_CHECKS),
        position=_word_filter(words.KEY_POSITIONS), event=event_name,
        reason=reason_words, check_word=check_word,
        alarm_key=words.alarm_key)
    env.globals.update(rate=rate, query=query, place_text=place_text)
    return env


def viewer(actor: Actor, request: Request) -> dict[str, Any]:
    """Who is signed in, what the navigation may offer them, and the CSRF token of their
    forms (empty for a bearer token, which needs none)."""
    return {"name": actor.name, "role": actor.role,
            "csrf_token": getattr(request.state, "csrf_token", ""),
            "may_alarms": actor.may("alarms.read"), "may_act": actor.may("alarms.act"),
            "may_audit": actor.may("audit.read"), "may_declare": actor.may("declared.read"),
            "may_enter": actor.may("declared.enter")}


def render_text(template: str, **context: Any) -> str:
    return environment().get_template(template).render(
        zone=console_zone().key, now=datetime.now(UTC), **context)


def render(request: Request, actor: Actor, template: str, *, status: int = 200,
           **context: Any) -> HTMLResponse:
    """The page `template` for `actor`, with the security headers of our pages."""
    context.setdefault("community", None)
    html = render_text(template, viewer=viewer(actor, request), path=request.url.path,
                       **context)
    return html_page(html, status)


def topbar(request: Request, community: dict[str, Any] | None) -> Markup:
    """The console's top bar alone, for a page of its own layout (the acceptance report):
    shown on screen, never printed. Needs the signed-in actor of the request."""
    actor: Actor = request.state.actor
    return Markup(render_text("topbar.html", viewer=viewer(actor, request),
                              path=request.url.path, community=community,
                              bar_class="in-report"))
