"""End-to-end time of a one-reading question, side by side in one run: cold (fresh
site), restart (prefix state from disk), warm (prefix state in memory).

The measurement lives in agent/bench/ask_latency.py (also run by `plantagent bench`).

Usage: python benchmarks/ask_bench.py [--reps 3] [--threads 2] [--models-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from agent.bench import ask_latency


def main() -> None:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=Path(os.environ.get("PLANTAGENT_TEST_MODEL_DIR",
                                    Path.home() / ".cache" / "plantagent-test" / "models")),
    )
    args = parser.parse_args()
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    result = asyncio.run(ask_latency.run(args.models_dir, reps=args.reps, threads=args.threads,
                                         say=lambda line: print(f"  {line}", file=sys.stderr)))
    print("\n".join(result.lines()))


if __name__ == "__main__":
    main()
