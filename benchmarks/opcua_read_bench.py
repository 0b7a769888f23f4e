"""Benchmark: one batched Read of 1,000 tags vs 1,000 single-tag Reads, side by side.

The measurement lives in agent/bench/opcua_reads.py (also run by `plantagent bench`).

    /work/venv/bin/python benchmarks/opcua_read_bench.py [--tags 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from agent.bench import opcua_reads


def main() -> None:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(opcua_reads.run(args.tags, args.rounds,
                                         say=lambda line: print(f"  {line}", file=sys.stderr)))
    print("\n".join(result.lines()))


if __name__ == "__main__":
    main()
