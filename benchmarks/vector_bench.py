"""Vector search latency: sqlite-vec (vec0, in the encrypted database) next to NumPy.

The measurement lives in agent/bench/vector_search.py (also run by `plantagent bench`).

    python benchmarks/vector_bench.py [--sizes 10000 100000] [--queries 50] [--k 10]
                                      [--variants encrypted encrypted+cache memory]
"""

from __future__ import annotations

import argparse
import os
import sys

# One BLAS thread, set before NumPy loads: sqlite-vec searches on one thread too, and on a
# shared 2-core machine a second BLAS thread mostly waits for a time slice.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from agent.bench import vector_search  # after the BLAS settings


def main() -> int:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variants", nargs="+", choices=vector_search.VARIANTS,
                        default=list(vector_search.VARIANTS))
    args = parser.parse_args()
    result = vector_search.run(tuple(args.sizes), args.queries, args.k, tuple(args.variants),
                               args.seed, say=lambda line: print(f"  {line}", file=sys.stderr))
    print("\n".join(result.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
