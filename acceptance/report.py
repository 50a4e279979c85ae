"""The acceptance report of one community against one tier's table: every row with its
requirement, completion text, figures (each saying whether it was measured, registered or
declared) and verdict; the tier's overall verdict; and the rows that could change if the
devices whose state is unknown were online.

Measured rows are written from the indicators only: a declaration for a measured row is
never used (the declared store refuses it at entry; one found anyway is ignored and
reported under `ignored_declaration`). A report as of a time before the community's
first device data judges no measured row (未判定) and no overall verdict. System rows
(信息安全) are judged from scg's own state as checked when the report is made
(`acceptance.security_facts`), whatever its `as_of`; declarations of them are ignored
the same way.

A report as of now is written from the community's indicator snapshot when one may be
served (`indicators.snapshots`): its `as_of` is the snapshot's. A past `as_of` reads the
indicator history, else recomputes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

from acceptance.catalogue import Catalogue, Row, load_catalogue
from acceptance.clauses import TextContext
from acceptance.county import CountySettings, county_settings_from_env
from acceptance.declared_texts import DeclarationLike, declared_text
from acceptance.judge import MeasureOutcome, judge, result_from_dict
from acceptance.names import Names, load_names, local_time
from acceptance.report_facts import (
    INDICATOR_KINDS,
    UnknownCauses,
    first_data,
    monitored,
    unknown_causes,
)
from acceptance.report_row import RowReport, entry_dict, iso
from acceptance.security_facts import SecurityFacts, security_facts
from acceptance.security_texts import security_text
from acceptance.texts import measured_text, not_judged_text, row_verdict
from indicators.load import compute_indicators
from indicators.model import IndicatorResult
from indicators.snapshots import served_snapshot
from ingest.schema.chain_audit import ChainState, heads

Connection = Any  # asyncpg.Connection; asyncpg ships no type information

OVERALL_WORDS: Final = {"pass": "达标", "fail": "未达标",
                        "incomplete": "未完成（有无数据或未判定的行）",
                        "not_judged": "未判定（该时刻社区尚无设备数据）"}
VERDICTS: Final = ("pass", "fail", "no_data", "not_judged")
#: Why a declaration found for a row that is not declared is not used (in the report's
#: language: the JSON is the same report).
IGNORED: Final = {
    "measured": "本行由设备上报数据计算，申报值不能替代实测",
    "system": "本行由平台核验自身数据库判定（个人信息加密存储、账号角色、审计链与数据库权限），"
              "申报值不能替代"}


class ReportError(LookupError):
    """The report cannot be made (unknown community); the message says what exists."""


@dataclass(frozen=True, slots=True)
class AcceptanceReport:
    community: str
    community_name: str
    catalogue: Catalogue
    as_of: datetime
    live: bool
    generated_at: datetime
    rows: tuple[RowReport, ...]
    indicator_sources: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: False when `as_of` is before the community's first device data: nothing measured.
    judged: bool = True
    first_data: datetime | None = None
    county: str | None = None
    #: Why devices are unknown, community-wide, for the banner.
    unknown_words: str = "状态未知"
    #: What the rows' items are called (the banner lists unknown items by name).
    names: Names = field(default_factory=Names)
    #: The records' hash-chain heads when the report was made (审计链): what the report's
    #: declared values and the operation log were, for `scg audit verify` to hold later.
    audit: tuple[ChainState, ...] = ()

    @property
    def tier(self) -> str:
        return self.catalogue.tier

    @property
    def counts(self) -> dict[str, int]:
        return {v: sum(1 for r in self.rows if r.verdict == v) for v in VERDICTS}

    @property
    def verdict(self) -> str:
        if not self.judged:
            return "not_judged"
        return _overall([r.verdict for r in self.rows])

    @property
    def verdict_if_online(self) -> str:
        if not self.judged:
            return "not_judged"
        return _overall([r.verdict_if_online or r.verdict for r in self.rows])

    @property
    def changes_if_online(self) -> tuple[RowReport, ...]:
        return tuple(r for r in self.rows if r.changes_if_online)

    @property
    def score(self) -> float | None:
        """DB37/T 3890.3: the weights of the rows that pass (out of 100)."""
        if self.catalogue.scoring != "weighted":
            return None
        return round(sum(r.row.weight or 0 for r in self.rows if r.verdict == "pass"), 2)

    def to_dict(self) -> dict[str, Any]:
        cat = self.catalogue
        return {
            "community": {"id": self.community, "name": self.community_name},
            "tier": cat.tier, "title": cat.title, "source": cat.source,
            "provisional": cat.provisional, "scoring": cat.scoring,
            **({"catalogue_note": cat.note} if cat.note else {}),
            "as_of": iso(self.as_of), "live": self.live,
            "generated_at": iso(self.generated_at), "judged": self.judged,
            "first_data": iso(self.first_data) if self.first_data else None,
            **({"county": self.county} if self.county else {}),
            "verdict": self.verdict, "verdict_word": OVERALL_WORDS[self.verdict],
            "counts": self.counts,
            **({"score": self.score, "score_max": 100} if self.score is not None else {}),
            "if_unknown_online": {
                "verdict": self.verdict_if_online,
                "rows": [{"id": r.row.id, "name": r.row.name, "verdict": r.verdict,
                          "verdict_if_online": r.verdict_if_online,
                          "unknown": {k: list(v) for k, v in r.unknown.items()}}
                         for r in self.changes_if_online],
                **({"why": self.unknown_words} if self.changes_if_online else {})},
            "indicator_sources": dict(self.indicator_sources),
            "notes": list(self.notes),
            "audit_chains": [{"chain": s.chain, "rows": s.rows, "head": s.head}
                             for s in self.audit],
            "rows": [r.to_dict() for r in self.rows],
        }


def _overall(verdicts: Sequence[str]) -> str:
    if all(v == "pass" for v in verdicts):
        return "pass"
    return "fail" if "fail" in verdicts else "incomplete"


def measured_row(row: Row, results: Mapping[str, IndicatorResult],
                 sources: Mapping[str, str], ctx: TextContext | None = None) -> RowReport:
    ctx = ctx or TextContext()
    outcomes = tuple(judge(m, results.get(m.indicator), sources.get(m.indicator, "missing"))
                     for m in row.measures)
    verdict, text, figures = measured_text(row, outcomes, results, ctx)
    hoped = row_verdict([_hoped(o) for o in outcomes])
    unknown = [o.indicator for o in outcomes if o.unknown]
    words = "；".join(dict.fromkeys(ctx.unknown(i) for i in unknown))
    return RowReport(row, verdict, text, figures, outcomes,
                     verdict_if_online=hoped if unknown else None, unknown_words=words)


def _hoped(o: MeasureOutcome) -> MeasureOutcome:
    return replace(o, status=o.status_if_online)


def declared_row(row: Row, entry: DeclarationLike | None,
                 register: Mapping[str, int | None],
                 county: CountySettings | None = None) -> RowReport:
    out = declared_text(row, entry, register, county)
    return RowReport(row, out.verdict, out.text, out.figures,
                     entry=entry_dict(entry) if entry is not None else None,
                     problems=out.problems, notes=out.notes)


def system_row(row: Row, facts: SecurityFacts | None, as_of: datetime | None = None
               ) -> RowReport:
    """A row judged from scg's own state (`as_of`: a past report's time, which the
    text says the facts are not of)."""
    verdict, text, figures, checks = security_text(row.checks, facts, as_of=as_of)
    return RowReport(row, verdict, text, figures, checks=checks,
                     facts=facts.to_dict() if facts is not None else None)


def unjudged_row(row: Row, as_of: datetime) -> RowReport:
    """A measured row before the community's first data: no figure, no verdict."""
    return RowReport(row, "not_judged", not_judged_text(
        f"截至{local_time(as_of)}（北京时间）社区尚无设备数据，不作判定"))


