"""End-to-end time of a one-reading question, side by side in one run.

Against the demo plant with the real default model and a real encrypted site:
- cold: the first question of a fresh site (the prompt prefix is evaluated and its KV
  state saved, encrypted, to the site);
- restart: a new agent session on the same site (the prefix state comes back from disk);
- warm: the next question in the same session (the prefix state is in memory).

Usage: python benchmarks/ask_bench.py [--reps 3] [--threads 2] [--models-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from agent.compose import open_agent
from agent.settings import SimSettings, load_settings
from agent.vault import KdfParams, init_site
from plant.server import DemoPlantServer

QUESTION = "What is the bearing temperature of P-101?"
PASSPHRASE = "benchmark passphrase"


async def _ask_times(settings: object, endpoint: str, questions: int) -> tuple[float, list[float]]:
    opened = time.perf_counter()
    async with open_agent(settings, endpoint=endpoint, passphrase=PASSPHRASE) as session:  # type: ignore[arg-type]
        open_s = time.perf_counter() - opened
        times = []
        for _ in range(questions):
            start = time.perf_counter()
            answer = await session.agent.ask(QUESTION, actor="bench", role="shift_lead")
            times.append(time.perf_counter() - start)
            if not answer.grounded:
                print(f"  warning: ungrounded answer: {answer.answer}", file=sys.stderr)
    return open_s, times


async def run(reps: int, threads: int, models_dir: Path) -> None:
    cold, restart, warm, opens = [], [], [], []
    async with DemoPlantServer(SimSettings(port=0, speed=1.0, history_hours=0.1)) as plant:
        for rep in range(reps):
            home = Path(tempfile.mkdtemp(prefix="plantagent-bench-"))
            init_site(home, passphrase=PASSPHRASE, kdf=KdfParams(n=2**10, r=8, p=1))
            settings = load_settings(
                home=home, model={"directory": str(models_dir), "threads": threads}
            )
            open_s, first = await _ask_times(settings, plant.endpoint, 2)
            cold.append(first[0])
            warm.append(first[1])
            opens.append(open_s)
            _, again = await _ask_times(settings, plant.endpoint, 1)
            restart.append(again[0])
            print(f"  rep {rep + 1}/{reps}: cold {first[0]:.2f} s, restart {again[0]:.2f} s, "
                  f"warm {first[1]:.2f} s", file=sys.stderr)
    med = statistics.median
    print(f"one-reading question end to end ({threads} threads, median of {reps}):")
    print(f"  {'case':<34}{'seconds':>9}{'vs warm':>9}")
    for label, values in (
        ("cold (fresh site, prefix evaluated)", cold),
        ("restart (prefix state from disk)", restart),
        ("warm (prefix state in memory)", warm),
    ):
        print(f"  {label:<34}{med(values):>9.2f}{med(values) / med(warm):>8.1f}x")
    print(f"  agent start-up (unlock, browse, load + verify model): {med(opens):.2f} s")


def main() -> None:
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
    asyncio.run(run(args.reps, args.threads, args.models_dir))


if __name__ == "__main__":
    main()
