"""The agent service: what a user interface talks to, and the only thing it talks to.

It holds the agent and the site's parts the screens read (built by the site runtime:
site, audit log, OPC UA connection, model), the plant monitor behind the live plant
screen, the triage watcher in the background and the review backend of the alarms,
approvals, audit and handover screens. Every method is async and keeps blocking work off
the event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from agent.audit import AuditLog
from agent.errors import PlantAgentError
from agent.handover.sources import ShiftSources
from agent.people.identity import Asker, choose_role, os_account
from agent.pipeline.answer import AgentAnswer
from agent.pipeline.events import AgentEvent
from agent.pipeline.runner import Agent
from agent.runtime import SiteRuntime
from agent.service.citations import citation_views
from agent.service.plant_monitor import PlantMonitor
from agent.service.review import ReviewService
from agent.service.speed import TokenMeter
from agent.service.triage_runner import TriageRunner
from agent.service.views import CitationView, PlantSnapshot, ServiceStatus, TrendView
from agent.settings import Settings
from agent.site_time import zone_of
from agent.triage.store import ReportStore
from agent.triage.writer import ReportWriter, TemplateWriter
from agent.vault.egress import installed_guard
from tools.context import utcnow

#: Called on the event loop thread with each progress event of a question.
EventHandler = Callable[[AgentEvent], None]


class QuestionCancelled(Exception):
    """Raised in the model's token callback to stop a cancelled question's step early."""


class AgentService:
    """The agent and the site seen from a screen; build it with :func:`open_service`."""

    def __init__(self, agent: Agent, sources: ShiftSources, monitor: PlantMonitor,
                 review: ReviewService, triage: TriageRunner | None = None,
                 asker: Asker | None = None) -> None:
        self.agent = agent
        #: Who asks through this service: the register's person (SiteRuntime.asker).
        self.asker = asker
        #: The site's parts the screens read (audit, approvals, reports, plant, model).
        self.sources = sources
        self.monitor = monitor
        self.triage = triage
        #: The alarms, approvals, audit and handover backend (typed optional for the panes'
        #: protocol; always set here).
        self.review: ReviewService | None = review
        self._question_lock = asyncio.Lock()
        self._tokens_per_s: float | None = None

    @property
    def settings(self) -> Settings:
        """The settings the service runs with."""
        return self.sources.settings

    @property
    def audit(self) -> AuditLog:
        """The site's audit log."""
        return self.sources.audit

    @property
    def reports(self) -> ReportStore | None:
        """The site's triage reports."""
        return self.sources.reports

    @property
    def user(self) -> str:
        """Who asks: the enrolled person of the OS account running the service (the
        settings' agent.user only on a site where nobody is enrolled)."""
        return self.asker.name if self.asker is not None else self.settings.agent.user

    @property
    def role(self) -> str:
        """Their role as the policy names it (one of their own in the register)."""
        return self.asker.role if self.asker is not None else self.settings.agent.role

    async def ask(self, question: str, on_event: EventHandler, *, actor: str | None = None,
                  role: str | None = None) -> AgentAnswer:
        """Answer ``question`` as ``actor`` in ``role`` (default: the configured user and
        role; the site service passes the caller's), reporting progress to ``on_event``
        (always on the event loop thread, tokens included).

        Cancel the awaiting task to stop: the model step in flight is cut at its next
        token, the cancellation is audited, and the service takes the next question.
        One question runs at a time; a second waits for the first.
        """
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        cancelled = threading.Event()
        meter = TokenMeter()
        actor, role = actor or self.user, role or self.role

        def relay(event: AgentEvent) -> None:
            if threading.get_ident() == loop_thread:
                if event.kind == "status":
                    meter.step_done()  # a status line comes before each model step
                on_event(event)
                return
            if cancelled.is_set():
                raise QuestionCancelled(question)
            if event.kind == "token" and event.text:
                meter.token()
            loop.call_soon_threadsafe(on_event, event)

        async with self._question_lock:
            try:
                answer = await self.agent.ask(
                    question, actor=actor, role=role, on_event=relay
                )
            except asyncio.CancelledError:
                cancelled.set()
                await asyncio.to_thread(
                    self.audit.append, "answer", actor,
                    {"question": question, "outcome": "cancelled",
                     "note": "cancelled by the user before an answer"},
                    role=role,
                )
                raise
        meter.step_done()
        self._tokens_per_s = meter.tokens_per_s or self._tokens_per_s
        return answer

    async def citations(self, answer: AgentAnswer) -> list[CitationView]:
        """The evidence each citation of ``answer`` points to, ready to show."""
        return citation_views(answer, self.monitor.series)

    async def plant_snapshot(self) -> PlantSnapshot:
        """Every equipment with live values, limits, quality and a short history."""
        return await self.monitor.snapshot()

    async def trend(self, tag: str, hours: float) -> TrendView:
        """``tag``'s good numeric samples over the last ``hours`` from the plant's server
        (its history), with its normal range; UsageError for an unknown tag, OpcUaError
        when the server cannot answer."""
        from tools.opcua.history import read_raw

        info = self.sources.catalog.tag(tag)
        end = self.review.clock() if self.review is not None else utcnow()
        start = end - timedelta(hours=hours)
        points, truncated = await read_raw(self.sources.connection, info, start, end,
                                           self.settings.opcua.max_history_points)
        good = [(p.time, float(p.value)) for p in points if p.time is not None
                and isinstance(p.value, int | float) and not isinstance(p.value, bool)]
        return TrendView(tag=tag, unit=info.unit, low=info.eu_low, high=info.eu_high,
                         start=start, end=end, times=tuple(t for t, _ in good),
                         values=tuple(v for _, v in good), truncated=truncated)

    async def status(self) -> ServiceStatus:
        """Model and speed, OPC UA state, egress guard, user and role."""
        return ServiceStatus(
            model=self.sources.model.info.name,
            tokens_per_s=self._tokens_per_s,
            connection=self.monitor.tracker.state,
            endpoint=self.sources.connection.endpoint,
            egress=egress_state(),
            user=self.user,
            role=self.role,
            triage=self.triage.last if self.triage else None,
        )


