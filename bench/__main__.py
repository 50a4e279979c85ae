"""Run benchmarks: `python -m bench` runs every one with its defaults (`--quick` for small
sizes); `python -m bench NAME [OPTIONS]` runs one, passing OPTIONS on to it (see
`python -m bench NAME --help`)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from bench import audit, camera_probe, county, ingest, modbus_bus, modbus_poll

#: name -> (main(argv) -> exit code, argv for --quick)
BENCHMARKS: dict[str, tuple[Callable[[list[str]], int], list[str]]] = {
    "audit": (audit.main, ["--quick"]),
    "camera_probe": (camera_probe.main, ["--cameras", "50", "--rounds", "1"]),
    "county": (county.main, ["--quick"]),
    "ingest": (ingest.main, ["--quick"]),
    "modbus_bus": (modbus_bus.main, ["--seconds", "2"]),
    "modbus_poll": (modbus_poll.main, ["--endpoints", "2", "--units", "50", "--seconds", "2"]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, for a smoke run (seconds, not minutes)")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default all: {', '.join(BENCHMARKS)})")
    argv = sys.argv[1:] if argv is None else argv
    # Everything after the first benchmark name that is an option belongs to that benchmark.
    names_end = next((i for i, a in enumerate(argv) if a in BENCHMARKS), None)
    passed: list[str] = []
    if names_end is not None:
        rest = argv[names_end + 1:]
        first_option = next((i for i, a in enumerate(rest) if a.startswith("-")), len(rest))
        passed = rest[first_option:]
        argv = argv[:names_end + 1 + first_option]
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: "
                     f"{', '.join(BENCHMARKS)}")
    if passed and len(args.names) != 1:
        parser.error(f"options {' '.join(passed)} can only go to one benchmark; name one, "
                     "e.g. python -m bench modbus_poll --seconds 2")
    if passed and args.quick:
        parser.error("--quick picks small sizes itself; give either --quick or the "
                     "benchmark's own options")
    worst = 0
    for name in args.names or list(BENCHMARKS):
        run, quick = BENCHMARKS[name]
        started = time.perf_counter()
        code = run(passed or (quick if args.quick else []))
        print(f"[bench] {name}: exit {code} after {time.perf_counter() - started:.1f} s",
              flush=True)
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main())