def assemble(catalogue: Catalogue, results: Sequence[IndicatorResult],
             declarations: Mapping[str, DeclarationLike], register: Mapping[str, int | None],
             *, community: str, community_name: str, as_of: datetime, live: bool,
             generated_at: datetime, sources: Mapping[str, str] | None = None,
             notes: Sequence[str] = (), ctx: TextContext | None = None,
             county: CountySettings | None = None, judged: bool = True,
             first: datetime | None = None, unknown_words: str = "状态未知",
             security: SecurityFacts | None = None) -> AcceptanceReport:
    """The report from computed results and entries (pure: no database). `judged` False
    (a time before the first data) leaves every measured row 未判定. `security`: the
    facts system rows are judged from (None: they have no data)."""
    by_id = {r.id: r for r in results}
    src = dict(sources) if sources is not None else dict.fromkeys(by_id, "computed")
    context = ctx or TextContext(not_applicable=county.not_applicable if county else {})
    rows: list[RowReport] = []
    for row in catalogue.rows:
        if row.kind != "declared":
            if row.kind == "system":
                report = system_row(row, security, None if live else as_of)
            else:
                report = measured_row(row, by_id, src, context) if judged else \
                    unjudged_row(row, as_of)
            entry = declarations.get(row.id)
            if entry is not None:
                report = replace(report, ignored_declaration={
                    **entry_dict(entry), "why": IGNORED[row.kind]})
            rows.append(report)
        else:
            rows.append(declared_row(row, declarations.get(row.id), register, county))
    return AcceptanceReport(community, community_name, catalogue, as_of, live, generated_at,
                            tuple(rows), src, tuple(notes), judged, first,
                            county.county if county else None, unknown_words, context.names)


