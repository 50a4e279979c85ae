"""Whether a polled link (an RS-485 line, a TCP gateway) has time for all its devices.

Devices on one link take turns, request by request. When one round of polls needs more
link time than the period, every poll starts later than the last, and the gateway sees
the devices fall silent one after another, with nothing in the log to say why. Each
device's poll reports the link time its requests took (`cost`) and when it is due again
(`interval`: its period, or its retry delay while silent); after every device of the link
has been polled once (a round), the link's load is Σ cost / interval, and its cycle time
is the link time the devices need per shortest period (load × that period; with one
period for all and no silent device, simply the sum of the polls' times).

A cycle longer than the period is an overrun: counted, logged once as a WARNING naming
the link, the cycle, the period and the fixes (with a reminder and a count while it lasts,
`telemetry.repeats`), and logged again when a round fits. The last cycle time and the
overrun count are readings of the gateway itself (`readings()`), and the gateway's
Prometheus metrics read them and time each poll (`on_poll`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from telemetry.repeats import ConditionLog


@dataclass(slots=True)
class LinkBudget:
    """The poll budget of one link of driver `driver`; `where` describes the link."""

    driver: str
    link: str
    where: str
    periods: Mapping[str, float]
    log: ConditionLog
    #: link time a round of polls needs per shortest period, as last measured (None: no
    #: round completed yet)
    last_cycle_s: float | None = None
    #: rounds whose cycle was longer than the period
    overruns: int = 0
    #: told the link time of every poll (the gateway's metrics time polls with it)
    on_poll: Callable[[float], None] | None = None
    _costs: dict[str, tuple[float, float]] = field(default_factory=dict)
    _round: set[str] = field(default_factory=set)

    @property
    def period_s(self) -> float:
        return min(self.periods.values())

    def record(self, device: str, cost: float, interval: float) -> None:
        """One poll of `device` took `cost` seconds of link time; it is due again in
        `interval` seconds. Closes the round when every device has been polled."""
        self._costs[device] = (max(0.0, cost), max(interval, 1e-9))
        if self.on_poll is not None:
            self.on_poll(max(0.0, cost))
        self._round.add(device)
        if len(self._round) < len(self.periods):
            return
        self._round.clear()
        load = sum(c / i for c, i in self._costs.values())
        period = self.period_s
        cycle = load * period
        self.last_cycle_s = cycle
        key = ("link cycle overrun", self.driver, self.link)
        if cycle > period:
            self.overruns += 1
            busiest = max(self._costs.items(), key=lambda kv: kv[1][0])
            self.log.problem(
                key, logging.WARNING,
                "%s link %s (%s): a poll cycle of its %d devices takes %.1f s of link time, "
                "longer than their period of %g s, so polls fall behind and devices look "
                "silent; lengthen the period, put fewer devices on this link, or shorten its "
                "timeout (each silent device costs one timeout; the slowest, %s, took %.2f s)",
                self.driver, self.link, self.where, len(self.periods), cycle, period,
                busiest[0], busiest[1][0])
        else:
            self.log.cleared(key, "%s link %s: a poll cycle fits its period again (%.1f s of "
                             "%g s)", self.driver, self.link, cycle, period)

    def readings(self) -> dict[str, float]:
        """Self-readings: `{driver}_link_{link}_cycle_s` (once a round has completed) and
        `{driver}_link_{link}_cycle_overruns_total`."""
        prefix = f"{self.driver}_link_{self.link}"
        out = {f"{prefix}_cycle_overruns_total": float(self.overruns)}
        if self.last_cycle_s is not None:
            out[f"{prefix}_cycle_s"] = round(self.last_cycle_s, 3)
        return out


def budgets(driver: str, links: Mapping[str, str], devices: Iterable[tuple[str, str, float]],
            logger: logging.Logger) -> dict[str, LinkBudget]:
    """A budget per link that has devices: `links` maps a link to its description,
    `devices` gives (device id, link, period in seconds)."""
    periods: dict[str, dict[str, float]] = {}
    for device, link, period in devices:
        periods.setdefault(link, {})[device] = period
    conditions = ConditionLog(logger)
    return {link: LinkBudget(driver, link, links[link], members, conditions)
            for link, members in periods.items()}
