"""Which approved chat model this machine should run: a pure decision over figures
measured elsewhere (machine, speeds, qualification), so it is tested without a model.

A model is recommendable when
- its file is here (nothing unmeasured is recommended),
- it fits in the memory free now, with a reserve for the rest of the agent,
- a demanding question takes at most ``1 / headroom`` of the per-question budget at the
  speed measured here (headroom, because the machine is shared and a forward pass varies
  threefold under load: see agent/llm/README.md),
- it has not failed qualification on this site, and has passed it when the policy
  requires that.
Among those, a qualified model comes before one never qualified (run the qualification
before relying on a model), then the larger (more parameters answer better), then the
faster. The thread count is the measured one that answers fastest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agent.recommend.cost import CostProfile, QuestionCost
from agent.recommend.machine import MachineFacts
from agent.recommend.speed import SpeedFigures

GIB = 2**30
#: Kept free for everything else the agent runs (twin, stores, embeddings, UI).
MEMORY_RESERVE = GIB
#: A demanding question may use at most 1/HEADROOM of the budget.
HEADROOM = 2.0

QualState = Literal["qualified", "not_qualified", "never"]


@dataclass(frozen=True)
class Observed:
    """Question times the model's qualification run measured on this site."""

    mean_s: float
    max_s: float
    threads: int


@dataclass(frozen=True)
class ModelFacts:
    """What is known about one approved chat model on this machine."""

    name: str
    file_size: int
    present: bool
    #: Why a file that is there does not count as present (wrong size or sha256).
    file_problem: str = ""
    #: Bytes it needs at the site's context size (measured when speeds were measured).
    memory_need: int = 0
    memory_measured: bool = False
    parameters: int | None = None
    speeds: tuple[SpeedFigures, ...] = ()
    qualification: QualState = "never"
    #: Words on the qualification record: the run, or the failed criteria.
    qualification_detail: str = ""
    observed: Observed | None = None


@dataclass(frozen=True)
class Needs:
    """What an answer needs: the budget, a question's cost, the policy's rule."""

    budget_s: float
    cost: CostProfile
    require_qualified: bool
    headroom: float = HEADROOM
    memory_reserve: int = MEMORY_RESERVE


@dataclass(frozen=True)
class Verdict:
    """One model judged: recommendable or not, why, and its predicted times."""

    name: str
    recommendable: bool
    qualification: QualState
    qualification_detail: str
    parameters: int | None
    memory_need: int
    threads: int | None = None
    typical_s: float | None = None
    demanding_s: float | None = None
    speed: SpeedFigures | None = None
    #: Every figure measured here, by thread count.
    measured: tuple[SpeedFigures, ...] = ()
    #: The qualification run's question times, when there is one.
    observed: Observed | None = None
    #: Why it is not recommendable (empty when it is).
    blockers: tuple[str, ...] = ()
    #: Worth knowing either way.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recommendation:
    """The chosen model (None when none qualifies) and every model's verdict."""

    chosen: Verdict | None
    verdicts: tuple[Verdict, ...]
    machine: MachineFacts
    needs: Needs
    current: str


def gib(n: float) -> str:
    """Bytes as GiB with one decimal."""
    return f"{n / GIB:.1f} GiB"


def _fastest(speeds: tuple[SpeedFigures, ...], cores: int,
             cost: QuestionCost) -> SpeedFigures | None:  # fmt: skip
    usable = [s for s in speeds if s.threads <= cores]
    if not usable:
        return None
    return min(usable, key=lambda s: s.seconds_for(cost.prompt_tokens, cost.gen_tokens))