def egress_state() -> str:
    """'on-site only' with what it allows, or 'OFF' when no guard is installed."""
    guard = installed_guard()
    if guard is None:
        return "OFF"
    networks = len(guard.policy.networks)
    extra = f" +{networks} net" if networks else ""
    return f"on-site only{extra}"


def shown_approver(runtime: SiteRuntime) -> tuple[str, str] | None:
    """(name, role) of the person the UI's decisions are signed as (the OS account's),
    shown without unlocking their key; None when nobody is enrolled or not this account."""
    people = runtime.people
    if people.empty():
        return None
    person = people.by_account(os_account())
    if person is None or person.disabled:
        return None
    try:
        return person.name, choose_role(person, None, runtime.settings.agent.role)
    except PlantAgentError:
        return person.name, ", ".join(person.roles)


@asynccontextmanager
async def open_service(
    runtime: SiteRuntime,
    *,
    triage: bool = True,
    triage_model: bool = False,
    triage_interval_s: float | None = None,
    wrap_writer: Callable[[ReportWriter], ReportWriter] | None = None,
    for_this_account: bool = True,
) -> AsyncIterator[AgentService]:
    """The agent service over ``runtime`` (which the caller opened and closes: tests
    give it a ScriptedModel), with (``triage``) the triage watcher in the background,
    stopped on exit.

    ``triage_model`` lets the watcher write its reports with the agent's model (it then
    competes with questions for it); by default the template writes them, so a
    background report never holds the one local model while the shift lead waits. The
    watcher's interval is ``triage_interval_s`` or the site's ``[triage] interval_s``.
    ``wrap_writer`` wraps a model writer (the site service puts it in its fair queue).
    ``for_this_account``: the person of this process's OS account asks (the terminal UI;
    an account the site does not let ask stops here); False for the site service, which
    runs under its own account and names the asker of each question from the caller's.
    """
    asker = runtime.asker() if for_this_account else None
    agent = await runtime.agent()
    sources = await runtime.shift_sources()
    monitor = PlantMonitor(sources.connection, sources.catalog, runtime.settings.opcua,
                           clock=runtime.clock, zone=zone_of(runtime.settings.site))
    runner: TriageRunner | None = None
    if triage:
        writer = await runtime.report_writer(use_model=triage_model)
        if wrap_writer is not None and not isinstance(writer, TemplateWriter):
            writer = wrap_writer(writer)
        watcher = await runtime.triage(writer=writer, events=True)
        runner = TriageRunner(watcher, interval_s=triage_interval_s
                              or runtime.settings.triage.interval_s)
    review = ReviewService(sources, runtime.twin, clock=runtime.clock,
                           alarm_desk=runtime.alarm_desk, acting=runtime.acting,
                           shown_as=shown_approver(runtime))
    service = AgentService(agent, sources, monitor, review, runner, asker)
    await runtime.alarm_journal()  # records the server's alarm events while the site is open
    # The prompt prefix is evaluated while the person reads the screen, not when they ask.
    warming = asyncio.create_task(_warm(agent), name="warm the model's prompt prefix")
    if runner is not None:
        runner.start()
    try:
        yield service
    finally:
        if runner is not None:
            await runner.stop()
        await warming


async def _warm(agent: Agent) -> None:
    """The model's prefix evaluated ahead of the first question; a failure here is the
    first question's to report, not the start's."""
    try:
        await agent.warm()
    except Exception:  # noqa: BLE001 - the question path reports model errors with a fix
        return
