"""Alarms: list a community's alarms, acknowledge and close one, and follow new alarms and
their changes live as server-sent events.

Stream format (`text/event-stream`): first `retry: 3000` and a `: subscribed` comment, then
per change `id: <change id>`, `event: alarm`, `data: {"change_id", "change": opened |
cleared | acknowledged | closed, "at", "by", "note", "alarm": {…as in the list…}}`, and a
`: heartbeat` comment every 15 s while idle. Reconnecting with `Last-Event-ID: <id>`
replays every change of the community after that id.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from indicators.params import ParamError
from ingest.alarms import STATES
from web.alarms.actions import AlarmNotFound, OutOfScope, TransitionError, apply_action
from web.alarms.contacts import with_resident_contacts
from web.alarms.hub import AlarmHub
from web.alarms.query import list_alarms
from web.auth import Actor, require
from web.auth.deps import out_of_scope
from web.deps import ClockDep, CommunityDep, CommunityId, ConnDep, get_community
from web.errors import INVALID, NO_COMMUNITY, UNREADABLE, error_responses
from web.models import AlarmActionIn, AlarmOut
from web.params import check_choice, choice_query, parse_time, text_query, time_query
from web.personal import PERSONAL_ERRORS, UNMASKED_QUERY, check_unmask

Acting = Annotated[Actor, Depends(require("alarms.act"))]

router = APIRouter(prefix="/api", tags=["alarms"])

#: Alarm ids are PostgreSQL bigint identities: 1 up to 2^63 - 1.
AlarmId = Annotated[int, Path(ge=1, le=2**63 - 1, examples=[1],
                              description="the alarm's id, as in the community's alarm list")]
_ACTION_ERRORS: Final = error_responses({
    403: "the user's role may not act on alarms, or the alarm is in a community outside "
         "the user's scope",
    404: "no alarm has this id",
    409: "the alarm is not in the state the action needs",
    **UNREADABLE, **INVALID})


@router.get("/communities/{community_id}/alarms", response_model=list[AlarmOut],
            responses=error_responses({**NO_COMMUNITY, **INVALID, **PERSONAL_ERRORS}))
async def community_alarms(
    # First: who asks is checked before anything else (even whether the community exists).
    actor: Annotated[Actor, Depends(require("alarms.read"))],
    community: CommunityDep,
    conn: ConnDep,
    clock: ClockDep,
    request: Request,
    state: Annotated[str | None, choice_query("only alarms in this state", STATES)] = None,
    type: Annotated[str | None, text_query("only alarms of this event type, e.g. "
                                           "sos_pressed")] = None,
    since: Annotated[str | None, time_query("only alarms raised at or after this time")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many")] = 200,
    unmasked: Annotated[bool, UNMASKED_QUERY] = False,
) -> list[dict[str, Any]]:
    """Newest raised first, with the device's kind, compound and building, and for an SOS
    button its resident's contact details (masked unless `unmasked`)."""
    state = check_choice(state, STATES, f"state {state!r} is not an alarm state")
    check_unmask(actor, unmasked)
    alarms = await list_alarms(conn, community["id"], state=state, type_=type or None,
                               since=parse_time(since, "since"), limit=limit)
    await with_resident_contacts(conn, request.app.state.personal, community["id"], alarms,
                                 actor=actor, unmasked=unmasked, at=clock())
    return alarms


async def _act(action: str, alarm_id: int, body: AlarmActionIn | None, conn: ConnDep,
               clock: ClockDep, actor: Actor) -> dict[str, Any]:
    try:
        return await apply_action(conn, alarm_id, action, by=actor.name,
                                  note=(body.note if body else None) or None, at=clock(),
                                  communities=actor.communities)
    except AlarmNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except OutOfScope as exc:
        raise HTTPException(403, out_of_scope(actor, f"community {exc.community!r}, where "
                                                     f"alarm {alarm_id} was raised")) from None
    except TransitionError as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/alarms/{alarm_id}/acknowledge", response_model=AlarmOut,
             responses=_ACTION_ERRORS)
async def acknowledge_alarm(alarm_id: AlarmId, conn: ConnDep, clock: ClockDep, actor: Acting,
                            body: AlarmActionIn | None = None) -> dict[str, Any]:
    """Acknowledge an open alarm, as the signed-in user, at the server's time."""
    return await _act("acknowledge", alarm_id, body, conn, clock, actor)


@router.post("/alarms/{alarm_id}/close", response_model=AlarmOut, responses=_ACTION_ERRORS)
async def close_alarm(alarm_id: AlarmId, conn: ConnDep, clock: ClockDep, actor: Acting,
                      body: AlarmActionIn | None = None) -> dict[str, Any]:
    """Close an acknowledged alarm, as the signed-in user, at the server's time."""
    return await _act("close", alarm_id, body, conn, clock, actor)


@router.get("/communities/{community_id}/alarms/stream",
            response_class=StreamingResponse,
            dependencies=[Depends(require("alarms.read"))],
            responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                             "description": "server-sent events, see the module doc"},
                       **error_responses({**NO_COMMUNITY,
                                          422: "Last-Event-ID is not a change id"})})
async def alarm_stream(
    community_id: CommunityId,
    request: Request,
    last_event_id: Annotated[str | None, Header(
        description="resume after this change id (browsers send it on reconnect)")] = None,
) -> StreamingResponse:
    """New alarms and alarm changes of the community, as they are committed."""
    after = _resume_point(last_event_id)
    # A pooled connection only for the check: a stream would hold one for hours.
    async with request.app.state.pool.acquire() as conn:
        community = await get_community(community_id, conn)
    hub: AlarmHub = request.app.state.alarm_hub
    await hub.start()
    sub = hub.subscribe(community["id"], after)
    return StreamingResponse(sub.stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
                             background=BackgroundTask(sub.close))


def _resume_point(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        after = int(value.strip())
    except ValueError:
        raise ParamError(f"Last-Event-ID {value!r} is not a change id; send the id of the "
                         "last event received, or none to start from now") from None
    if after < 0:
        raise ParamError(f"Last-Event-ID {value!r} must not be negative")
    return after
