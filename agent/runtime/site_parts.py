"""The site's own parts, as :class:`~agent.runtime.site_runtime.SiteRuntime` opens them:
the policy and the egress guard, the unlocked site with its audit log, approvals, the
people register, the policy engine, and the site's stores (twin, embedder, knowledge,
alarms, reports). None of them needs an event loop: a ``with SiteRuntime(...)`` command
uses only these.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import apsw

from agent.alarms.store import AlarmStore
from agent.approvals import ApprovalService, ApprovalStore
from agent.approvals.authority import policy_digest
from agent.audit import AuditLog
from agent.audit.recover import recover_audit_log
from agent.audit.site import open_audit_log
from agent.errors import ModelError
from agent.people.identity import Acting, Asker, acting, identify_asker
from agent.people.overlays import check_overlays
from agent.people.register import PeopleRegister
from agent.policy import Policy, PolicyEngine
from agent.policy.loader import LoadedPolicy, load_policy, site_sources
from agent.policy.overlay import differences
from agent.runtime.alarms import open_store as open_alarm_store
from agent.runtime.egress import guard_egress, site_witness
from agent.runtime.parts import Parts
from agent.runtime.stores import Knowledge, TwinStores, open_knowledge, open_twin_stores
from agent.settings import Settings
from agent.triage.store import ReportStore
from agent.twin.embeddings.runtime import Embedder, load_embedder
from agent.vault import EgressGuard, Site, open_site
from agent.vault.layout import (
    APPROVALS_DATABASE,
    PEOPLE_DATABASE,
    REPORTS_DATABASE,
    TWIN_DATABASE,
)
from agent.vault.wrapping import KdfParams

#: The passphrase of a site, asked for only when the site is unlocked (given its home).
PassphraseSource = Callable[[Path], str | None]


class SiteParts:
    """The parts of the site itself, each opened on first use and once (the attributes
    are set by SiteRuntime, which is built on this class)."""

    settings: Settings
    clock: Callable[[], datetime]
    _passphrase: str | PassphraseSource | None
    _embedder: Embedder | None
    _audit_options: dict[str, Any]
    _parts: Parts
    _log: AuditLog | None
    _recover_audit: dict[str, Any] | None
    _people_kdf: KdfParams | None

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
