"""Benchmark: audit append throughput (durable, synchronous=FULL) vs verify throughput.

The measurement lives in agent/bench/audit_throughput.py (also run by `plantagent bench`):
a real encrypted database and the real hybrid signer (Ed25519 + ML-DSA-65). Run:

    /work/venv/bin/python benchmarks/audit_bench.py [--records 2000] [--dir DIR]
                                                    [--checkpoint-every 256]

``--dir`` chooses the file system (fsync cost depends on it; default: the system temp).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.bench import audit_throughput


def main() -> None:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--checkpoint-every", type=int, default=256)
    parser.add_argument("--dir", type=Path, default=None, help="where the database lives")
    args = parser.parse_args()
    result = audit_throughput.run(args.records, args.checkpoint_every, args.dir,
                                  say=lambda line: print(f"  {line}", file=sys.stderr))
    print("\n".join(result.lines()))


if __name__ == "__main__":
    main()
