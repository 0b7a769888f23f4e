"""An install or upgrade as the site sees it: stores migrated, one audit record.

:func:`record_upgrade` opens the site through the one composition root (SiteRuntime). It
refuses to put an older version on a site whose audit log records a newer one (unless
forced), opens every store that exists so its named, append-only migrations run, and
appends a ``config_change`` record (``change: software_update``) with the old and new
versions and the bundle digest. While the newest install recorded is the same bundle,
it records nothing again.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apsw

from agent.audit import AuditLog
from agent.bundle.offline.versions import compare
from agent.errors import UsageError
from agent.runtime import SiteRuntime
from agent.settings import Settings
from agent.twin.incidents.memory import migrate as migrate_incidents
from agent.vault.layout import APPROVALS_DATABASE, REPORTS_DATABASE, TWIN_DATABASE
from agent.vault.manifest import manifest_path
from agent.vault.migrations import MIGRATIONS_TABLE

#: The audit kind and payload marker of an install (an existing kind: an older version
#: reading the log after a forced downgrade must still understand every record).
AUDIT_KIND = "config_change"
CHANGE = "software_update"


@dataclass(frozen=True)
class InstallEvent:
    """What the installer did, as the audit record tells it."""

    event: str
    version: str
    digest: str
    release_key: str
    previous_version: str | None = None
    previous_digest: str | None = None
    models: tuple[str, ...] = ()
    force: bool = False

    def payload(self) -> dict[str, Any]:
        """The audit payload (no secrets: versions, digests, fingerprints, names)."""
        return {
            "change": CHANGE,
            "event": self.event,
            "from_version": self.previous_version,
            "to_version": self.version,
            "from_digest": self.previous_digest,
            "bundle_digest": self.digest,
            "release_key": self.release_key,
            "models": list(self.models),
            "forced": self.force,
        }


@dataclass
class UpgradeOutcome:
    """What happened to the site."""

    site: Path | None
    migrations: dict[str, int] = field(default_factory=dict)
    recorded: bool = False
    seq: int | None = None


def _count(conn: apsw.Connection, sql: str) -> int:
    try:
        row = conn.execute(sql).fetchone()
    except apsw.SQLError:
        return 0  # the table does not exist yet
    return int(row[0]) if row else 0


def migrate_stores(runtime: SiteRuntime) -> dict[str, int]:
    """Open every store the site has, so each runs its pending migrations; returns the
    number of steps that ran per database. Databases the site never created stay absent."""
    site = runtime.site
    steps = f"SELECT count(*) FROM {MIGRATIONS_TABLE}"
    ran: dict[str, int] = {}
    if site.database_path(TWIN_DATABASE).exists():
        conn = runtime.twin_database
        before = _count(conn, steps)
        runtime.twin  # noqa: B018 - opening the twin's stores runs their migrations
        migrate_incidents(conn)
        ran[TWIN_DATABASE] = _count(conn, steps) - before
    for name, opener in ((APPROVALS_DATABASE, lambda: runtime.approvals),
                         (REPORTS_DATABASE, lambda: runtime.reports)):
        if site.database_path(name).exists():
            conn = site.database(name)
            before = _count(conn, steps)
            opener()
            ran[name] = _count(conn, steps) - before
    return ran


def installs_recorded(log: AuditLog) -> list[dict[str, Any]]:
    """The payloads of every install recorded in the log, oldest first."""
    records = log.search(kind=AUDIT_KIND, text=CHANGE, limit=100_000)
    return [dict(r.payload) for r in records
            if isinstance(r.payload, dict) and r.payload.get("change") == CHANGE]


def _check_not_older(recorded: list[dict[str, Any]], event: InstallEvent) -> None:
    if not recorded or event.force:
        return
    last = str(recorded[-1].get("to_version"))
    try:
        older = compare(event.version, last) < 0
    except ValueError:
        older = False  # a record this version cannot order says nothing against it
    if older:
        raise UsageError(
            f"this site's audit log records plantagent {last}, newer than {event.version}: "
            "its stores may already be migrated past what this version understands",
            fix="install a bundle of the same or a newer version, or pass --force to the "
            "installer if you are going back on purpose (restore the site's backup first)",
        )


def record_upgrade(settings: Settings, event: InstallEvent, *,
                   passphrase: str | None = None) -> UpgradeOutcome:
    """Migrate the site's stores and record ``event`` in its audit log (once per bundle).

    No site at ``settings.home`` yet: nothing to do (a site created later starts at this
    version). The site is opened with ``passphrase`` or PLANTAGENT_PASSPHRASE.
    """
    if not manifest_path(settings.home).is_file():
        return UpgradeOutcome(site=None)
    with SiteRuntime(settings, passphrase=passphrase) as runtime:
        log = runtime.audit
        recorded = installs_recorded(log)
        _check_not_older(recorded, event)
        migrations = migrate_stores(runtime)
        home = runtime.site.home
        if recorded and recorded[-1].get("bundle_digest") == event.digest:
            # An interrupted install run again, or the same bundle once more.
            return UpgradeOutcome(home, migrations, recorded=False)
        payload = {**event.payload(), "migrations": migrations}
        record = log.append(AUDIT_KIND, _actor(), payload)
        return UpgradeOutcome(home, migrations, recorded=True, seq=record.seq)


def _actor() -> str:
    try:
        return f"installer:{getpass.getuser()}"
    except (KeyError, OSError):
        return "installer"
