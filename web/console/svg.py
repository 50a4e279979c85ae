"""Charts, timelines and maps drawn on the server as SVG: a page shows them with no script
and prints them as they look. Three drawings, each a pure function of its data:

- `line_chart`: an indicator's recorded values over a period (0-100 %), with the tiers'
  threshold lines;
- `state_timeline`: a device's states over a period as coloured bars;
- `site_map`: a community's boundary and positions from their WGS-84 coordinates, projected
  onto the drawing (an equirectangular projection scaled by cos(latitude): over a
  community's few hundred metres its distortion is far below a drawn dot).

Colours carry the state, and every mark has a <title> (its words on hover) and a text
legend, so nothing is told by colour alone. Text is escaped here; the result is Markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Final

from markupsafe import Markup, escape

from web.console.words import DEVICE_STATES

#: Fill of each effective state (also the console's CSS badges).
STATE_COLOURS: Final[dict[str, str]] = {
    "online": "#2e7d32", "degraded": "#e0a100", "offline": "#c62828", "unknown": "#8a8a8a",
    "unmonitored": "#c9c9c9", "none": "#eeeeee"}
TIER_COLOURS: Final[dict[str, str]] = {"basic": "#1565c0", "growth": "#6a1b9a"}
TIER_WORDS: Final[dict[str, str]] = {"basic": "基础型", "growth": "成长型"}
_FONT: Final = 'font-family="Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif"'


def _n(x: float) -> str:
    """A coordinate with at most two decimals (small files, stable text in tests)."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _text_width(text: str, size: float) -> float:
    """About how wide `text` is drawn at font `size`: CJK characters are square, the rest
    about half as wide (enough to lay labels side by side)."""
    return sum(size if ord(c) > 0x2E80 else size * 0.55 for c in text)


def _days(start: datetime, end: datetime, zone: tzinfo) -> list[datetime]:
    """Local midnights strictly inside (start, end]."""
    local = start.astimezone(zone)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    out = []
    while day <= end:
        out.append(day)
        day += timedelta(days=1)   # wall-clock arithmetic: a local midnight again
    return out


@dataclass(frozen=True, slots=True)
class Frame:
    """A time axis from `start` to `end` mapped onto x from `left` to `right`."""

    start: datetime
    end: datetime
    left: float
    right: float

    def x(self, t: datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        share = (t - self.start).total_seconds() / span
        return self.left + max(0.0, min(1.0, share)) * (self.right - self.left)


def _day_ticks(frame: Frame, zone: tzinfo, top: float, bottom: float) -> list[str]:
    out = []
    for day in _days(frame.start, frame.end, zone):
        x = _n(frame.x(day))
        out.append(f'<line x1="{x}" y1="{_n(top)}" x2="{x}" y2="{_n(bottom)}" '
                   'stroke="#ddd" stroke-width="1"/>')
        out.append(f'<text x="{x}" y="{_n(bottom + 14)}" font-size="11" fill="#555" '
                   f'text-anchor="middle">{day.strftime("%m-%d")}</text>')
    return out


def line_chart(points: Sequence[tuple[datetime, float | None]], start: datetime,
               end: datetime, thresholds: dict[str, float | None], zone: tzinfo, *,
               title: str, width: int = 320, height: int = 110) -> Markup:
    """Values in percent over [start, end]; a gap where a value is None (nothing to divide
    by). `thresholds`: tier -> percent (None: not required) drawn as dashed lines."""
    left, right, top, bottom = 30.0, width - 6.0, 8.0, height - 20.0
    frame = Frame(start, end, left, right)

    def y(v: float) -> float:
        return bottom - max(0.0, min(100.0, v)) / 100 * (bottom - top)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" class="chart" role="img" {_FONT}><title>{escape(title)}</title>',
             f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(right - left)}" '
             f'height="{_n(bottom - top)}" fill="#fafafa" stroke="#ccc"/>']
    parts += _day_ticks(frame, zone, top, bottom)
    for tick in (0, 50, 100):
        parts.append(f'<text x="{_n(left - 4)}" y="{_n(y(tick) + 4)}" font-size="10" '
                     f'fill="#555" text-anchor="end">{tick}</text>')
    for tier, v in thresholds.items():
        if v is None:
            continue
        parts.append(f'<line x1="{_n(left)}" y1="{_n(y(v))}" x2="{_n(right)}" y2="{_n(y(v))}" '
                     f'stroke="{TIER_COLOURS.get(tier, "#555")}" stroke-width="1" '
                     f'stroke-dasharray="4 3"><title>{TIER_WORDS.get(tier, tier)}要求 '
                     f'{v:g}%</title></line>')
    runs: list[list[tuple[float, float]]] = [[]]
    for t, v in sorted(points, key=lambda p: p[0]):
        if v is None or not start <= t <= end:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((frame.x(t), y(v)))
    for run in runs:
        if len(run) > 1:
            path = " ".join(f"{_n(px)},{_n(py)}" for px, py in run)
            parts.append(f'<polyline points="{path}" fill="none" stroke="#1b5e20" '
                         'stroke-width="1.6"/>')
        for px, py in run[-1:] if len(run) > 1 else run:
            parts.append(f'<circle cx="{_n(px)}" cy="{_n(py)}" r="2.5" fill="#1b5e20"/>')
    if not any(runs):
        parts.append(f'<text x="{_n((left + right) / 2)}" y="{_n((top + bottom) / 2 + 4)}" '
                     'font-size="12" fill="#888" text-anchor="middle">尚无历史记录</text>')
    if height >= 150:   # room for a legend of the threshold lines, top right
        x = right - 4
        for tier, v in reversed(list(thresholds.items())):
            if v is None:
                continue
            text = f"{TIER_WORDS.get(tier, tier)}要求 {v:g}%"
            parts.append(f'<text x="{_n(x)}" y="{_n(top + 13)}" font-size="11" '
                         f'fill="{TIER_COLOURS.get(tier, "#555")}" text-anchor="end">'
                         f'{escape(text)}</text>')
            x -= _text_width(text, 11) + 14
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True, slots=True)
class Span:
    """A device in `state` from `start` to `end` (`reason` says why, as reported)."""

    start: datetime
    end: datetime
    state: str
    reason: str = ""


