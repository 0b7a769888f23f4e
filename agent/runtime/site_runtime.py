"""SiteRuntime: the one composition root. Every face (CLI commands, the service the
terminal UI holds, triage, handover, the harness, the tests) builds the site's parts
here, from settings, each on first use and once, and closes them in reverse order.

Test doubles (a ScriptedModel, an endpoint, a PolicyGate, a clock, an embedder) enter
through the constructor, never by patching. Opening the site or a network connection
installs the egress guard with the site's allowlist first, whatever the command.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from agent.audit import AuditLog
from agent.errors import ModelError, ModelOutputError, OpcUaError
from agent.handover.sources import ShiftSources
from agent.handover.unloaded import UnloadedModel
from agent.llm.base import ChatModel
from agent.llm.factory import build_chat_model, expected_model
from agent.pipeline.runner import Agent
from agent.policy.decision import PolicyGate
from agent.qualification.gate import ensure_qualified
from agent.runtime.agent import build_agent
from agent.runtime.egress import check_inference_egress
from agent.runtime.parts import Parts
from agent.runtime.plant_parts import PlantParts
from agent.runtime.site_parts import PassphraseSource
from agent.runtime.stores import SiteBlobStore
from agent.runtime.triage import build_triage
from agent.settings import Settings
from agent.triage.service import TriageService
from agent.triage.watcher import WatchRules
from agent.triage.writer import ModelWriter, ReportWriter, TemplateWriter
from agent.twin.embeddings.runtime import Embedder
from agent.vault.wrapping import KdfParams
from tools.context import utcnow
from tools.opcua.alarms import event_log


class SiteRuntime(PlantParts):
    """The parts of one site, opened on demand. Use it as a context manager (``with``
    for commands that only use the site's stores, ``async with`` once a connection or a
    model may be opened); everything it opened is closed on exit, newest first.

    ``passphrase``: the site's passphrase, or a callable asked for it at unlock (None
    reads PLANTAGENT_PASSPHRASE; demo key-file sites need none). ``endpoint`` overrides
    ``opcua.endpoint``. ``model``, ``gate`` and ``embedder`` are used as given and never
    closed here (tests pass a ScriptedModel; ``gate`` replaces the policy engine and the
    per-role budgets). ``clock`` is the time of the tools, approvals and triage.
    ``audit_options`` go to the audit log (clock, checkpoint_every, export_dir).
    ``notify`` hears what the runtime decided on its own (a model that would not load,
    so the template writes). ``recover_audit`` (a person's reason and name) opens an
    audit log that would be refused as it is found, on record (`plantagent recover`).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        passphrase: str | PassphraseSource | None = None,
        endpoint: str | None = None,
        model: ChatModel | None = None,
        gate: PolicyGate | None = None,
        embedder: Embedder | None = None,
        clock: Callable[[], datetime] = utcnow,
        plant_name: str = "the plant",
        audit_options: dict[str, Any] | None = None,
        notify: Callable[[str], None] | None = None,
        recover_audit: dict[str, Any] | None = None,
        people_kdf: KdfParams | None = None,
    ) -> None:
        self.settings = settings
        self.endpoint = endpoint
        self.plant_name = plant_name
        self.clock = clock
        self._passphrase = passphrase
        self._model = model
        self._gate = gate
        self._embedder = embedder
        self._audit_options = dict(audit_options or {})
        self._notify = notify or (lambda _text: None)
        self._parts = Parts()
        #: Why the alarm journal could not subscribe the last time it was asked (None: it
        #: records, or was never asked).
        self.journal_problem: OpcUaError | None = None
        self._log: AuditLog | None = None
        self._recover_audit = recover_audit
        self._people_kdf = people_kdf

    # -- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> SiteRuntime:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    async def __aenter__(self) -> SiteRuntime:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    def close(self) -> None:
        """Close what was opened, newest first (no connection may be open: aclose)."""
        self._parts.close()

    async def aclose(self) -> None:
        """Close what was opened, newest first."""
        await self._parts.aclose()

    def opened(self) -> list[str]:
        """The parts opened so far, in order (for status lines and tests)."""
        return self._parts.opened()

    # -- the model, the agent, triage, handover -------------------------------------------

    def check_model(self) -> None:
        """Refuse the model this runtime would use when the policy wants a qualified model
        and it has no passing record; before any (slow) load."""
        if self._model is not None:
            name, sha256 = self._model.info.name, self._model.info.sha256
        else:
            name, sha256 = expected_model(self.settings)
        ensure_qualified(self.policy.qualification, self.settings.home, name, sha256,
                         audit=lambda: self.audit)

    async def chat_model(self) -> ChatModel:
        """The chat model: the one given, or the site's (its prefix state in the site's
        encrypted blobs), after the qualification gate."""
        async def load() -> ChatModel:
            self.check_model()
            if self._model is not None:
                return self._model
            check_inference_egress(self.settings, self.guard.policy)
            store = SiteBlobStore(self.site)
            return await asyncio.to_thread(build_chat_model, self.settings, store)

        closer = None if self._model is not None else _close_model
        return await self._parts.aget("model", load, closer=closer)

    async def agent(self) -> Agent:
        """The agent: every tool the site has the data for, the policy deciding."""
        async def build() -> Agent:
            # The order a failure is met in: the site, the plant, then the (slow) model.
            audit, approvals, engine = self.audit, self.approvals, self.engine
            connection, catalog = await self.connection(), await self.catalog()
            twin, knowledge = self.twin, self.knowledge
            return build_agent(
                self.settings, model=await self.chat_model(), connection=connection,
                catalog=catalog, twin=twin, knowledge=knowledge, policy=self.policy,
                engine=engine, approvals=approvals, audit=audit, gate=self._gate,
                clock=self.clock, plant_name=self.plant_name)

        return await self._parts.aget("agent", build)

    async def report_writer(self, *, use_model: bool) -> ReportWriter:
        """Who writes triage summaries: the model when asked for and it loads, else the
        template (said through ``notify``). A model the policy refuses stops here."""
        if not use_model:
            return TemplateWriter()
        self.check_model()
        try:
            model = await self.chat_model()
        except ModelError as exc:
            self._notify(f"no local model ({exc.message}); using the template writer")
            return TemplateWriter()
        catalog = await self.catalog()
        return ModelWriter(model, tag_names=catalog.tag_names(),
                           equipment_names=catalog.equipment_names(),
                           plant_name=self.plant_name)

    async def triage(self, *, writer: ReportWriter | None = None, events: bool = False,
                     rules: WatchRules | None = None) -> TriageService:
        """The triage service (template writer unless ``writer``); ``events`` follows the
        server's alarm events as they come; ``rules`` replace the site's."""
        async def build() -> TriageService:
            connection, catalog = await self.connection(), await self.catalog()
            log = await event_log(connection, catalog) if events else None
            return build_triage(
                self.settings, connection=connection, catalog=catalog, reports=self.reports,
                audit=self.audit, writer=writer or TemplateWriter(), knowledge=self.knowledge,
                events=log, rules=rules, clock=self.clock)

        return await self._parts.aget("triage", build)

    async def shift_sources(self, model: ChatModel | None = None) -> ShiftSources:
        """What a handover reads. Its model is ``model``, else the chat model; one that
        will not load leaves the template to write (said through ``notify``)."""
        async def build() -> ShiftSources:
            writer = model or await self._model_or_unloaded()
            return ShiftSources(
                audit=self.audit, approvals=self.approvals, reports=self.reports,
                connection=await self.connection(), catalog=await self.catalog(),
                model=writer, settings=self.settings, plant_name=self.plant_name,
                alarm_store=self.alarm_store, alarms_policy=self.policy.alarms)

        return await self._parts.aget("shift_sources", build)

    async def _model_or_unloaded(self) -> ChatModel:
        try:
            return await self.chat_model()
        except ModelOutputError:
            raise
        except ModelError as exc:
            self._notify(f"no local model ({exc.message}); using the template")
            return UnloadedModel(exc.message)


def _close_model(model: ChatModel) -> None:
    model.close()
