"""The agent service: what a user interface talks to, and the only thing it talks to.

It holds the open agent session (site, audit log, OPC UA connection, model), the plant
monitor behind the live plant screen, the triage watcher in the background and the review
backend of the alarms, approvals, audit and handover screens. Every method is async and
keeps blocking work off the event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from agent.compose import AgentSession, open_agent
from agent.llm.base import ChatModel
from agent.pipeline.answer import AgentAnswer
from agent.pipeline.events import AgentEvent
from agent.service.citations import citation_views
from agent.service.plant_monitor import PlantMonitor
from agent.service.review import ReviewService
from agent.service.speed import TokenMeter
from agent.service.triage_runner import TriageRunner, build_triage
from agent.service.views import CitationView, PlantSnapshot, ServiceStatus
from agent.settings import Settings
from agent.triage.store import REPORTS_DATABASE, ReportStore
from agent.vault.egress import installed_guard
from tools.context import utcnow

#: Called on the event loop thread with each progress event of a question.
EventHandler = Callable[[AgentEvent], None]


class QuestionCancelled(Exception):
    """Raised in the model's token callback to stop a cancelled question's step early."""


class AgentService:
    """One agent session seen from a screen; build it with :func:`open_service`."""

    def __init__(self, session: AgentSession, settings: Settings, monitor: PlantMonitor,
                 reports: ReportStore, triage: TriageRunner | None = None) -> None:
        self.session = session
        self.settings = settings
        self.monitor = monitor
        self.reports = reports
        self.triage = triage
        #: The alarms, approvals, audit and handover backend (typed optional for the panes'
        #: protocol; always set here).
        self.review: ReviewService | None = ReviewService(session, reports, settings)
        self._question_lock = asyncio.Lock()
        self._tokens_per_s: float | None = None

    @property
    def user(self) -> str:
        """Who asks and approves (settings.agent.user)."""
        return self.settings.agent.user

    @property
    def role(self) -> str:
        """Their role as the policy names it (settings.agent.role)."""
        return self.settings.agent.role

    async def ask(self, question: str, on_event: EventHandler) -> AgentAnswer:
        """Answer ``question`` as the configured user, reporting progress to ``on_event``
        (always on the event loop thread, tokens included).

        Cancel the awaiting task to stop: the model step in flight is cut at its next
        token, the cancellation is audited, and the service takes the next question.
        One question runs at a time; a second waits for the first.
        """
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        cancelled = threading.Event()
        meter = TokenMeter()

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
                answer = await self.session.agent.ask(
                    question, actor=self.user, role=self.role, on_event=relay
                )
            except asyncio.CancelledError:
                cancelled.set()
                await asyncio.to_thread(
                    self.session.audit.append, "answer", self.user,
                    {"question": question, "outcome": "cancelled",
                     "note": "cancelled by the user before an answer"},
                    role=self.role,
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

    async def status(self) -> ServiceStatus:
        """Model and speed, OPC UA state, egress guard, user and role."""
        return ServiceStatus(
            model=self.session.model.info.name,
            tokens_per_s=self._tokens_per_s,
            connection=self.monitor.tracker.state,
            endpoint=self.session.connection.endpoint,
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


@asynccontextmanager
async def open_service(
    settings: Settings,
    *,
    endpoint: str | None = None,
    model: ChatModel | None = None,
    passphrase: str | None = None,
    plant_name: str = "the plant",
    triage: bool = True,
    triage_model: bool = False,
    triage_interval_s: float | None = None,
) -> AsyncIterator[AgentService]:
    """Open the agent session, the reports store and (with ``triage``) the triage
    watcher in the background; close everything on exit, the watcher first.

    ``model`` is used as it is (tests pass a ScriptedModel); otherwise the configured
    local model is loaded. ``triage_model`` lets the triage watcher write its reports
    with that model too (it then competes with questions for it). The watcher's
    interval is ``triage_interval_s`` or the site's ``[triage] interval_s``.
    """
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(open_agent(
            settings, endpoint=endpoint, model=model, passphrase=passphrase,
            plant_name=plant_name,
        ))
        monitor = PlantMonitor(session.connection, session.agent.deps.catalog,
                               settings.opcua, clock=utcnow)
        runner: TriageRunner | None = None
        if triage:
            triage_service = await build_triage(settings, session, use_model=triage_model)
            reports = triage_service.store  # one store (and lock) on the reports database
            runner = TriageRunner(triage_service,
                                  interval_s=triage_interval_s or settings.triage.interval_s)
        else:
            reports = await asyncio.to_thread(
                lambda: ReportStore(session.site.database(REPORTS_DATABASE))
            )
        service = AgentService(session, settings, monitor, reports, runner)
        if runner is not None:
            runner.start()
            stack.push_async_callback(runner.stop)
        yield service
