"""Benchmark: historian ingest into the encrypted twin database, batched vs row by row,
and live recording of the demo plant at full rate.

The measurement lives in agent/bench/historian_ingest.py (also run by `plantagent bench`).

    /work/venv/bin/python benchmarks/historian_bench.py [--rows 20000] [--batch 2000]
                                                        [--live-seconds 20]
"""

from __future__ import annotations

import argparse
import logging
import sys

from agent.bench import historian_ingest


def main() -> None:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--live-seconds", type=float, default=20.0)
    args = parser.parse_args()
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    result = historian_ingest.run(args.rows, args.batch, args.live_seconds,
                                  say=lambda line: print(f"  {line}", file=sys.stderr))
    print("\n".join(result.lines()))


if __name__ == "__main__":
    main()
