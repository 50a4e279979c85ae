"""The GB 26875 fuzz target (`make fuzz` runs it a million times) works: a few thousand of
its inputs reach every stage and end only in frames or FrameError."""

from __future__ import annotations

from scripts.fuzz import TARGETS, run_chunk


def test_the_fuzz_target_reaches_the_data_units_and_raises_only_frame_errors() -> None:
    assert TARGETS["gb26875"].default_count >= 1_000_000
    tally = run_chunk(("gb26875", 11, 0, 3000))
    assert tally.unexpected.total() == 0, tally.examples
    assert tally.accepted > 500 and sum(tally.rejected.values()) > 1000
    assert {"checksum expected", "length mismatch", "bad start"} <= set(tally.rejected)
    assert tally.notes["data unit component_state"] > 0
    assert tally.notes["data unit rejected (FrameError)"] > 0
