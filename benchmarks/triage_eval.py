"""Triage evaluation over every demo-plant fault mode, alone and in pairs (template
summaries). The evaluation lives in agent/evals/triage_eval.py; with the local model
writing the summaries, run `plantagent eval triage --model`.

    python benchmarks/triage_eval.py --out /tmp/triage-eval [--seeds 3] [--pairs 8]
"""

from __future__ import annotations

import sys

from agent.evals.triage_eval import main

if __name__ == "__main__":
    sys.exit(main())
