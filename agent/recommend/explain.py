"""A recommendation in words (for people) and as plain data (for ``--json``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.recommend.decide import Recommendation, Verdict, gib


def _params(v: Verdict) -> str:
    return f"{v.parameters / 1e9:.2f} B weights" if v.parameters else "size unknown"


def _why_chosen(r: Recommendation, v: Verdict) -> str:
    cost, needs, m = r.needs.cost, r.needs, r.machine
    assert v.speed is not None and v.typical_s is not None and v.demanding_s is not None
    others = [o for o in r.verdicts if o is not v and o.recommendable]
    rank = ("the largest approved chat model that" if not others or all(
        (o.parameters or 0) <= (v.parameters or 0) for o in others)
        else "the largest qualified approved chat model that")  # fmt: skip
    run = ", or its qualification run where that was slower" if v.observed else ""
    return (
        f"Recommended: {v.name} with {v.threads} thread{'s' * ((v.threads or 1) > 1)}. It is "
        f"{rank} fits this machine (about {gib(v.memory_need)} of the "
        f"{gib(m.memory_available)} free now, {gib(m.memory_total)} in all, {m.cores} cores) "
        f"and answers well within the budget: a typical question "
        f"({cost.typical.prompt_tokens:.0f} prompt tokens, {cost.typical.gen_tokens:.0f} "
        f"generated) takes about {v.typical_s:.0f} s and a demanding one "
        f"({cost.demanding.prompt_tokens:.0f}, {cost.demanding.gen_tokens:.0f}) about "
        f"{v.demanding_s:.0f} s, against {needs.budget_s:.0f} s per question (from the "
        f"speed measured here: prompt {v.speed.prompt_tps:.0f} tokens/s, generation "
        f"{v.speed.gen_tps:.1f} tokens/s{run})."
    )


def explain(r: Recommendation, *, settings_file: Path | None = None) -> list[str]:
    """Paragraphs: the choice and why, how to switch, and why each other model is not it."""
    out: list[str] = []
    v = r.chosen
    if v is None:
        out.append("No approved chat model can be recommended for this machine:")
    else:
        out.append(_why_chosen(r, v) + " " + _qualification_words(v))
        for note in v.notes:
            out.append(f"Note: {note}.")
        where = settings_file or "plantagent.toml"
        if r.current == v.name:
            out.append(f"This site already runs it ([model] name in {where}); set "
                       f"threads = {v.threads} there if it differs.")  # fmt: skip
        else:
            out.append(f"This site runs {r.current} now. To switch, set in {where}: "
                       f'[model] name = "{v.name}" and threads = {v.threads} '
                       f"(or PLANTAGENT_MODEL__NAME={v.name}), then restart the agent.")
    for other in r.verdicts:
        if other is v:
            continue
        if other.recommendable and v is not None:
            why = _not_chosen(other, v)
        else:
            why = "; ".join(other.blockers) or "not measured"
        verdict = "not chosen" if other.recommendable else "not recommended"
        line = f"{other.name} ({_params(other)}): {verdict}: {why}."
        if other.notes and not other.recommendable:
            line += " " + " ".join(f"Also: {n}." for n in other.notes)
        out.append(line)
    cost = r.needs.cost
    out.append(f"Question cost from {cost.source}; budget from the policy for this role; "
               f"a model must answer a demanding question within 1/{r.needs.headroom:g} of "
               "the budget.")
    return out


def _qualification_words(v: Verdict) -> str:
    if v.qualification == "qualified":
        return f"It passed qualification on this site ({v.qualification_detail})."
    return ("It has not been qualified on this site: run `plantagent models qualify "
            f"{v.name}` before relying on it.")


def _not_chosen(other: Verdict, chosen: Verdict) -> str:
    if (other.parameters or 0) > (chosen.parameters or 0) and other.qualification != "qualified":
        return ("it is larger and fits, but has not been qualified on this site; qualify it "
                f"(`plantagent models qualify {other.name}`) and it will be recommended")
    if (other.parameters or 0) < (chosen.parameters or 0):
        return f"smaller than {chosen.name}"
    return f"{chosen.name} answers faster"


def as_data(r: Recommendation) -> dict[str, Any]:
    """The recommendation as plain JSON-able data."""
    m, needs = r.machine, r.needs
    return {
        "recommended": r.chosen.name if r.chosen else None,
        "threads": r.chosen.threads if r.chosen else None,
        "current": r.current,
        "machine": {"cpu": m.cpu, "cores": m.cores, "memory_total": m.memory_total,
                    "memory_available": m.memory_available, "load_1min": m.load_1min,
                    "machine_id": m.machine_id},
        "needs": {"budget_s": needs.budget_s, "headroom": needs.headroom,
                  "require_qualified": needs.require_qualified,
                  "typical": vars(needs.cost.typical), "demanding": vars(needs.cost.demanding),
                  "cost_source": needs.cost.source},
        "models": [_verdict_data(v) for v in r.verdicts],
        "explanation": explain(r),
    }  # fmt: skip


def _verdict_data(v: Verdict) -> dict[str, Any]:
    s = v.speed
    return {
        "name": v.name, "recommendable": v.recommendable, "qualification": v.qualification,
        "parameters": v.parameters, "memory_need": v.memory_need, "threads": v.threads,
        "typical_s": _round(v.typical_s), "demanding_s": _round(v.demanding_s),
        "prompt_tps": _round(s.prompt_tps if s else None),
        "gen_tps": _round(s.gen_tps if s else None),
        "measured_at": s.measured_at if s else None,
        "speeds": [{"threads": f.threads, "prompt_tps": round(f.prompt_tps, 2),
                    "gen_tps": round(f.gen_tps, 2), "load_1min": f.load_1min,
                    "measured_at": f.measured_at} for f in v.measured],
        "blockers": list(v.blockers), "notes": list(v.notes),
    }  # fmt: skip


def _round(x: float | None) -> float | None:
    return round(x, 2) if x is not None else None


def table(r: Recommendation) -> str:
    """One line per model: size, memory, measured speed, predicted times, verdict."""
    m = r.machine
    head = (f"machine: {m.cpu}, {m.cores} cores, {gib(m.memory_total)} "
            f"({gib(m.memory_available)} free), load {m.load_1min:.1f}; budget "
            f"{r.needs.budget_s:.0f} s per question"
            f"{', qualification required' if r.needs.require_qualified else ''}")  # fmt: skip
    rows = [head, f"{'model':<38} {'weights':>7} {'memory':>8} {'thr':>3} {'prompt/s':>8} "
                  f"{'gen/s':>6} {'typical':>8} {'demand':>7}  {'qualified':<13} verdict"]
    for v in r.verdicts:
        s = v.speed
        verdict = ("RECOMMENDED" if v is r.chosen else
                   "ok" if v.recommendable else "no")  # fmt: skip
        rows.append(
            f"{v.name:<38} {(f'{v.parameters / 1e9:.2f}B' if v.parameters else '?'):>7} "
            f"{gib(v.memory_need):>8} {v.threads or '-':>3} "
            f"{(f'{s.prompt_tps:.0f}' if s else '-'):>8} {(f'{s.gen_tps:.1f}' if s else '-'):>6} "
            f"{(f'{v.typical_s:.0f} s' if v.typical_s is not None else '-'):>8} "
            f"{(f'{v.demanding_s:.0f} s' if v.demanding_s is not None else '-'):>7}  "
            f"{v.qualification.replace('_', ' '):<13} {verdict}"
        )  # fmt: skip
    return "\n".join(rows) + "\n"
