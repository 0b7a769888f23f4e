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
from pathlib import Path
from types import TracebackType
from typing import Any

import apsw

from agent.alarms.desk import AlarmDesk
from agent.alarms.journal import AlarmJournal
from agent.alarms.store import AlarmStore
from agent.approvals import ApprovalService, ApprovalStore
from agent.approvals.authority import policy_digest
from agent.audit import AuditLog
from agent.audit.recover import recover_audit_log
from agent.audit.site import open_audit_log
from agent.errors import ModelError, ModelOutputError, OpcUaError
from agent.handover.sources import ShiftSources
from agent.handover.unloaded import UnloadedModel
from agent.llm.base import ChatModel
from agent.llm.factory import build_chat_model, expected_model
from agent.people.identity import Acting, Asker, acting, identify_asker
from agent.people.overlays import check_overlays
from agent.people.register import PeopleRegister
from agent.pipeline.runner import Agent
from agent.policy import Policy, PolicyEngine
from agent.policy.decision import PolicyGate
from agent.policy.loader import LoadedPolicy, load_policy, site_sources
from agent.policy.overlay import differences
from agent.qualification.gate import ensure_qualified
from agent.runtime.agent import build_agent
from agent.runtime.alarms import build_desk
from agent.runtime.alarms import open_store as open_alarm_store
from agent.runtime.egress import check_inference_egress, guard_egress, site_witness
from agent.runtime.parts import Parts
from agent.runtime.stores import (
    Knowledge,
    SiteBlobStore,
    TwinStores,
    open_knowledge,
    open_twin_stores,
)
from agent.runtime.triage import build_triage
from agent.settings import Settings
from agent.triage.service import TriageService
from agent.triage.store import ReportStore
from agent.triage.watcher import WatchRules
from agent.triage.writer import ModelWriter, ReportWriter, TemplateWriter
from agent.twin.assets.file import assets_path, load_assets_file
from agent.twin.embeddings.runtime import Embedder, load_embedder
from agent.twin.semantics.infer import cached
from agent.twin.semantics.overrides import apply_site
from agent.vault import EgressGuard, Site, open_site
from agent.vault.layout import (
    APPROVALS_DATABASE,
    PEOPLE_DATABASE,
    REPORTS_DATABASE,
    TWIN_DATABASE,
)
from agent.vault.wrapping import KdfParams
from tools.context import ToolContext, utcnow
from tools.opcua.alarms import event_log
from tools.opcua.browse import browse_catalog
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection, check_endpoint

#: The passphrase of a site, asked for only when the site is unlocked (given its home).
PassphraseSource = Callable[[Path], str | None]


