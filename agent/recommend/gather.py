"""Collecting the facts the decision needs from a site: the approved chat models, their
files, speeds (measured now or cached), memory, qualification, the policy's budget."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agent.errors import ModelError
from agent.llm.gguf_layout import read_header
from agent.llm.registry import ModelEntry, load_manifest
from agent.llm.verify import VerificationCache, verify_file
from agent.policy import load_policy
from agent.qualification.record import QualificationRecord
from agent.qualification.store import QualificationStore
from agent.recommend.cost import site_profile
from agent.recommend.decide import ModelFacts, Needs, Observed, QualState
from agent.recommend.machine import MachineFacts, read_machine
from agent.recommend.memory import kv_bytes_per_token, memory_need
from agent.recommend.speed import SpeedCache, SpeedFigures, measure_speed
from agent.settings import Settings

#: Thread counts measured by default (capped at the cores this process may use).
DEFAULT_THREADS = (1, 2)
#: The measurer: (model name, verified path, thread counts) -> figures. Tests pass their own.
Measurer = Callable[[str, ModelEntry, list[int]], list[SpeedFigures]]
Note = Callable[[str], None]


@dataclass(frozen=True)
class SiteFacts:
    """Everything :func:`agent.recommend.decide.recommend` takes."""

    models: list[ModelFacts]
    machine: MachineFacts
    needs: Needs
    current: str


def needs_of(settings: Settings) -> Needs:
    """The budget of a question for the site's role (lowered by agent.time_budget_s), the
    cost of a question on this site, and whether the policy requires qualification."""
    policy = load_policy(settings.home).policy
    budget = min(policy.budget(settings.agent.role).seconds_per_question,
                 settings.agent.time_budget_s)  # fmt: skip
    return Needs(budget_s=budget, cost=site_profile(settings.home),
                 require_qualified=policy.qualification.require_qualified)  # fmt: skip


def observed_times(record: QualificationRecord | None) -> Observed | None:
    """Question times of a qualification run (questions the model took part in)."""
    if record is None:
        return None
    seconds = [a.seconds for a in record.ask if a.model_steps > 0]
    if not seconds:
        return None
    return Observed(mean_s=sum(seconds) / len(seconds), max_s=max(seconds),
                    threads=record.threads)  # fmt: skip


def qualification_state(record: QualificationRecord | None) -> tuple[QualState, str]:
    """The state of a model file's newest record, and words on it."""
    if record is None:
        return "never", ""
    run = f"{'quick ' if record.quick else ''}run of {record.started[:16]}"
    if record.qualified:
        answers = record.metrics.get("answer_rate")
        shown = f", answers {answers:.0%}" if answers is not None else ""
        return "qualified", f"{run}{shown}"
    failed = ", ".join(f"{c.name} {c.value:.3g}" for c in record.failed_criteria())
    return "not_qualified", f"{run}: {failed or 'incomplete run'}"


def _default_measurer(settings: Settings, cache: VerificationCache) -> Measurer:
    def run(name: str, entry: ModelEntry, threads: list[int]) -> list[SpeedFigures]:
        path = entry.path_in(settings.models_dir)
        verify_file(entry, path, cache=cache)  # never load an unverified file, not to time it
        return measure_speed(name, path, threads)

    return run


def _file_state(entry: ModelEntry, settings: Settings, cache: VerificationCache,
                note: Note | None) -> tuple[bool, str]:  # fmt: skip
    """(verified and present, what is wrong otherwise)."""
    path = entry.path_in(settings.models_dir)
    if not path.is_file():
        return False, ""
    if note is not None and not cache.is_verified(path, entry.sha256):
        note(f"checking {entry.name} ({entry.size / 1e6:.0f} MB)...")
    try:
        verify_file(entry, path, cache=cache)
    except ModelError as exc:
        return False, exc.message
    return True, ""


def gather(settings: Settings, *, measure: bool = False,
           threads: tuple[int, ...] = DEFAULT_THREADS, measurer: Measurer | None = None,
           machine: MachineFacts | None = None, note: Note | None = None) -> SiteFacts:  # fmt: skip
    """The site's facts. A present model without figures for this machine is measured
    now; with ``measure`` every present model is measured again."""
    machine = machine or read_machine()
    verification = VerificationCache()
    measurer = measurer or _default_measurer(settings, verification)
    wanted = sorted({t for t in threads if 1 <= t <= machine.cores} or {1})
    cache = SpeedCache(settings.home)
    store = QualificationStore(settings.home)
    n_ctx_site = settings.model.context_tokens
    models = []
    for entry in load_manifest(settings).entries():
        if entry.role != "chat":
            continue
        path = entry.path_in(settings.models_dir)
        present, problem = _file_state(entry, settings, verification, note)
        header = read_header(path) if present else None
        speeds = cache.get(entry.sha256, machine.machine_id) if present else []
        missing = wanted if measure else [t for t in wanted
                                          if t not in {s.threads for s in speeds}]  # fmt: skip
        if present and missing:
            if note is not None:
                note(f"measuring {entry.name} with {', '.join(map(str, missing))} thread(s)...")
            fresh = measurer(entry.name, entry, missing)
            cache.put(entry.name, entry.sha256, machine.machine_id, fresh)
            speeds = cache.get(entry.sha256, machine.machine_id)
        n_ctx = min(n_ctx_site, entry.context_length)
        measured = max(speeds, key=lambda s: s.memory_bytes) if speeds else None
        record = store.for_sha(entry.sha256)
        state, detail = qualification_state(record)
        models.append(ModelFacts(
            name=entry.name, file_size=entry.size, present=present, file_problem=problem,
            memory_need=memory_need(entry.size, kv_bytes_per_token(header) if header else 0,
                                    n_ctx, measured.memory_bytes if measured else None,
                                    measured.n_ctx if measured else None),
            memory_measured=measured is not None and measured.memory_bytes > 0,
            parameters=header.parameters if header else None,
            speeds=tuple(s for s in speeds if s.threads in wanted),
            qualification=state, qualification_detail=detail,
            observed=observed_times(record),
        ))  # fmt: skip
    return SiteFacts(models, machine, needs_of(settings), settings.model.name)
