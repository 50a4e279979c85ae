"""The span arithmetic behind the refused time of the windowed networked rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from indicators.access_spans import clipped_to_gateways, merged, without

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_overlapping_and_touching_spans_merge_and_empty_ones_vanish() -> None:
    assert merged([(at(3), at(4)), (at(0), at(1)), (at(0.5), at(2)), (at(2), at(2.5)),
                   (at(5), at(5))]) == [(at(0), at(2.5)), (at(3), at(4))]


def test_holes_cut_spans_into_the_parts_outside_them() -> None:
    assert without([(at(0), at(10)), (at(12), at(13))],
                   [(at(1), at(2)), (at(9), at(12.5))]) == [
        (at(0), at(1)), (at(2), at(9)), (at(12.5), at(13))]
    assert without([(at(0), at(1))], [(at(-1), at(2))]) == []


def test_each_device_loses_its_own_gateways_offline_time_only() -> None:
    spans = {"cam-b": [(at(0), at(4))], "cam-a": [(at(0), at(4))], "cam-c": [(at(1), at(2))]}
    gateway_of = {"cam-a": "gw1", "cam-b": "gw2", "cam-c": None}
    offline = {"gw1": [(at(1), at(3))]}
    assert clipped_to_gateways(spans, gateway_of, offline) == [
        ("cam-a", at(0), at(1)), ("cam-a", at(3), at(4)), ("cam-b", at(0), at(4)),
        ("cam-c", at(1), at(2))]
