"""The demo plan's windowed networked rate: seconds that grow as the demo runs are judged by
their bounds, the cameras behind them and the verdict, and every way to be off is named."""

from __future__ import annotations

from typing import Any

from scg.demo_plan import DemoPlan, ExpectedWindowedRate

WEEK_S = 7 * 86400


def served(num: float, den: float, observed: int, online: int, basic: str = "fail",
           growth: str | None = None) -> dict[str, Any]:
    return {"numerator": num, "denominator": den,
            "devices": {"numerator": [f"cam-{i}" for i in range(online)],
                        "denominator": [f"cam-{i}" for i in range(observed)]},
            "status": {"basic": basic, "growth": growth or basic}}


def test_the_plan_expects_every_key_position_camera_and_the_networked_ones() -> None:
    figure = DemoPlan().expected()["video_networked_time_rate"]
    assert isinstance(figure, ExpectedWindowedRate)
    assert (figure.cameras, figure.networked) == (24, 22)
    # Two hours of the demo, each camera observed since the gateway's first birth: 22
    # cameras networked (the unreachable one and the one that refuses our password are
    # not), less the 5 s each took to answer: 91.6 %, so basic passes and growth fails.
    assert figure.problems(served(22 * 7195.0, 24 * 7200.0, 24, 22, "pass", "fail")) == []
    # The first minute: the start-up seconds still weigh, basic fails too.
    assert figure.problems(served(22 * 55.0, 24 * 60.0, 24, 22)) == []


def test_each_way_off_the_plan_is_named() -> None:
    figure = ExpectedWindowedRate("video_networked_time_rate", 24, 22, "plan")
    assert figure.problems(served(0.0, 24 * WEEK_S, 24, 22)) == [
        "video_networked_time_rate: numerator 0.0 s, expected (0, 14515200) s (plan)"]
    assert figure.problems(served(10.0, 25 * WEEK_S, 24, 22)) == [
        "video_networked_time_rate: denominator 15120000 s, expected (0, 14515200] s (plan)"]
    assert figure.problems(served(10.0, 100.0, 23, 21, "pass")) == [
        "video_networked_time_rate: 23 cameras observed, expected 24 (plan)",
        "video_networked_time_rate: 21 cameras ever online, expected 22 (plan)",
        "video_networked_time_rate: status {'basic': 'pass', 'growth': 'pass'}, expected "
        "{'basic': 'fail', 'growth': 'fail'} for these seconds (plan)"]
    # Seconds that meet 95 % cannot come from 22 networked cameras of 24.
    assert figure.problems(served(96.0, 100.0, 24, 22, "pass", "pass")) == [
        "video_networked_time_rate: 96.0 s of 100.0 s meet the growth tier, which 22 of 24 "
        "cameras cannot (plan)"]