class SiteRuntime:
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

    # -- the site, its policy and its guard --------------------------------------------

    @property
    def loaded_policy(self) -> LoadedPolicy:
        """The policy files in force and what they merge to (ConfigError when broken:
        never a fallback to allowing everything)."""
        return self._parts.get("policy", lambda: load_policy(self.settings.home))

    @property
    def policy(self) -> Policy:
        """The effective policy: when the site's files weaken the shipped policy, only if
        an enrolled administrator signed them (ConfigError otherwise); a policy that
        differs from the shipped one is recorded in the audit log with its digest each
        time it changes."""
        return self._parts.get("checked_policy", self._checked_policy)

    def _checked_policy(self) -> Policy:
        loaded = self.loaded_policy
        changed = differences(load_policy(None).policy, loaded.policy)
        if not changed:
            return loaded.policy
        files = [Path(s.name) for s in site_sources(self.settings.home)]
        weakening = [str(d) for d in changed if d.weakens]
        if weakening:
            check_overlays(self.people, files, weakening)
        digest = policy_digest(loaded.policy)
        last = [r for r in self.audit.search(kind="config_change", text="policy_loaded")
                if r.payload.get("event") == "policy_loaded"]
        if not last or last[-1].payload.get("digest") != digest:
            self.audit.append("config_change", "plantagent", {
                "event": "policy_loaded", "digest": digest, "files": loaded.files,
                "weakening": weakening, "differences": [str(d) for d in changed][:200]})
        return loaded.policy

    @property
    def guard(self) -> EgressGuard:
        """The process's egress guard, pointed at this site's allowlist (installed before
        anything of the site is opened or any connection made)."""
        # The policy as the files say: checking signatures needs the site, opened only
        # behind the guard; everything that connects checks ``policy`` first.
        return self._parts.get(
            "guard", lambda: guard_egress(self.settings, self.loaded_policy.policy,
                                          self._record_refusal))

    def _record_refusal(self, address: str, detail: dict[str, Any]) -> None:
        audit = self._log
        if audit is not None and not audit.closed:
            audit.append("egress_refused", "plantagent",
                         {"address": address, "detail": str(detail)})

    @property
    def site(self) -> Site:
        """The unlocked site: keys, databases, blobs (VaultError naming the fix), with its
        audit log open: every other database's heads are recorded in it."""
        site = self._parts.get("site", self._unlock, Site.close)
        self._parts.get("audit", self._opened_log)
        return site

    def _opened_log(self) -> AuditLog:
        assert self._log is not None, "the audit log opens with the site"
        return self._log

    def _unlock(self) -> Site:
        _ = self.guard
        passphrase = self._passphrase
        if callable(passphrase):
            passphrase = passphrase(self.settings.home)
        site = open_site(self.settings, passphrase=passphrase)
        try:
            # Before any other database: the log is their heads' registry, and the site
            # closes it (signing a checkpoint) after the others.
            options = dict(self._audit_options)
            options.setdefault("witness", site_witness(self.settings, self.guard, site.site_id))
            if self._recover_audit is not None:
                self._log = recover_audit_log(site, self._recover_audit, **options)
            else:
                self._log = open_audit_log(site, **options)
        except BaseException:
            site.close()
            raise
        return site

    @property
    def audit(self) -> AuditLog:
        """The site's hash-chained, signed audit log (closed with the site)."""
        _ = self.site
        return self._parts.get("audit", self._opened_log)

    @property
    def approvals(self) -> ApprovalService:
        """Approval requests of plant writes, in their durable encrypted store."""
        def open_approvals() -> ApprovalService:
            store = ApprovalStore.open(
                lambda: self.site.database(APPROVALS_DATABASE, synchronous_full=True))
            return ApprovalService(store, self.policy, self.audit, people=self.people,
                                   clock=self.clock)

        return self._parts.get("approvals", open_approvals)

    @property
    def people(self) -> PeopleRegister:
        """The register of enrolled people (their roles and public keys)."""
        return self._parts.get("people", lambda: PeopleRegister(
            self.site.database(PEOPLE_DATABASE, synchronous_full=True), self.audit,
            roles=set(self.loaded_policy.policy.roles), clock=self.clock,
            kdf=self._people_kdf))

    def acting(self, *, name: str | None = None, role: str | None = None,
               key_file: str | Path | None = None) -> Acting:
        """The enrolled person of the OS account running this process, in ``role`` (one
        of their own), personal key unlocked (agent.people.identity)."""
        return acting(self.people, name=name, role=role, key_file=key_file,
                      preferred_role=self.settings.agent.role,
                      match_os_account=self.policy.people.match_os_account)

    def asker(self, *, name: str | None = None, role: str | None = None) -> Asker:
        """Who asks from this process: the register's person of the OS account (``name``
        / ``role`` from ``--as`` / ``--role`` only select, see
        agent.people.identity.identify_asker); the settings' user on a site where nobody
        is enrolled."""
        people = self.policy.people
        return identify_asker(self.people, name=name, role=role,
                              settings_name=self.settings.agent.user,
                              settings_role=self.settings.agent.role,
                              match_os_account=people.match_os_account,
                              unenrolled_may_ask=people.unenrolled_may_ask)

    @property
    def engine(self) -> PolicyEngine:
        """The policy engine: decides, without side effects, what each role may do."""
        return self._parts.get("engine", lambda: PolicyEngine(self.policy))

    # -- the site's stores ----------------------------------------------------------------

    @property
    def twin_database(self) -> apsw.Connection:
        """The twin's encrypted database (assets, historian, documents, incidents)."""
        return self._parts.get("twin_database", lambda: self.site.database(TWIN_DATABASE))

    @property
    def twin(self) -> TwinStores:
        """The asset model and the historian."""
        return self._parts.get("twin", lambda: open_twin_stores(self.twin_database))

    @property
    def embedder(self) -> Embedder | None:
        """The site's embedding model if its file is in place (verified, never fetched),
        else None: the site then has no document or incident look-ups."""
        if self._embedder is not None:
            return self._embedder
        opened = self._parts.peek("embedder")
        if opened is not None:
            return opened
        try:
            return self.load_embedder()
        except ModelError:
            return None

    def load_embedder(self) -> Embedder:
        """The site's embedding model, verified (``docs`` and ``incidents`` commands);
        ModelError naming `plantagent models fetch NAME` when it is missing: nothing is
        ever fetched at run time."""
        if self._embedder is not None:
            return self._embedder
        return self._parts.get(
            "embedder",
            lambda: load_embedder(self.settings, assemble=False),
            lambda embedder: embedder.close())

    @property
    def knowledge(self) -> Knowledge:
        """Manuals and incident memory, when the site has indexed them."""
        return self._parts.get(
            "knowledge", lambda: open_knowledge(self.twin_database, self.embedder))

    @property
    def alarm_store(self) -> AlarmStore:
        """Alarm shelve requests and the site's alarm journal."""
        return self._parts.get("alarm_store", lambda: open_alarm_store(self.site))

    @property
    def reports(self) -> ReportStore:
        """Triage reports and the incidents already reported."""
        return self._parts.get(
            "reports", lambda: ReportStore(self.site.database(REPORTS_DATABASE)))

    # -- the plant --------------------------------------------------------------------------

    async def connection(self) -> OpcUaConnection:
        """The connected OPC UA session to the plant (``endpoint`` or ``opcua.endpoint``)."""
        async def connect() -> OpcUaConnection:
            _ = self.policy  # a weakened, unsigned policy connects nowhere
            _ = self.guard
            conn = OpcUaConnection.from_settings(self.settings, self.endpoint,
                                                 key_vault=_SiteKeys(self))
            await conn.connect()
            return conn

        return await self._parts.aget("connection", connect, acloser=OpcUaConnection.close)

    @property
    def endpoint_url(self) -> str:
        """The endpoint the connection goes (or would go) to; UsageError when it is not
        an OPC UA endpoint URL."""
        return check_endpoint(self.endpoint or self.settings.opcua.endpoint)

    async def catalog(self) -> Catalog:
        """The plant's equipment and tags, browsed once; the site file's word over the
        inferred tag semantics applied (what every question is mapped through)."""
        async def browse() -> Catalog:
            catalog = await browse_catalog(await self.connection())
            path = assets_path(self.settings.home)
            if path.exists():
                apply_site(cached(catalog), load_assets_file(path), list(catalog.tags), path)
            return catalog

        return await self._parts.aget("catalog", browse)

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

    async def alarm_desk(self, *, browse: bool = True) -> AlarmDesk:
        """Where people act on alarms: the policy's gate, the audit log, the server read
        back (``browse``: with the catalog, to name tags; no model is loaded)."""
        async def build() -> AlarmDesk:
            connection = await self.connection()
            catalog = await self.catalog() if browse else None
            context = ToolContext(settings=self.settings, opcua=connection, catalog=catalog,
                                  clock=self.clock)
            return build_desk(store=self.alarm_store, engine=self.engine, audit=self.audit,
                              context=context, people=self.people, clock=self.clock)

        return await self._parts.aget(f"alarm_desk:{browse}", build)

    async def alarm_journal(self) -> AlarmJournal | None:
        """The site's alarm journal recording the server's alarm events while it is open
        (None when the settings turn it off or the server cannot be subscribed to now:
        the next call tries again, see :attr:`journal_problem`)."""
        if not self.settings.alarms.journal:
            return None

        connection, catalog = await self.connection(), await self.catalog()

        async def start() -> AlarmJournal:
            log = await event_log(connection, catalog)  # raises: nothing kept, retried
            journal = AlarmJournal(self.alarm_store, log, endpoint=connection.endpoint)
            await journal.start()
            return journal

        async def stop(journal: AlarmJournal) -> None:
            await journal.close()

        try:
            journal = await self._parts.aget("alarm_journal", start, acloser=stop)
        except OpcUaError as exc:
            self.journal_problem = exc
            return None
        self.journal_problem = None
        return journal

    @property
    def recording_journal(self) -> AlarmJournal | None:
        """The alarm journal when it records now (None: not started, off or failed)."""
        journal: AlarmJournal | None = self._parts.peek("alarm_journal")
        return journal

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


class _SiteKeys:
    """The site's encrypted store as the OPC UA client's key vault, unlocking the site
    only when a secure connection needs the key (an unsecured one never does)."""

    def __init__(self, runtime: SiteRuntime) -> None:
        self._runtime = runtime

    def get_blob(self, name: str) -> bytes | None:
        """The secret ``name``, decrypted."""
        return self._runtime.site.get_blob(name)

    def put_blob(self, name: str, data: bytes) -> None:
        """Store the secret ``name``, encrypted."""
        self._runtime.site.put_blob(name, data)
