"""The alarm console of a community (`/communities/{id}/alarms`): the alarms not yet closed,
kept live by web/console/static/alarms.js from the community's alarm stream (new ones
appear without reloading), with device name, place, type in Chinese, severity, age and
the SOS 15-minute clock; forms to acknowledge or close with a note for roles allowed to;
and the history, filtered by state, type and time (URL parameters).

The forms post to POST /communities/{id}/alarms/{alarm}/acknowledge|close, which act as
the API's POST /api/alarms/{alarm}/… do (`web.alarms.actions`: the signed-in user at the
server's time, one transaction with the operation log) and go back to the console.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ingest.alarms import STATES
from web.alarms.actions import AlarmNotFound, OutOfScope, TransitionError, apply_action
from web.alarms.contacts import with_resident_contacts
from web.alarms.query import fetch_alarm, list_alarms
from web.auth import Actor, require
from web.console.common import HTML, page_answers
from web.console.event_types import EVENT_TYPES
from web.console.places import place_names
from web.console.templating import local, render
from web.console.times import field_value, local_time_query, parse_local_time
from web.console.words import KINDS
from web.deps import ClockDep, CommunityDep, ConnDep, Connection, Record
from web.errors import LOGIN_REDIRECT, error_responses
from web.params import check_choice, choice_query, text_query

router = APIRouter(tags=["pages"])

#: The SOS response the elderly indicator counts: acknowledged within 15 minutes.
SOS_TYPE: Final = "sos_pressed"
SOS_LIMIT: Final = timedelta(minutes=15)
OPEN_LIMIT: Final = 500

AlarmId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the alarm's id")]


def sos_clock(alarm: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """For an SOS alarm: its 15-minute deadline and how it stands (left, late, answered in)."""
    if alarm["type"] != SOS_TYPE:
        return None
    raised = datetime.fromisoformat(alarm["raised_at"].replace("Z", "+00:00"))
    deadline = raised + SOS_LIMIT
    out: dict[str, Any] = {"deadline": deadline.astimezone(UTC).isoformat()}
    if alarm["acknowledged_at"]:
        acked = datetime.fromisoformat(alarm["acknowledged_at"].replace("Z", "+00:00"))
        taken = int((acked - raised).total_seconds())
        out.update(answered=taken, late=acked > deadline)
    else:
        left = int((deadline - now).total_seconds())
        out.update(left=left, late=left < 0)
    return out


async def _render(request: Request, actor: Actor, conn: Connection, community: Record, *,
                  state: str | None, type_: str | None, since: datetime | None,
                  limit: int, error: str = "", done: str = "",
                  status: int = 200) -> HTMLResponse:
    cid = community["id"]
    now = datetime.now(UTC)
    live = [*await list_alarms(conn, cid, state="open", limit=OPEN_LIMIT),
            *await list_alarms(conn, cid, state="acknowledged", limit=OPEN_LIMIT)]
    live.sort(key=lambda a: (a["raised_at"], a["id"]), reverse=True)
    history = await list_alarms(conn, cid, state=state, type_=type_, since=since, limit=limit)
    await with_resident_contacts(conn, request.app.state.personal, cid, live, actor=actor,
                                 unmasked=False, at=now)
    for a in (*live, *history):
        a["sos"] = sos_clock(a, now)
    types = [r["type"] for r in await conn.fetch(
        "SELECT DISTINCT type FROM alarms WHERE community = $1 ORDER BY type", cid)]
    places = await place_names(conn, cid)
    return render(request, actor, "alarms.html", status=status, community=dict(community),
                  live=live, history=history, places=places, types=types, states=STATES,
                  filters={"state": state or "", "type": type_ or "",
                           "since": field_value(since),
                           "limit": str(limit)},
                  words=EVENT_TYPES, kinds=KINDS, error=error, done=done,
                  sos_limit=int(SOS_LIMIT.total_seconds()))


@router.get("/communities/{community_id}/alarms", response_class=Response,
            responses=page_answers())
async def alarm_console(
        actor: Annotated[Actor, Depends(require("alarms.read", page=True))],
        request: Request, community: CommunityDep, conn: ConnDep,
        state: Annotated[str | None, choice_query("history: only alarms in this state",
                                                  STATES)] = None,
        type: Annotated[str | None, text_query("history: only alarms of this event "
                                               "type")] = None,
        since: Annotated[str | None, local_time_query("history: raised at or after")]
        = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="history: at most this "
                                                               "many")] = 100,
        done: Annotated[str | None, text_query("the alarm just acted on, to say so")] = None,
) -> HTMLResponse:
    """Alarms not yet closed, live, with acknowledge and close; and the history."""
    return await _render(request, actor, conn, community,
                         state=check_choice(state, STATES,
                                            f"state {state!r} is not an alarm state"),
                         type_=type or None, since=parse_local_time(since, "since"),
                         limit=limit,
                         done=done or "")


#: The forms' answers: a page form that is refused for its state shows the console again.
_FORM_ANSWERS: Final[dict[int | str, dict[str, Any]]] = {
    **error_responses({404: "no alarm of this community has this id",
                       422: "the note is too long (at most 2000 characters)"}),
    **LOGIN_REDIRECT,
    303: {"description": "done: back to the console (or, not signed in, to /login)",
          "headers": {"Location": {"schema": {"type": "string"}}}},
    409: {"description": "the alarm is not in the state the action needs (the console "
                         "again, saying why)", "content": HTML},
}

_DONE: Final = {"acknowledge": "确认", "close": "关闭"}


def _refusal(alarm: dict[str, Any], action: str) -> str:
    """Why the action cannot be done, in Chinese, from the alarm as it is now."""
    if alarm["state"] == "closed":
        return (f"告警 {alarm['id']} 已由 {alarm['closed_by']} 于 {local(alarm['closed_at'])} "
                "关闭，无需再处理。")
    if alarm["state"] == "acknowledged" and action == "acknowledge":
        return (f"告警 {alarm['id']} 已由 {alarm['acknowledged_by']} 于 "
                f"{local(alarm['acknowledged_at'])} 确认。")
    return f"告警 {alarm['id']} 尚未确认：请先确认，再关闭。"


async def _act(action: str, request: Request, actor: Actor, conn: Connection,
               community: Record, alarm_id: int, note: str, at: datetime) -> Response:
    cid = community["id"]
    try:
        await apply_action(conn, alarm_id, action, by=actor.name, note=note.strip() or None,
                           at=at, communities=[cid])
    except (AlarmNotFound, OutOfScope):
        raise HTTPException(404, f"alarm {alarm_id} is not an alarm of community {cid!r}; "
                                 "the console lists its alarms") from None
    except TransitionError:
        alarm = await fetch_alarm(conn, alarm_id)
        assert alarm is not None
        return await _render(request, actor, conn, community, state=None, type_=None,
                             since=None, limit=100, error=_refusal(alarm, action),
                             status=409)
    return RedirectResponse(f"/communities/{cid}/alarms?done={alarm_id}#alarm-{alarm_id}",
                            status_code=303)


Note = Annotated[str, Form(max_length=2000, description="a note kept with the action")]


@router.post("/communities/{community_id}/alarms/{alarm_id}/acknowledge",
             response_class=Response, status_code=303, responses=_FORM_ANSWERS)
async def acknowledge_form(
        actor: Annotated[Actor, Depends(require("alarms.act", page=True))],
        request: Request, community: CommunityDep, conn: ConnDep, clock: ClockDep,
        alarm_id: AlarmId,
        note: Note = "", csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """The console's acknowledge button: acknowledge as the signed-in user."""
    return await _act("acknowledge", request, actor, conn, community, alarm_id, note, clock())


@router.post("/communities/{community_id}/alarms/{alarm_id}/close",
             response_class=Response, status_code=303, responses=_FORM_ANSWERS)
async def close_form(
        actor: Annotated[Actor, Depends(require("alarms.act", page=True))],
        request: Request, community: CommunityDep, conn: ConnDep, clock: ClockDep,
        alarm_id: AlarmId,
        note: Note = "", csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """The console's close button: close an acknowledged alarm as the signed-in user."""
    return await _act("close", request, actor, conn, community, alarm_id, note, clock())
