"""Run every benchmark with its defaults: `python -m bench` (`--quick` for small sizes)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from bench import camera_probe, modbus_poll

#: name -> (main(argv) -> exit code, argv for --quick)
BENCHMARKS: dict[str, tuple[Callable[[list[str]], int], list[str]]] = {
    "camera_probe": (camera_probe.main, ["--cameras", "50", "--rounds", "1"]),
    "modbus_poll": (modbus_poll.main, ["--endpoints", "2", "--units", "50", "--seconds", "2"]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, for a smoke run (seconds, not minutes)")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default all: {', '.join(BENCHMARKS)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: "
                     f"{', '.join(BENCHMARKS)}")
    worst = 0
    for name in args.names or list(BENCHMARKS):
        run, quick = BENCHMARKS[name]
        started = time.perf_counter()
        code = run(quick if args.quick else [])
        print(f"[bench] {name}: exit {code} after {time.perf_counter() - started:.1f} s",
              flush=True)
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main())
