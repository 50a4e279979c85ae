"""The register of the ingest tests (tests/ingest/conftest.py imports it into `migrated`)."""

from __future__ import annotations

from ingest_support import INVENTORY

#: The sample inventory and the devices these tests report besides: light-000 and
#: light-003 … light-009 on demo-gw1, and odd-panel (a fire panel on demo-gw1).
REGISTER = INVENTORY + """\
  - {id: light-000, kind: light, gateway: demo-gw1, protocol: mqtt}
  - id: "light-{n:03d}"
    repeat: 7
    start: 3
    kind: light
    gateway: demo-gw1
    protocol: mqtt
  - {id: odd-panel, kind: fire_panel, gateway: demo-gw1, protocol: modbus}
"""
