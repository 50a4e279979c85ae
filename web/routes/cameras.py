"""GET /api/communities/{id}/cameras/records: each camera's record (一机一档) and the result
of every record-compliance check, with the reason for each failure."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from indicators.video_load import load_camera_records
from inventory.records import RECORD_CHECKS
from web.auth import require
from web.deps import CommunityDep, ConnDep
from web.errors import INVALID, NO_COMMUNITY, error_responses
from web.models import CameraRecordOut

router = APIRouter(prefix="/api/communities", tags=["cameras"])

_FIELDS = ("id", "name", "code", "civil_code", "longitude", "latitude", "key_position",
           "public", "compound", "origin")


@router.get("/{community_id}/cameras/records", response_model=list[CameraRecordOut],
            dependencies=[Depends(require("indicators.read"))],
            responses=error_responses({**NO_COMMUNITY, **INVALID}))
async def camera_records(community: CommunityDep, conn: ConnDep) -> list[dict[str, Any]]:
    rows, verdicts = await load_camera_records(conn, community["id"])
    by_id = {v.camera: v for v in verdicts}
    out = []
    for r in rows:
        v = by_id[r["id"]]
        out.append({
            **{k: r[k] for k in _FIELDS},
            "passed": v.passed,
            "failed_checks": list(v.failed_checks),
            "checks": {c: {"passed": not v.problems[c], "problems": list(v.problems[c])}
                       for c in RECORD_CHECKS},
            "notes": list(v.notes),
        })
    return out
