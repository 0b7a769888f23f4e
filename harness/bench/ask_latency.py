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
from harness.evals.figures import percentile
from harness.sites import throwaway_site
from plant.server import DemoPlantServer

QUESTION = "What is the bearing temperature of P-101?"
#: One-reading questions over every piece of the demo's equipment, for the warm median
#: and 95th percentile (one question repeated would measure one prompt only).
VARIED = (
    QUESTION,
    "What is the vibration of P-101?",
    "What is the flow rate of P-101?",
    "What is the discharge pressure of C-101?",
    "What is the oil temperature of C-101?",
    "What is the belt speed of CV-101?",
    "What is the differential pressure of F-101?",
    "What is the hot outlet temperature of HX-101?",
    "What is the coolant flow of HX-101?",
    "What is the winding temperature of M-101?",
    "What is the current of M-101?",
    "What is the level of T-101?",
    "What is the temperature of T-101?",
    "What is the motor current of P-101?",
    "What is the suction pressure of P-101?",
    "What is the load of CV-101?",
    "What is the speed of M-101?",
    "What is the inlet flow of T-101?",
    "What is the air flow of C-101?",
    "What is the outlet pressure of F-101?",
)
#: The issue's goals for a warm one-reading question (median, 95th percentile), seconds.
GOAL_MEDIAN_S, GOAL_P95_S = 3.0, 5.0
#: ... and for the first question on a fresh site.
GOAL_FRESH_S = 8.0
PASSPHRASE = "benchmark passphrase"
Say = Callable[[str], None]


async def _ask_times(settings: Settings, endpoint: str, questions: int | tuple[str, ...], *,
                     warm: bool = False) -> tuple[float, list[float], int]:
    """(session open s, question times, ungrounded answers): ``questions`` times the one
    question, or each of the questions given; a question the settings let the system
    answer alone must have been answered so."""
    asked = (QUESTION,) * questions if isinstance(questions, int) else questions
    opened = time.perf_counter()
    ungrounded = 0
    async with SiteRuntime(settings, endpoint=endpoint, passphrase=PASSPHRASE) as runtime:
        agent = await runtime.agent()
        if warm:
            await agent.warm()  # as the site service does when it starts
        open_s = time.perf_counter() - opened
        times = []
        for question in asked:
            start = time.perf_counter()
            answer = await agent.ask(question, actor="bench", role="shift_lead")
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
        # The warm figures over different questions, in one session whose prefix was
        # evaluated at start (as the service's), the model writing every answer.
        say(f"warm over {len(VARIED)} different one-reading questions, the model writing")
        _, varied, bad_varied = await _ask_times(settings, plant.endpoint, VARIED, warm=True)
        ungrounded += bad_varied
    med = statistics.median
    varied_p95 = percentile(varied, 0.95)
    result.add("cold (fresh site, prefix evaluated)", med(cold), "s")
    result.add("restart (prefix state from disk)", med(restart), "s")
    result.add("warm (prefix state in memory)", med(warm), "s")
    result.add("fresh site, prefix warmed when the service started", med(warmed), "s")
    result.add("answered from the readings, no model step (the default)", med(plain), "s")
    result.add("agent start-up (unlock, browse, load + verify model)", med(opens), "s")
    result.add(f"warm, {len(varied)} different questions: median", med(varied), "s")
    result.add(f"warm, {len(varied)} different questions: 95th percentile", varied_p95, "s")
    result.ratio(f"warm median / goal {GOAL_MEDIAN_S:g} s", med(varied), GOAL_MEDIAN_S)
    result.ratio(f"warm p95 / goal {GOAL_P95_S:g} s", varied_p95, GOAL_P95_S)
    result.ratio(f"fresh site warmed at start / goal {GOAL_FRESH_S:g} s", med(warmed),
                 GOAL_FRESH_S)
    # A site never warmed (one-shot `plantagent ask` before any sync or service start).
    result.ratio(f"cold fresh site / goal {GOAL_FRESH_S:g} s", med(cold), GOAL_FRESH_S)
    result.ratio("cold / warm (question time)", med(cold), med(warm))
    result.ratio("restart / warm (question time)", med(restart), med(warm))
    result.ratio("model writes / from the readings (warm)", med(warm), med(plain))
    result.ratio("cold / fresh site warmed at start (question time)", med(cold), med(warmed))
    if ungrounded:
        result.notes.append(f"{ungrounded} answer(s) were not grounded")
    return result
