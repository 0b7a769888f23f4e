"""Benchmark: plantagent's llama.cpp runtime vs plain llama-cpp-python, side by side.

The measurement lives in agent/bench/llm_generation.py (also run by `plantagent bench`):
generation tokens/s unconstrained and under the step grammar (LlamaGrammar vs ours, full
mask vs sample-then-check), and time to first token cold vs warm. Run:

    /work/venv/bin/python benchmarks/llm_bench.py [--model-dir DIR] [--tokens 64] [--reps 3]
                                                  [--threads 2]

The model directory defaults to $PLANTAGENT_TEST_MODEL_DIR or
~/.cache/plantagent-test/models (where the tests assemble it). CPU is shared: compare the
ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from agent.bench import llm_generation
from agent.llm.registry import build_manifest
from models import shipped_manifest_text

MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"


def main() -> None:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_dir = os.environ.get("PLANTAGENT_TEST_MODEL_DIR") or str(
        Path.home() / ".cache" / "plantagent-test" / "models")  # fmt: skip
    parser.add_argument("--model-dir", type=Path, default=Path(default_dir))
    parser.add_argument("--tokens", type=int, default=64, help="tokens to generate per run")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (median is shown)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    entry = build_manifest([(shipped_manifest_text(), "shipped")]).get(MODEL)
    result = llm_generation.run(entry, args.model_dir, tokens=args.tokens, reps=args.reps,
                                threads=args.threads,
                                say=lambda line: print(f"  {line}", file=sys.stderr))
    print("\n".join(result.lines()))


if __name__ == "__main__":
    main()