def judge(model: ModelFacts, machine: MachineFacts, needs: Needs) -> Verdict:
    """One model's verdict on this machine."""
    blockers: list[str] = []
    notes: list[str] = []
    fetch = f"`plantagent models fetch {model.name}`"
    if model.file_problem:
        blockers.append(f"{model.file_problem} (delete it and run {fetch})")
    elif not model.present:
        blockers.append(f"its file is not on this machine, so its speed cannot be measured "
                        f"(assemble it with {fetch}, then measure)")  # fmt: skip
    free = machine.memory_available - needs.memory_reserve
    if model.memory_need > machine.memory_total - needs.memory_reserve:
        blockers.append(f"it needs about {gib(model.memory_need)}, more than this machine "
                        f"has ({gib(machine.memory_total)} in all, {gib(needs.memory_reserve)} "
                        "kept for the rest of the agent)")  # fmt: skip
    elif model.memory_need > free:
        blockers.append(f"it needs about {gib(model.memory_need)}, but only "
                        f"{gib(machine.memory_available)} of {gib(machine.memory_total)} are "
                        f"free now ({gib(needs.memory_reserve)} kept for the rest of the agent)")
    if model.qualification == "not_qualified":
        blockers.append(f"it failed qualification on this site ({model.qualification_detail})")
    elif model.qualification == "never":
        text = (f"it has never been qualified on this site (run `plantagent models qualify "
                f"{model.name}`)")
        (blockers if needs.require_qualified else notes).append(
            text + (" and the policy requires it" if needs.require_qualified else ""))
    speed = _fastest(model.speeds, machine.cores, needs.cost.demanding)
    if model.present and speed is None:
        blockers.append("its speed has not been measured on this machine (run "
                        "`plantagent models recommend --measure`)")
    typical = demanding = None
    if speed is not None:
        cost = needs.cost
        typical = speed.seconds_for(cost.typical.prompt_tokens, cost.typical.gen_tokens)
        demanding = speed.seconds_for(cost.demanding.prompt_tokens, cost.demanding.gen_tokens)
        if model.observed is not None:
            # The whole pipeline measured on this site beats a prediction from tokens when
            # it was slower (other work in the process, longer contexts, retried steps).
            mean_s, max_s = _observed(model.observed, model.speeds, speed)
            typical, demanding = max(typical, mean_s), max(demanding, max_s)
            seen = model.observed
            notes.append(f"its qualification run here took {seen.mean_s:.0f} s a question on "
                         f"average and {seen.max_s:.0f} s at most ({seen.threads} "
                         f"thread{'s' * (seen.threads > 1)})")  # fmt: skip
        _check_speed(speed, demanding, machine, needs, blockers, notes)
    return Verdict(
        name=model.name, recommendable=not blockers, qualification=model.qualification,
        qualification_detail=model.qualification_detail,
        parameters=model.parameters, memory_need=model.memory_need,
        threads=speed.threads if speed else None, typical_s=typical, demanding_s=demanding,
        speed=speed, measured=model.speeds, observed=model.observed,
        blockers=tuple(blockers), notes=tuple(notes),
    )  # fmt: skip


def _observed(seen: Observed, speeds: tuple[SpeedFigures, ...],
              speed: SpeedFigures) -> tuple[float, float]:  # fmt: skip
    """The qualification run's (mean, slowest) question seconds at ``speed``'s thread
    count: scaled by the measured generation speeds of the two counts when both are known."""
    at_run = next((s for s in speeds if s.threads == seen.threads), None)
    scale = at_run.gen_tps / speed.gen_tps if at_run is not None else 1.0
    return seen.mean_s * scale, seen.max_s * scale


def _check_speed(speed: SpeedFigures, demanding: float, machine: MachineFacts, needs: Needs,
                 blockers: list[str], notes: list[str]) -> None:  # fmt: skip
    allowed = needs.budget_s / needs.headroom
    if demanding > allowed:
        blockers.append(
            f"a demanding question would take about {demanding:.0f} s at the speed measured "
            f"here ({speed.threads} thread{'s' * (speed.threads > 1)}), more than "
            f"{allowed:.0f} s (the budget of {needs.budget_s:.0f} s per question over "
            f"{needs.headroom:g} for a shared machine)")  # fmt: skip
    if speed.load_1min > machine.cores * 0.75:
        notes.append(f"measured while the machine was busy (load {speed.load_1min:.1f} "
                     f"on {machine.cores} cores): re-measure when it is quiet (--measure)")


def _rank(v: Verdict) -> tuple[int, int, float]:
    return (0 if v.qualification == "qualified" else 1, -(v.parameters or v.memory_need),
            v.demanding_s or 0.0)  # fmt: skip


def recommend(models: list[ModelFacts], machine: MachineFacts, needs: Needs,
              current: str) -> Recommendation:  # fmt: skip
    """Judge every model; choose the first recommendable one by :func:`_rank`."""
    verdicts = [judge(m, machine, needs) for m in models]
    eligible = sorted((v for v in verdicts if v.recommendable), key=_rank)
    chosen = eligible[0] if eligible else None
    ordered = sorted(verdicts, key=lambda v: (v is not chosen, not v.recommendable, _rank(v)))
    return Recommendation(chosen, tuple(ordered), machine, needs, current)
