"""The API against its own OpenAPI document: Schemathesis generates requests for every
operation (the pages and multipart forms included) and sends them to the real application,
in process over ASGI, on a migrated database holding two communities with telemetry,
alarms and a declared value with its evidence, signed in as an admin of the whole county.
Each answer must be a documented status with a documented content type and a body matching
its documented schema, and never a server error.

One operation is left out: GET /api/communities/{id}/alarms/stream, the server-sent-event
stream, never ends on its own, so a generated request would wait for it until the case
times out; its statuses and events are tested in test_web_alarms_stream.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import schemathesis
from auth_support import user_headers
from declared_support import PDF, T1
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from ingest_support import INVENTORY, T0, envelope, event, msg, reading, state, status_msg
from personal_support import import_residents, make_key_file
from safety_support import AS_OF as SAFE_AS_OF
from safety_support import ev, load_community, press
from safety_support import write as write_safe
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from acceptance.declared import enter_declaration
from acceptance.evidence import EvidenceStore
from ingest.schema.migrate import migrate
from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from inventory.keyfile import load_key_file
from scg.localsvc import PostgresCluster
from telemetry import DeviceState
from web import create_app
from web.auth.passwords import hash_password
from web.auth.users import add_user

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
#: Generated cases per operation in the fuzzing phase (the examples and coverage phases add
#: their own): with 20 operations the whole run stays within about half a minute here.
MAX_EXAMPLES = 50
STREAM = r"/alarms/stream$"
PDF_SHA = hashlib.sha256(PDF).hexdigest()
CLERK_PASSWORD = "a long enough password"

#: Ids that exist in the seeded database, by path parameter: generated path parameters are
#: swapped for one of these in part of the cases, so that requests reach real data and not
#: only the 404 of an unknown id. Filled by `seeded_app` (alarm ids come from the database).
KNOWN: dict[str, list[Any]] = {
    "community_id": ["demo", "safe"],
    "row_id": ["growth-01", "growth-05", "basic-01"],   # declared, measured, declared
    "sha256": [PDF_SHA],
    "device_id": ["light-001", "cam-01", "sos-1"],
    "gateway_id": ["demo-gw1"],
    "indicator_id": ["smart_lighting_rate", "elderly_sos_response_rate"],
}
#: Cases sent per operation, for the summary and the check that none was left out.
SENT: Counter[str] = Counter()
#: The admin's bearer header, made by `seeded_app`.
HEADERS: dict[str, str] = {}


async def seed(dsn: str, evidence: Path, keys: Path) -> list[int]:
    """Migrate and fill the database; return the alarm ids."""
    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        # `demo`: lights online, offline and behind a gateway, a lamp fault alarm, and a
        # declared value with a PDF as evidence.
        await import_inventory(conn, parse_inventory(INVENTORY, "sample.yaml"))
        gw1 = [state("light-001", DeviceState.ONLINE), reading("light-001"),
               state("light-002", DeviceState.OFFLINE, reason="no status for 3 periods"),
               event("light-001", T0 + timedelta(minutes=5))]
        await write_batch(conn, [msg(envelope(1, gw1)), status_msg(True)])
        stored = EvidenceStore(evidence).put(io.BytesIO(PDF), "光纤覆盖证明.pdf",
                                             "application/pdf")
        await add_user(conn, "文员", "viewer", None, hash_password(CLERK_PASSWORD),
                       actor="test", at=T1)
        await enter_declaration(conn, "demo", "growth-01",
                                {"fibre_households": 3790, "total_households": 3790},
                                text="运营商出具的覆盖证明", by="王芳", at=T1, files=[stored])
        # `safe`: safety devices in every state, an SOS press and an intrusion, and the
        # SOS buttons' residents (sealed).
        await load_community(conn)
        await import_residents(conn, load_key_file(keys))
        t = SAFE_AS_OF - timedelta(hours=1)
        await write_safe(conn, press("sos-1", t),
                         ev("per-n", "perimeter_intrusion", t, active=True))
        return [r["id"] for r in await conn.fetch("SELECT id FROM alarms ORDER BY id")]
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def seeded_app(pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory,
               request: pytest.FixtureRequest) -> Iterator[Any]:
    """The application over the seeded database (seeded once for every operation)."""
    dsn = pg_cluster.create_database("t_web_openapi")
    evidence = tmp_path_factory.mktemp("evidence")
    keys, _ = make_key_file(tmp_path_factory.mktemp("keys"))
    KNOWN["alarm_id"] = asyncio.run(seed(dsn, evidence, keys))
    assert KNOWN["alarm_id"], "the seed wrote no alarms"
    HEADERS.update(asyncio.run(user_headers(dsn, "schemathesis", "admin")))
    started = time.monotonic()
    yield create_app(dsn, evidence_dir=evidence, data_key_file=keys)
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin(
        "capturemanager")
    if reporter is not None and capture is not None and SENT:
        with capture.global_and_fixture_disabled():  # shown with -q too, not as captured
            reporter.write("\n")
            reporter.write_line(
                f"schemathesis: {len(SENT)} operations, {sum(SENT.values())} cases, "
                f"{time.monotonic() - started:.1f} s")


@pytest.fixture(scope="module")
def api_headers(seeded_app: Any) -> dict[str, str]:
    """Headers every generated request carries: an admin's bearer token (every route but
    /healthz and the sign-in ones refuses anonymous requests)."""
    return dict(HEADERS)


# The document is the one the app serves at /openapi.json (it does not depend on the
# database, so a placeholder address builds it at import time).
schema = schemathesis.openapi.from_dict(
    create_app("postgresql://openapi-document-only/").openapi()).exclude(path_regex=STREAM)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Each path parameter: the generated value or one of the known ids."""
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries({
        name: st.sampled_from([value, *KNOWN.get(name, [])])
        for name, value in path_parameters.items()})


