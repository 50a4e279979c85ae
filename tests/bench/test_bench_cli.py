"""`python -m bench`: options after one benchmark's name reach that benchmark."""

from __future__ import annotations

import pytest

import bench.__main__ as bench_main


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    seen: list[tuple[str, list[str]]] = []

    def fake(name: str):  # type: ignore[no-untyped-def]
        def run(argv: list[str]) -> int:
            seen.append((name, argv))
            return 0
        return run

    monkeypatch.setattr(bench_main, "BENCHMARKS", {
        "alpha": (fake("alpha"), ["--small"]), "beta": (fake("beta"), ["--tiny"])})
    return seen


def test_options_after_a_name_are_passed_to_that_benchmark(
        calls: list[tuple[str, list[str]]]) -> None:
    assert bench_main.main(["alpha", "--seconds", "2", "--units", "5"]) == 0
    assert calls == [("alpha", ["--seconds", "2", "--units", "5"])]


def test_no_names_runs_every_benchmark_with_defaults_or_quick_sizes(
        calls: list[tuple[str, list[str]]]) -> None:
    assert bench_main.main([]) == 0
    assert bench_main.main(["--quick"]) == 0
    assert calls == [("alpha", []), ("beta", []), ("alpha", ["--small"]), ("beta", ["--tiny"])]


def test_options_for_two_benchmarks_at_once_are_refused_with_the_fix(
        calls: list[tuple[str, list[str]]], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        bench_main.main(["alpha", "beta", "--seconds", "2"])
    assert exc.value.code == 2
    assert "can only go to one benchmark; name one" in capsys.readouterr().err
    assert calls == []
