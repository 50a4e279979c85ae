"""A simulated member of staff for the demo: answers SOS calls through the alarms API.

It acknowledges each open `sos_pressed` alarm 20-90 s after first seeing it (the delay is
drawn from the alarm id, so a run is repeatable), which is what the elderly SOS response
rate then measures. It talks to the API exactly as a staff client would: with the API token
of an operator account (`duty-officer`), so its acknowledgements carry that user's name.
"""

from __future__ import annotations

import logging
import time

import httpx

from telemetry.repeats import ConditionLog

log = logging.getLogger(__name__)
# httpx logs every request at INFO: one line every few seconds would bury the demo's output.
logging.getLogger("httpx").setLevel(logging.WARNING)


class DutyOfficer:
    def __init__(self, api: str, community: str, *, token: str, every: float = 5.0) -> None:
        self.api, self.community, self.every = api, community, every
        self._headers = {"Authorization": f"Bearer {token}"}
        self._first_seen: dict[int, float] = {}
        self._next_round = 0.0
        # The API unreachable (restarting, or the demo stopping): one line, not one a round.
        self._api_down = ConditionLog(log)

    def round(self) -> None:
        """Look at open SOS alarms and acknowledge those whose delay has passed."""
        now = time.monotonic()
        if now < self._next_round:
            return
        self._next_round = now + self.every
        try:
            alarms = httpx.get(f"{self.api}/api/communities/{self.community}/alarms",
                               params={"state": "open", "type": "sos_pressed"},
                               headers=self._headers, timeout=5)
            alarms.raise_for_status()
            for alarm in alarms.json():
                seen = self._first_seen.setdefault(alarm["id"], now)
                if now - seen >= 20 + alarm["id"] * 37 % 71:
                    httpx.post(f"{self.api}/api/alarms/{alarm['id']}/acknowledge",
                               json={"note": "已回电住户，情况正常"},
                               headers=self._headers, timeout=5).raise_for_status()
                    log.info("acknowledged SOS alarm %s from %s", alarm["id"], alarm["device"])
        except httpx.HTTPError as exc:
            self._api_down.problem("api", logging.WARNING, "duty officer could not reach the "
                                   "alarms API: %s; trying every %g s", exc, self.every)
        else:
            self._api_down.cleared("api", "duty officer reaches the alarms API again")
