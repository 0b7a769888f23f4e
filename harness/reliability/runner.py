"""Running the attempts and the table of how many hold, by area."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from harness.reliability import bad_input, egress, files, rollback, secrets
from harness.reliability.context import Context
from harness.reliability.model import Attempt, Outcome

#: Every attempt, by area, in the order they are reported.
ATTEMPTS: list[Attempt] = [*rollback.ATTEMPTS, *files.ATTEMPTS, *egress.ATTEMPTS,
                           *secrets.ATTEMPTS, *bad_input.ATTEMPTS]


@dataclass(frozen=True)
class Result:
    """An attempt, what it found and how long it took."""

    attempt: Attempt
    outcome: Outcome
    seconds: float


def run_one(attempt: Attempt) -> Result:
    """One attempt in its own scratch directory; a crash of the attempt itself is a
    failure it reports (never one that stops the others)."""
    started = time.monotonic()
    with Context() as ctx:
        try:
            outcome = attempt.run(ctx)
        except Exception as exc:  # noqa: BLE001 - reported, the next attempt runs
            outcome = Outcome(False, f"the attempt crashed: {type(exc).__name__}: {exc}")
    return Result(attempt, outcome, time.monotonic() - started)


def run(attempts: Iterable[Attempt], say: Callable[[str], None] = lambda _: None
        ) -> list[Result]:
    """Run ``attempts`` one after the other."""
    results = []
    for attempt in attempts:
        result = run_one(attempt)
        mark = ("skip" if result.outcome.skipped else "held" if result.outcome.held
                else "FAIL")
        say(f"  {mark:4} {attempt.area}: {attempt.name} ({result.seconds:.1f} s)")
        results.append(result)
    return results


def table(results: list[Result]) -> list[str]:
    """The Markdown table: attempts by area, how many hold."""
    areas: dict[str, list[Result]] = {}
    for result in results:
        areas.setdefault(result.attempt.area, []).append(result)
    lines = ["| area | attempts | hold | fail | not run here |", "|---|---|---|---|---|"]
    for area, rows in areas.items():
        ran = [r for r in rows if not r.outcome.skipped]
        hold = sum(r.outcome.held for r in ran)
        lines.append(f"| {area} | {len(rows)} | {hold} | {len(ran) - hold} | "
                     f"{len(rows) - len(ran)} |")
    ran = [r for r in results if not r.outcome.skipped]
    hold = sum(r.outcome.held for r in ran)
    lines.append(f"| **all** | {len(results)} | {hold} | {len(ran) - hold} | "
                 f"{len(results) - len(ran)} |")
    return lines


def details(results: list[Result]) -> list[str]:
    """One line per attempt: held or not, and what it found."""
    lines = ["| area | attempt | outcome | what happened |", "|---|---|---|---|"]
    for r in results:
        mark = ("not run: " + (r.outcome.skipped or "") if r.outcome.skipped
                else "holds" if r.outcome.held else "**FAILS**")
        detail = r.outcome.detail.replace("|", "\\|").replace("\n", " ")[:200]
        lines.append(f"| {r.attempt.area} | {r.attempt.name} | {mark} | {detail} |")
    return lines