def state_timeline(spans: Sequence[Span], start: datetime, end: datetime, zone: tzinfo, *,
                   width: int = 900, height: int = 70) -> Markup:
    """The states of one device over [start, end] as one bar; where no state is known the
    bar is left pale ("none")."""
    left, right, top, bar = 10.0, width - 10.0, 6.0, 26.0
    frame = Frame(start, end, left, right)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'class="timeline" role="img" {_FONT}><title>状态时间线</title>',
             f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(right - left)}" '
             f'height="{_n(bar)}" fill="{STATE_COLOURS["none"]}"/>']
    for s in spans:
        x0, x1 = frame.x(max(s.start, start)), frame.x(min(s.end, end))
        if x1 <= x0:
            continue
        label = (f'{DEVICE_STATES.get(s.state, s.state)} '
                 f'{s.start.astimezone(zone):%m-%d %H:%M} – {s.end.astimezone(zone):%m-%d %H:%M}'
                 f'{"：" + s.reason if s.reason else ""}')
        parts.append(f'<rect x="{_n(x0)}" y="{_n(top)}" width="{_n(max(x1 - x0, 0.6))}" '
                     f'height="{_n(bar)}" fill="{STATE_COLOURS.get(s.state, "#555")}" '
                     f'data-state="{escape(s.state)}"><title>{escape(label)}</title></rect>')
    parts += _day_ticks(frame, zone, top, top + bar)
    legend_y = top + bar + 30
    x = left
    for state in ("online", "degraded", "offline", "unknown", "none"):
        word = DEVICE_STATES.get(state, "无记录")
        parts.append(f'<rect x="{_n(x)}" y="{_n(legend_y - 9)}" width="10" height="10" '
                     f'fill="{STATE_COLOURS[state]}" stroke="#bbb" stroke-width="0.5"/>'
                     f'<text x="{_n(x + 14)}" y="{_n(legend_y)}" font-size="11" '
                     f'fill="#333">{word}</text>')
        x += 80
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True, slots=True)
class MapMark:
    """A point on the map: a camera (`kind` camera) or a key position (`kind` position)."""

    lon: float
    lat: float
    kind: str
    state: str
    label: str
    href: str | None = None
    tag: str = ""        # drawn beside the mark (a key position's number)


#: Metres per degree of latitude (WGS-84 mean); a degree of longitude is this × cos(lat).
_M_PER_DEG: Final = 111_320.0


def circle_ring(center: tuple[float, float], radius_m: float,
                steps: int = 72) -> list[tuple[float, float]]:
    """A circular boundary as a ring of (lon, lat) points."""
    lon0, lat0 = center
    dlat = radius_m / _M_PER_DEG
    dlon = radius_m / (_M_PER_DEG * math.cos(math.radians(lat0)))
    return [(lon0 + dlon * math.cos(2 * math.pi * k / steps),
             lat0 + dlat * math.sin(2 * math.pi * k / steps)) for k in range(steps)]


