"""End-to-end time of a one-reading question: cold, restart and warm, side by side.

Against the demo plant with the real chat model and a real encrypted site:
- cold: the first question of a fresh site (the prompt prefix is evaluated and its KV
  state saved, encrypted, to the site);
- restart: a new agent session on the same site (the prefix state comes back from disk);
- warm: the next question in the same session (the prefix state is in memory);
- warmed: the first question of another fresh site whose prefix the agent evaluated
  before it was asked, as the site service and the terminal UI do at start;
- plain: the same question as the product answers it by default, from the prefetched
  reading without a model step (agent.plain_readings); the three above have the model
  write every answer.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from agent.runtime import SiteRuntime
from agent.settings import Settings, SimSettings, load_settings
from harness.bench.result import BenchResult
from harness.sites import throwaway_site
from plant.server import DemoPlantServer

QUESTION = "What is the bearing temperature of P-101?"
PASSPHRASE = "benchmark passphrase"
Say = Callable[[str], None]


async def _ask_times(settings: Settings, endpoint: str, questions: int, *, warm: bool = False
                     ) -> tuple[float, list[float], int]:  # fmt: skip
    """(session open s, question times, ungrounded answers); a question the settings
    let the system answer alone must have been answered so."""
    opened = time.perf_counter()
    ungrounded = 0
    async with SiteRuntime(settings, endpoint=endpoint, passphrase=PASSPHRASE) as runtime:
        agent = await runtime.agent()
        if warm:
            await agent.warm()  # as the site service does when it starts
        open_s = time.perf_counter() - opened
        times = []
        for _ in range(questions):
            start = time.perf_counter()
            answer = await agent.ask(QUESTION, actor="bench", role="shift_lead")
            times.append(time.perf_counter() - start)
            ungrounded += not answer.grounded
            if settings.agent.plain_readings and answer.written_by != "system":
                raise AssertionError(f"a plain reading went to the model: {answer.answer}")
    return open_s, times, ungrounded


async def run(models_dir: Path, *, reps: int = 3, threads: int = 2,
              model: str | None = None, say: Say = lambda _: None) -> BenchResult:
    """``reps`` fresh sites: cold + warm in one session, then restart in a second."""
    result = BenchResult("ask", f"one-reading question end to end ({threads} threads, median "
                         f"of {reps})", params={"reps": reps, "threads": threads})
    cold, restart, warm, opens, plain, warmed = [], [], [], [], [], []
    ungrounded = 0
    async with DemoPlantServer(SimSettings(port=0, speed=1.0, history_hours=0.1)) as plant:
        for rep in range(reps):
            home = Path(tempfile.mkdtemp(prefix="plantagent-bench-"))
            throwaway_site(home, passphrase=PASSPHRASE)
            spec: dict[str, object] = {"directory": str(models_dir), "threads": threads}
            if model:
                spec["name"] = model
            agent = {"user": "bench", "role": "shift_lead"}
            settings = load_settings(home=home, model=spec,
                                     agent={**agent, "plain_readings": False})
            open_s, first, bad = await _ask_times(settings, plant.endpoint, 2)
            _, again, bad_again = await _ask_times(settings, plant.endpoint, 1)
            _, system, _ = await _ask_times(
                load_settings(home=home, model=spec, agent={**agent, "plain_readings": True}),
                plant.endpoint, 3)
            plain += system
            other = Path(tempfile.mkdtemp(prefix="plantagent-bench-"))
            throwaway_site(other, passphrase=PASSPHRASE)
            _, ahead, _ = await _ask_times(
                load_settings(home=other, model=spec, agent={**agent, "plain_readings": False}),
                plant.endpoint, 1, warm=True)
            warmed += ahead
            cold.append(first[0])
            warm.append(first[1])
            restart.append(again[0])
            opens.append(open_s)
            ungrounded += bad + bad_again
            say(f"rep {rep + 1}/{reps}: cold {first[0]:.2f} s, restart {again[0]:.2f} s, "
                f"warm {first[1]:.2f} s, from the readings {statistics.median(system):.2f} s")
    med = statistics.median
    result.add("cold (fresh site, prefix evaluated)", med(cold), "s")
    result.add("restart (prefix state from disk)", med(restart), "s")
    result.add("warm (prefix state in memory)", med(warm), "s")
    result.add("fresh site, prefix warmed when the service started", med(warmed), "s")
    result.add("answered from the readings, no model step (the default)", med(plain), "s")
    result.add("agent start-up (unlock, browse, load + verify model)", med(opens), "s")
    result.ratio("cold / warm (question time)", med(cold), med(warm))
    result.ratio("restart / warm (question time)", med(restart), med(warm))
    result.ratio("model writes / from the readings (warm)", med(warm), med(plain))
    result.ratio("cold / fresh site warmed at start (question time)", med(cold), med(warmed))
    if ungrounded:
        result.notes.append(f"{ungrounded} answer(s) were not grounded")
    return result
