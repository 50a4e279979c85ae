"""The FastAPI application: a connection pool for its lifetime and one router per resource."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import asyncpg
from fastapi import FastAPI

from acceptance.county import CountySettings, county_settings_from_env
from acceptance.evaluator import Evaluator, EvaluatorSettings
from acceptance.evidence import EvidenceStore, evidence_dir_from_env, max_bytes_from_env
from acceptance.history import HistoryRecorder
from web import console, errors
from web.alarms.hub import AlarmHub
from web.auth import deps as auth
from web.auth.settings import AuthSettings
from web.headers import SecurityHeaders
from web.limits import BodyLimit
from web.metrics import ApiMetrics, RequestTimer
from web.metrics import router as metrics_router
from web.personal import personal_data
from web.routes import (
    acceptance,
    alarms,
    cameras,
    communities,
    declared,
    declared_page,
    devices,
    docs,
    health,
    history,
    indicators,
    overview,
    residents,
)
from web.routes import (
    auth as auth_routes,
)

log = logging.getLogger(__name__)


def create_app(database_url: str, *, evidence_dir: Path | None = None,
               history_interval: timedelta | None = None,
               evaluator: EvaluatorSettings | None = None,
               data_key_file: Path | None = None) -> FastAPI:
    """The API over the database at `database_url` (migrated; see `scg db migrate`).

    `evidence_dir`: where declared values' evidence files are stored (default
    SCG_EVIDENCE_DIR, else .scg-state/evidence). `history_interval`: record every
    community's indicators this often in the background (`scg api` passes 1 h by default);
    None records nothing. `evaluator`: keep every community's indicator snapshot up to
    date in the background (`scg api` does unless told `--evaluator off`); None leaves it
    to `scg evaluator run`, or to nobody (then every request computes). Token and session
    lifetimes come from the environment (`web.auth.settings`), county settings from
    SCG_COUNTY_SETTINGS, read once here: a bad value raises ValueError naming it.
    `data_key_file`: the key file that opens residents' data (default SCG_DATA_KEY_FILE;
    none: residents' data is not shown), checked here too.
    """
    store = EvidenceStore(evidence_dir or evidence_dir_from_env(), max_bytes_from_env())
    auth_settings = AuthSettings.from_env()
    personal = personal_data(data_key_file)
    county = county_settings_from_env() or CountySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # min_size=0: the API starts (and /healthz says why) even while the database is down.
        app.state.pool = await asyncpg.create_pool(database_url, min_size=0, max_size=10,
                                                   timeout=10)
        app.state.database_url = database_url
        # The alarm stream's listener connects on the first subscriber, not here, so the
        # API starts while the database is down.
        app.state.alarm_hub = AlarmHub(database_url, app.state.pool)
        app.state.evidence_store = store
        app.state.auth_settings = auth_settings
        recorder = task = None
        if history_interval is not None:
            recorder = HistoryRecorder(app.state.pool, history_interval)
            task = asyncio.create_task(recorder.run(), name="indicator-history")
        app.state.history_recorder = recorder
        snapshots = snapshot_task = None
        if evaluator is not None:
            snapshots = Evaluator(app.state.pool, evaluator, county=county)
            snapshot_task = asyncio.create_task(snapshots.run(), name="indicator-evaluator")
        app.state.evaluator = snapshots
        try:
            yield
        finally:
            if snapshots is not None and snapshot_task is not None:
                snapshots.stop()
                try:
                    await asyncio.wait_for(snapshot_task, timeout=10)
                except TimeoutError:
                    log.warning("indicator evaluator: the computation in progress was "
                                "cancelled at shutdown")
            if recorder is not None and task is not None:
                recorder.stop()
                try:  # a pass in progress finishes unless it takes too long
                    await asyncio.wait_for(task, timeout=10)
                except TimeoutError:
                    log.warning("indicator history: the recording in progress was cancelled "
                                "at shutdown")
            await app.state.alarm_hub.close()
            await app.state.pool.close()

    app = FastAPI(
        title="scg",
        summary="Smart-community acceptance indicators measured from the devices themselves.",
        version="0.1.0",
        lifespan=lifespan,
        # Served by web.routes.docs instead: behind sign-in, with local assets.
        docs_url=None, redoc_url=None, openapi_url=None,
    )
    app.state.auth_settings = auth_settings
    app.state.county_settings = county
    app.state.personal = personal
    app.state.metrics = ApiMetrics()
    errors.install(app, database_url)
    auth.install(app)
    # Outermost last: headers go on every answer, the 413 of an oversized body included.
    app.add_middleware(BodyLimit, evidence_max_bytes=store.max_bytes)
    app.add_middleware(SecurityHeaders)
    # Outermost of all: a request is timed whatever answers it (a 413 included).
    app.add_middleware(RequestTimer, metrics=app.state.metrics)
    app.include_router(health.router)
    app.include_router(metrics_router)
    app.include_router(auth_routes.router)
    app.include_router(docs.router)
    app.include_router(communities.router)
    app.include_router(indicators.router)
    app.include_router(devices.router)
    app.include_router(cameras.router)
    app.include_router(alarms.router)
    app.include_router(declared.router)
    app.include_router(declared_page.router)
    app.include_router(history.router)
    app.include_router(residents.router)
    app.include_router(acceptance.router)
    app.include_router(overview.router)
    console.install(app)
    return app
