"""Fuzz the decoders of untrusted input: every input must be accepted or rejected with the
decoder's own error, never end in any other exception.

    .venv/bin/python -m scripts.fuzz                      # every target, default counts
    .venv/bin/python -m scripts.fuzz envelope -n 50000 --seed 7
    .venv/bin/python -m scripts.fuzz --replay envelope:3:1234   # rerun one input, traceback

To fuzz another decoder, write a `FuzzTarget` (scripts/fuzzkit.py) and add it to TARGETS.
Inputs come in chunks, each from its own `random.Random` seeded with (seed, target, chunk),
so a run is the same whatever the number of worker processes, and any input can be
replayed from the coordinates printed beside it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from scripts.fuzz_gb26875 import GB26875
from scripts.fuzz_telemetry import ENVELOPE, STATUS
from scripts.fuzzkit import FuzzTarget

TARGETS: dict[str, FuzzTarget] = {t.name: t for t in (ENVELOPE, STATUS, GB26875)}

CHUNK = 5_000
SHOWN_UNEXPECTED = 5
SHOWN_REASONS = 8


@dataclass
class Tally:
    """What one chunk (or, summed, one target) of inputs did."""

    inputs: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    slowest: float = 0.0
    slowest_at: str = ""
    cpu: float = 0.0  # seconds of CPU the workers spent, comparable on a busy machine

    def add(self, other: Tally) -> None:
        self.inputs += other.inputs
        self.accepted += other.accepted
        self.rejected.update(other.rejected)
        self.notes.update(other.notes)
        self.unexpected.update(other.unexpected)
        self.cpu += other.cpu
        self.examples.extend(other.examples[:SHOWN_UNEXPECTED - len(self.examples)])
        if other.slowest > self.slowest:
            self.slowest, self.slowest_at = other.slowest, other.slowest_at


def chunk_inputs(target: FuzzTarget, seed: int, chunk: int, count: int) -> Iterator[bytes]:
    rng = random.Random(f"{seed}/{target.name}/{chunk}")
    for _ in range(count):
        yield target.generate(rng)


def run_chunk(job: tuple[str, int, int, int]) -> Tally:
    name, seed, chunk, count = job
    target = TARGETS[name]
    tally = Tally()
    cpu_started = time.process_time()
    for index, data in enumerate(chunk_inputs(target, seed, chunk, count)):
        tally.inputs += 1
        started = time.perf_counter()
        try:
            result = target.decode(data)
        except target.expected as exc:
            tally.rejected[target.reason(exc)] += 1
        except Exception as exc:
            tally.unexpected[type(exc).__name__] += 1
            if len(tally.examples) < SHOWN_UNEXPECTED:
                tally.examples.append(
                    f"{type(exc).__name__}: {_cut(str(exc), 200)}\n"
                    f"        input ({len(data)} bytes): {_cut(repr(data), 300)}\n"
                    f"        replay: --seed {seed} --replay {name}:{chunk}:{index}")
        else:
            tally.accepted += 1
            tally.notes.update(target.notes(result))
        took = time.perf_counter() - started
        if took > tally.slowest:
            tally.slowest = took
            tally.slowest_at = f"{len(data)} bytes, {name}:{chunk}:{index}"
    tally.cpu = time.process_time() - cpu_started
    return tally


def run_target(target: FuzzTarget, count: int, seed: int, workers: int) -> Tally:
    jobs = [(target.name, seed, chunk, min(CHUNK, count - chunk * CHUNK))
            for chunk in range((count + CHUNK - 1) // CHUNK)]
    total = Tally()
    if workers <= 1:
        for job in jobs:
            total.add(run_chunk(job))
        return total
    with multiprocessing.Pool(workers) as pool:
        for tally in pool.imap_unordered(run_chunk, jobs):
            total.add(tally)
    return total


def report(target: FuzzTarget, tally: Tally, wall: float) -> str:
    own = " / ".join(e.__name__ for e in target.expected)
    lines = [f"{target.name}: {target.description}",
             f"  inputs run                {tally.inputs:>12,}",
             f"  accepted                  {tally.accepted:>12,}",
             f"  rejected with {own:<11} {sum(tally.rejected.values()):>12,}"]
    lines += [f"      {code:<21} {n:>12,}" for code, n in
              tally.rejected.most_common(SHOWN_REASONS)]
    if tally.notes:
        lines.append(f"  inside accepted results   {sum(tally.notes.values()):>12,}")
        lines += [f"      {note:<40} {n:>9,}" for note, n in
                  tally.notes.most_common(SHOWN_REASONS)]
    lines.append(f"  unexpected exceptions     {tally.unexpected.total():>12,}")
    lines += [f"      {kind:<21} {n:>12,}" for kind, n in tally.unexpected.most_common()]
    lines += [f"    - {example}" for example in tally.examples]
    lines.append(f"  wall time                 {wall:>11.1f}s  "
                 f"({tally.inputs / wall:,.0f} inputs/s, {tally.cpu:,.0f} s of CPU; slowest input "
                 f"{tally.slowest * 1000:.1f} ms: {tally.slowest_at})")
    return "\n".join(lines)


def replay(spec: str, seed: int) -> int:
    """Regenerate one input and decode it in this process, showing the whole traceback."""
    name, chunk, index = spec.split(":")
    target = TARGETS[name]
    data = list(chunk_inputs(target, seed, int(chunk), int(index) + 1))[-1]
    print(f"input ({len(data)} bytes): {data!r}")
    try:
        print(f"accepted: {target.decode(data)!r}")
    except target.expected as exc:
        print(f"rejected ({target.reason(exc)}): {exc}")
    except Exception:
        traceback.print_exc()
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help=f"targets to run (default: all of {', '.join(TARGETS)})")
    parser.add_argument("-n", "--count", type=int, action="append", default=[],
                        help="inputs per target; once for all targets or once per target "
                             "named (default: each target's own count)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the run (default 1)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes (default: one per core)")
    parser.add_argument("--replay", metavar="TARGET:CHUNK:INDEX",
                        help="decode one input of a run again, with its traceback")
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args.replay, args.seed)
    unknown = [n for n in args.targets if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    chosen = [TARGETS[n] for n in args.targets or TARGETS]
    if len(args.count) not in (0, 1, len(chosen)):
        parser.error(f"give -n once, or once for each of the {len(chosen)} targets")
    counts = args.count * len(chosen) if len(args.count) == 1 else args.count
    unexpected = 0
    print(f"fuzz: seed {args.seed}, {args.workers} worker(s)", flush=True)
    for i, target in enumerate(chosen):
        count = counts[i] if counts else target.default_count
        started = time.perf_counter()
        tally = run_target(target, count, args.seed, args.workers)
        print(report(target, tally, time.perf_counter() - started), flush=True)
        unexpected += tally.unexpected.total()
    print(f"fuzz: {unexpected} unexpected exceptions")
    return 1 if unexpected else 0


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else f"{text[:width]}… ({len(text)} characters)"


if __name__ == "__main__":
    sys.exit(main())