@dataclass(frozen=True, slots=True)
class Projection:
    """lon/lat -> x/y in a `width` × `height` drawing, north up, metres kept square."""

    lon0: float
    lat0: float
    scale: float     # drawing units per metre
    width: float
    height: float

    @classmethod
    def fitting(cls, points: Sequence[tuple[float, float]], width: float, height: float,
                margin: float = 30.0) -> Projection:
        lons = [p[0] for p in points] or [0.0]
        lats = [p[1] for p in points] or [0.0]
        lon0, lat0 = (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2
        kx = _M_PER_DEG * math.cos(math.radians(lat0))
        span_x = max((max(lons) - min(lons)) * kx, 1.0)
        span_y = max((max(lats) - min(lats)) * _M_PER_DEG, 1.0)
        scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
        return cls(lon0, lat0, scale, width, height)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        kx = _M_PER_DEG * math.cos(math.radians(self.lat0))
        return (self.width / 2 + (lon - self.lon0) * kx * self.scale,
                self.height / 2 - (lat - self.lat0) * _M_PER_DEG * self.scale)


def site_map(boundary: Sequence[tuple[float, float]], marks: Sequence[MapMark], *,
             title: str, fit: Sequence[tuple[float, float]] | None = None,
             width: int = 900, height: int = 600) -> Markup:
    """The boundary ring and the marks, fitted to the drawing (or to the points `fit`:
    what lies outside is cut off); a scale bar."""
    points = list(fit) if fit else [*boundary, *((m.lon, m.lat) for m in marks)]
    proj = Projection.fitting(points, width, height - 40)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'class="map" role="img" {_FONT}><title>{escape(title)}</title>',
             f'<rect width="{width}" height="{height}" fill="#f7f9f7"/>']
    if boundary:
        ring = " ".join(f"{_n(x)},{_n(y)}" for x, y in (proj.xy(*p) for p in boundary))
        parts.append(f'<polygon points="{ring}" fill="#e8f0e8" stroke="#4e7d4e" '
                     'stroke-width="2" stroke-dasharray="6 4"><title>社区边界</title></polygon>')
    for m in sorted(marks, key=lambda m: m.kind == "position"):   # positions on top
        x, y = proj.xy(m.lon, m.lat)
        fill = STATE_COLOURS.get(m.state, "#555")
        label = str(escape(m.label))
        if m.kind == "position":
            shape = (f'<rect x="{_n(x - 8)}" y="{_n(y - 8)}" width="16" height="16" '
                     f'fill="#fff" fill-opacity="0.85" stroke="{fill}" stroke-width="2.5" '
                     f'transform="rotate(45 {_n(x)} {_n(y)})"/>'
                     f'<text x="{_n(x)}" y="{_n(y + 4)}" font-size="11" font-weight="700" '
                     f'fill="#222" text-anchor="middle">{escape(m.tag)}</text>')
        else:
            shape = (f'<circle cx="{_n(x)}" cy="{_n(y)}" r="5.5" fill="{fill}" '
                     'stroke="#fff" stroke-width="1.2"/>')
        state = str(escape(DEVICE_STATES.get(m.state, m.state)))
        mark = (f'<g class="mark {escape(m.kind)}" data-state="{escape(m.state)}">'
                f'<title>{label}（{state}）</title>{shape}</g>')
        parts.append(f'<a href="{escape(m.href)}">{mark}</a>' if m.href else mark)
    # Scale bar: the longest round length up to a fifth of the drawing.
    metres = next((m for m in (1000, 500, 200, 100, 50, 20, 10) if m * proj.scale <= width / 5),
                  10)
    bar = metres * proj.scale
    base = height - 16
    parts.append(f'<line x1="20" y1="{base}" x2="{_n(20 + bar)}" y2="{base}" stroke="#333" '
                 f'stroke-width="2"/><text x="{_n(24 + bar)}" y="{base + 4}" font-size="11" '
                 f'fill="#333">{metres} 米</text>')
    x = width - 430.0
    for state in ("online", "degraded", "offline", "unknown"):
        parts.append(f'<circle cx="{_n(x)}" cy="{base}" r="5" fill="{STATE_COLOURS[state]}"/>'
                     f'<text x="{_n(x + 9)}" y="{base + 4}" font-size="11" fill="#333">'
                     f'{DEVICE_STATES[state]}</text>')
        x += 72
    parts.append(f'<rect x="{_n(x - 5)}" y="{base - 5}" width="10" height="10" fill="none" '
                 f'stroke="#333" stroke-width="2" transform="rotate(45 {_n(x)} {base})"/>'
                 f'<text x="{_n(x + 10)}" y="{base + 4}" font-size="11" fill="#333">重点点位'
                 '</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