async def build_report(conn: Connection, community: str, tier: str, *,
                       as_of: datetime | None = None, now: datetime | None = None,
                       declarations: Mapping[str, DeclarationLike] | None = None,
                       county: CountySettings | None = None,
                       results: Sequence[IndicatorResult] | None = None,
                       causes: UnknownCauses | None = None,
                       security: SecurityFacts | None = None) -> AcceptanceReport:
    """The report of `community` against `tier` ("basic" | "growth" | "benchmark" |
    "db37"), live (as of `now`) or as of a past time.

    Live: the indicator snapshot when one may be served (the report is then as of the
    snapshot's time, and why devices are unknown is the snapshot's too), else computed
    now; `results` and `causes` give them instead (the evaluator, which has just
    computed them). Past: the indicator history's recordings
    (`indicators_as_of`), else recomputed from the stored telemetry; declarations as
    entered by then. `declarations` replaces the declared store (tests). `county`: the
    county's settings, by default those named by SCG_COUNTY_SETTINGS. `security`: the
    facts the system rows are judged from, else read now (`security_facts`).
    """
    catalogue = load_catalogue(tier)
    county = county if county is not None else county_settings_from_env()
    com = await conn.fetchrow(
        "SELECT id, name, households, lone_elderly FROM communities WHERE id = $1", community)
    if com is None:
        known = [r["id"] for r in await conn.fetch("SELECT id FROM communities ORDER BY id")]
        raise ReportError(f"community {community!r} is not in the inventory (known: "
                          f"{', '.join(known) or 'none imported yet'}); import it with "
                          "`scg inventory import FILE`")
    generated = now or datetime.now(UTC)
    at = as_of or generated
    given: list[IndicatorResult] | None = None
    sources: dict[str, str] = {}
    if results is not None:
        given = list(results)
        sources = dict.fromkeys((r.id for r in given), "computed")
    elif as_of is None:
        snapshot = await snapshot_results(conn, community, generated)
        if snapshot is not None:
            at, given, causes = snapshot
            sources = dict.fromkeys((r.id for r in given), "snapshot")
    notes: list[str] = []
    first = await first_data(conn, community)
    judged = (at >= first) if first is not None else not await monitored(conn, community)
    found: list[IndicatorResult] = []
    causes = causes if causes is not None else UnknownCauses()
    if judged:
        if given is not None:
            found = given
        else:
            found, sources = await _indicators(conn, community, at, past=as_of is not None)
        if not causes.known:
            causes = await unknown_causes(conn, community, at)
    else:
        notes.append(f"截至{local_time(at)}（北京时间）社区尚无设备数据" + (
            f"（首条数据时间{local_time(first)}）" if first is not None else "")
            + "，设备实测项不作判定")
    if declarations is None:
        declarations, missing = await _declarations(conn, community, tier, as_of)
        if missing:
            notes.append(missing)
    compounds = await conn.fetchval("SELECT count(*) FROM compounds WHERE community = $1",
                                    community)
    register = {"households": com["households"], "lone_elderly": com["lone_elderly"],
                "compounds": int(compounds) if compounds else None}
    if catalogue.provisional and catalogue.note:
        notes.append(catalogue.note)
    ctx = TextContext(names=await load_names(conn, community),
                      unknown_words=causes.for_indicators(),
                      not_applicable=county.not_applicable if county else {})
    kinds = {k for r in catalogue.rows for m in r.measures
             for k in INDICATOR_KINDS.get(m.indicator, ())}
    if security is None and any(r.kind == "system" for r in catalogue.rows):
        security = await security_facts(conn, community, generated)
    report = assemble(catalogue, found, declarations, register, community=community,
                      community_name=com["name"] or community, as_of=at, live=as_of is None,
                      generated_at=generated, sources=sources, notes=notes, ctx=ctx,
                      county=county, judged=judged, first=first,
                      unknown_words=causes.words(kinds), security=security)
    return replace(report, audit=tuple(await heads(conn)))


async def snapshot_results(conn: Connection, community: str, now: datetime
                           ) -> tuple[datetime, list[IndicatorResult], UnknownCauses] | None:
    """The snapshot's time, results and causes of unknown devices, when the community's
    snapshot may be served."""
    served = await served_snapshot(conn, community, now)
    if served is None:
        return None
    causes = UnknownCauses.from_dict(json.loads(served.overview).get("unknown_causes"))
    return (served.as_of, [result_from_dict(d) for d in json.loads(served.indicators)],
            causes)


async def _indicators(conn: Connection, community: str, at: datetime, *, past: bool
                      ) -> tuple[list[IndicatorResult], dict[str, str]]:
    if past:
        try:
            from acceptance.history import indicators_as_of
        except ImportError:  # the history store is optional for the report
            pass
        else:
            found = await indicators_as_of(conn, community, at)
            results = [r if isinstance(r, IndicatorResult) else result_from_dict(r)
                       for r in found]
            sources = {r.id: str(d.get("source", "computed")) if isinstance(d, dict)
                       else "computed" for r, d in zip(results, found, strict=True)}
            return results, sources
    results = await compute_indicators(conn, community, at)
    return results, dict.fromkeys((r.id for r in results), "computed")


async def _declarations(conn: Connection, community: str, tier: str, as_of: datetime | None
                        ) -> tuple[Mapping[str, DeclarationLike], str | None]:
    try:
        from acceptance.declared import latest_declarations
    except ImportError:
        return {}, "申报值存储未安装，申报项无数据"
    found: Mapping[str, DeclarationLike] = await latest_declarations(
        conn, community, tier, as_of=as_of)
    return found, None