# Derandomized: every run sends the same cases. No deadline and no too_slow health check:
# how long a case takes depends on the load of the machine, not on the API's correctness.
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
def test_every_operation_answers_as_its_openapi_document_says(
        case: schemathesis.Case, seeded_app: Any, api_headers: dict[str, str]) -> None:
    SENT[case.operation.label] += 1
    case.call_and_validate(app=seeded_app, headers=api_headers, checks=CHECKS)


def test_the_success_paths_random_data_cannot_reach_also_conform(
        seeded_app: Any, api_headers: dict[str, str]) -> None:
    """A valid entry for a declared row (its values depend on the row), by the API (201)
    and by the page's form (303), a download of the stored evidence, and a bearer token
    for a user's right password."""
    form = {"fibre_households": "3700", "total_households": "3790",
            "evidence_sha256": PDF_SHA}
    entered = schema["/api/communities/{community_id}/declared/{row_id}"]["POST"].Case(
        path_parameters={"community_id": "demo", "row_id": "growth-01"}, body=form,
        media_type="multipart/form-data")
    r = entered.call_and_validate(app=seeded_app, headers=api_headers, checks=CHECKS)
    assert (r.status_code, r.json()["values"]) == (
        201, {"fibre_households": 3700, "total_households": 3790})
    posted = schema["/communities/{community_id}/declared/{row_id}"]["POST"].Case(
        path_parameters={"community_id": "demo", "row_id": "growth-01"}, body=form,
        media_type="multipart/form-data")
    r = posted.call_and_validate(app=seeded_app, headers=api_headers, checks=CHECKS)
    assert (r.status_code, r.headers["location"]) == (
        303, ["/communities/demo/declared.html?tier=growth&saved=growth-01#growth-01"])
    download = schema["/api/evidence/{sha256}"]["GET"].Case(
        path_parameters={"sha256": PDF_SHA})
    r = download.call_and_validate(app=seeded_app, headers=api_headers, checks=CHECKS)
    assert (r.status_code, r.content) == (200, PDF)
    token = schema["/api/auth/token"]["POST"].Case(
        body={"username": "文员", "password": CLERK_PASSWORD},
        media_type="application/x-www-form-urlencoded")
    r = token.call_and_validate(app=seeded_app, checks=CHECKS)
    assert (r.status_code, r.json()["token_type"], r.json()["expires_in"]) == (
        200, "bearer", 3600)


def test_schemathesis_sent_cases_to_every_operation_but_the_stream() -> None:
    """Guards against a run that silently tests less than the whole document."""
    if not SENT:
        pytest.skip("the generated cases did not run (deselected); run the whole module")
    documented = {f"{method.upper()} {path}"
                  for path, methods in create_app("postgresql://unused/").openapi()[
                      "paths"].items()
                  for method in methods}
    assert set(SENT) == {op for op in documented if not op.endswith("/alarms/stream")}
    assert len(SENT) == 43   # the API's operations and the console's pages
