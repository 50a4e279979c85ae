"""Block planning: adjacent registers of one function code are read in one request, across
small gaps, never past the request limit, never splitting a value."""

from __future__ import annotations

from drivers.modbus import find_profile, plan_blocks, plan_profile
from drivers.modbus.model import Point


def pt(address: int, type_: str = "u16", function: int = 3) -> Point:
    return Point(name=None, where=f"p{address}", function=function, address=address,
                 type=type_, metric=f"m{function}_{address}")


def spans(blocks: list) -> list[tuple[int, int, int]]:  # type: ignore[type-arg]
    return [(b.function, b.address, b.count) for b in blocks]


def test_contiguous_registers_make_one_request() -> None:
    blocks = plan_blocks([pt(0), pt(1), pt(2, "u32"), pt(4, "f32")])
    assert spans(blocks) == [(3, 0, 6)]
    assert [p.address for p in blocks[0].points] == [0, 1, 2, 4]


def test_small_gaps_are_read_across_and_large_ones_split() -> None:
    points = [pt(0), pt(5), pt(20)]
    assert spans(plan_blocks(points, max_gap=4)) == [(3, 0, 6), (3, 20, 1)]
    assert spans(plan_blocks(points, max_gap=3)) == [(3, 0, 1), (3, 5, 1), (3, 20, 1)]
    assert spans(plan_blocks(points, max_gap=14)) == [(3, 0, 21)]


def test_function_codes_are_never_mixed() -> None:
    blocks = plan_blocks([pt(0, function=3), pt(1, function=4), pt(2, function=3)])
    assert spans(blocks) == [(3, 0, 3), (4, 1, 1)]


def test_a_request_never_exceeds_the_limit_nor_splits_a_value() -> None:
    points = [pt(a, "u32") for a in range(0, 130, 2)]
    blocks = plan_blocks(points, max_registers=125)
    assert spans(blocks) == [(3, 0, 124), (3, 124, 6)]
    assert spans(plan_blocks([pt(0, "f32"), pt(2, "f32"), pt(4, "f32")], max_registers=5)) \
        == [(3, 0, 4), (3, 4, 2)]


def test_bits_use_their_own_limit() -> None:
    bits = [Point(None, f"b{a}", 2, a, "bool", metric=f"b{a}") for a in range(0, 40, 4)]
    assert spans(plan_blocks(bits, max_bits=20, max_gap=4)) == [(2, 0, 17), (2, 20, 17)]


def test_unsorted_points_are_planned_in_address_order() -> None:
    assert spans(plan_blocks([pt(9), pt(0), pt(4)], max_gap=4)) == [(3, 0, 10)]


def test_shipped_profiles_plan_few_requests() -> None:
    # Only registers the public maps list are read: nothing at 0x002C / 0x0032 (SDM630),
    # nothing at 0x0002..0x0005 / 0x0008..0x000B (SDM120), within the 60-register limit.
    assert spans(plan_profile(find_profile("eastron_sdm630"))) == [
        (4, 0, 0x12), (4, 0x2A, 2), (4, 0x2E, 2), (4, 0x34, 2), (4, 0x46, 6)]
    assert spans(plan_profile(find_profile("eastron_sdm120"))) == [
        (4, 0, 2), (4, 6, 2), (4, 0xC, 2), (4, 0x46, 6), (4, 0x156, 2)]
    assert spans(plan_profile(find_profile("acrel_adw300"))) == [
        (3, 0x14, 3), (3, 0x1A, 3), (3, 0x1E, 8), (3, 0x3E, 4)]
    assert spans(plan_profile(find_profile("chint_ddsu666"))) == [
        (4, 0x2000, 6), (4, 0x200E, 2), (4, 0x4000, 2), (4, 0x400A, 2)]
    # Ten ports in two requests of at most 125 registers, write-only registers not read.
    assert spans(plan_profile(find_profile("ebike_charger_10p"))) == [
        (3, 0, 3), (3, 0x100, 0x76), (3, 0x180, 0x16)]
    assert spans(plan_profile(find_profile("fire_alarm_gateway"))) == [
        (2, 0, 64), (2, 0x100, 4), (4, 0, 3)]
