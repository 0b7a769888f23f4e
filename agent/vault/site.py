"""An unlocked site: its databases, its blob store and its signer, behind one object.

The DEK is unwrapped once per process by :func:`open_site`; every database key and the
blob keys are derived from it. The site holds a shared lock while open, so key rotation
(which takes it exclusively) never runs under a live agent.

Every database is opened as a session (:mod:`agent.vault.sessions`): checked against its
last recorded head, its generation raised, its head recorded when its last user closes
it. The audit database's heads are kept beside it (its roll-back shows against its
signed checkpoints); every other database's heads go to the registry attached with
:meth:`Site.attach_heads` (the audit log), and to head files beside them until one is.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import apsw

from agent.errors import IntegrityError, VaultError
from agent.settings import Settings
from agent.vault import crypto
from agent.vault.fsutil import fsync_dir, site_lock
from agent.vault.heads import HeadRegistry, LocalHeads
from agent.vault.inspect import DatabaseState, inspect_database
from agent.vault.keys import Unlocked, build_manifest, subkey, unlock
from agent.vault.layout import (
    AUDIT_DATABASE,
    blob_store,
    database_key,
    database_names,
    database_path,
)
from agent.vault.manifest import SiteManifest, load_manifest, manifest_path, save_manifest
from agent.vault.rotate import EventHook, RekeyReport, resume_pending
from agent.vault.sessions import Session, close_session, open_session
from agent.vault.signing import Signer, SigningKeys, bundle_fingerprint

#: New audit signing keys, written before the rotation record, until they replace site.json.
SIGNING_PENDING = "site.json.signing"


class Site:
    """An open site. Use :func:`open_site`; close it (or use ``with``) when done."""

    def __init__(
        self, unlocked: Unlocked, resources: contextlib.ExitStack, on_event: EventHook | None,
        resumed: RekeyReport | None = None,
    ) -> None:
        self._u = unlocked
        self._resources = resources  # holds the shared site lock
        self.on_event = on_event
        #: A key rotation a crash had interrupted and this open finished (its new
        #: database heads are for the registry to record).
        self.resumed_rekey = resumed
        self._sessions: dict[str, Session] = {}
        self._blobs = blob_store(unlocked.home, unlocked.dek, unlocked.manifest.site_id)
        self.local_heads = LocalHeads(
            unlocked.home / "data", subkey(unlocked.dek, self.site_id, "db-heads"), self.site_id
        )
        self._registry: HeadRegistry | None = None
        self._before_audit_close: Callable[[], None] | None = None
        keys = SigningKeys.from_record(
            unlocked.manifest.signing,
            subkey(unlocked.dek, unlocked.manifest.site_id, "signing-keys"),
            unlocked.manifest.site_id,
        )
        self.signer = Signer(keys, unlocked.manifest.site_id)
        self._closed = False

    @property
    def home(self) -> Path:
        """The site directory."""
        return self._u.home

    @property
    def site_id(self) -> str:
        """The site's random identifier (32 hex digits)."""
        return self._u.manifest.site_id

    @property
    def demo(self) -> bool:
        """True when the DEK is wrapped by a demo key file rather than a passphrase."""
        return self._u.manifest.demo

    @property
    def audit_log_id(self) -> str | None:
        """The audit log site.json names (None for a site from before the anchor)."""
        return self._u.manifest.audit_log_id

    def anchor_audit_log(self, log_id: str) -> None:
        """Name the site's audit log in site.json (once; a site made before the anchor
        existed adopts the log it has). Refuses to change an anchor already set."""
        self._check_open()
        current = self._u.manifest.audit_log_id
        if current == log_id:
            return
        if current is not None:
            raise VaultError(
                f"site.json names the audit log {current}, not {log_id}",
                fix="`plantagent recover new-audit-log` moves a site to a new log, audited",
            )
        self._write_anchor(log_id)

    def replace_audit_anchor(self, log_id: str) -> None:
        """Point site.json at a new audit log (only `plantagent recover new-audit-log`)."""
        self._check_open()
        self._write_anchor(log_id)

    def _write_anchor(self, log_id: str) -> None:
        m, u = self._u.manifest, self._u
        manifest = build_manifest(
            site_id=m.site_id, dek=u.dek, wrapping=m.wrapping,
            signing=SigningKeys.from_record(m.signing, subkey(u.dek, m.site_id, "signing-keys"),
                                            m.site_id),
            created=m.created, demo=m.demo, rotated=m.rotated, audit_log_id=log_id,
        )
        save_manifest(self.home, manifest)
        self._u = Unlocked(u.home, manifest, u.dek, u.kek)

    # -- rotation of the audit signing keys (agent.audit.site.rotate_signing_key) -----

    def stage_signing_keys(self, keys: SigningKeys) -> None:
        """Write site.json with new signing keys beside the current one
        (``site.json.signing``), to replace it once the audit log names the new key."""
        self._check_open()
        m, u = self._u.manifest, self._u
        manifest = build_manifest(
            site_id=m.site_id, dek=u.dek, wrapping=m.wrapping, signing=keys,
            created=m.created, demo=m.demo, rotated=m.rotated, audit_log_id=m.audit_log_id,
        )
        save_manifest(self.home, manifest, SIGNING_PENDING)

    def staged_signing_fingerprint(self) -> str | None:
        """The fingerprint of staged signing keys, from their public keys in clear (None:
        nothing staged); the private keys are unsealed only to commit them."""
        if not (self.home / SIGNING_PENDING).is_file():
            return None
        record = load_manifest(self.home, SIGNING_PENDING).signing
        return bundle_fingerprint(crypto.b64d(record.ed25519_public),
                                  crypto.b64d(record.mldsa65_public))

    def commit_signing_keys(self) -> None:
        """Make the staged signing keys the site's (site.json replaced atomically)."""
        self._check_open()
        staged = self._staged()
        if staged is None:
            raise VaultError("no new signing keys are staged",
                             fix="run `plantagent keys rotate --signing`")
        manifest, keys = staged
        os.replace(self.home / SIGNING_PENDING, manifest_path(self.home))
        fsync_dir(self.home)
        self._u = Unlocked(self._u.home, manifest, self._u.dek, self._u.kek)
        self.signer = Signer(keys, manifest.site_id)

    def drop_staged_signing_keys(self) -> None:
        """Remove staged signing keys that were never used."""
        (self.home / SIGNING_PENDING).unlink(missing_ok=True)

    def _staged(self) -> tuple[SiteManifest, SigningKeys] | None:
        path = self.home / SIGNING_PENDING
        if not path.is_file():
            return None
        u = self._u
        staged = load_manifest(self.home, SIGNING_PENDING)
        if staged.site_id != u.manifest.site_id:
            raise IntegrityError(f"{path} belongs to another site",
                                 fix=f"remove {path}: it is not this site's")
        staged.check_mac(subkey(u.dek, staged.site_id, "site.json"), path)
        keys = SigningKeys.from_record(staged.signing,
                                       subkey(u.dek, staged.site_id, "signing-keys"),
                                       staged.site_id)
        return staged, keys

    def database_path(self, name: str) -> Path:
        """Where database ``name`` lives."""
        return database_path(self.home, name)

    def attach_heads(self, registry: HeadRegistry,
                     before_audit_close: Callable[[], None] | None = None) -> None:
        """Record the heads of every database but the audit database in ``registry``
        from now on; ``before_audit_close`` runs when the site closes, after the other
        databases (whose closes it records) and before the audit database."""
        self._registry = registry
        self._before_audit_close = before_audit_close

    def heads_of(self, name: str) -> HeadRegistry:
        """The registry that holds database ``name``'s heads."""
        if name == AUDIT_DATABASE or self._registry is None:
            return self.local_heads
        return self._registry

    def database(
        self, name: str, *, synchronous_full: bool = False, create: bool = True,
        recover: dict[str, object] | None = None,
    ) -> apsw.Connection:
        """The open connection to encrypted database ``name`` (opened on first use).

        ``synchronous_full`` makes every commit durable; asking for it on a connection
        already open switches it on. A database missing, older than its last recorded
        head or changed at rest is refused (RefusedDatabase naming the fix);
        ``recover`` (a person's reason) accepts it as found instead, recorded.
        """
        self._check_open()
        session = self._sessions.get(name)
        if session is None:
            session = open_session(
                name, self.database_path(name), database_key(self._u.dek, self.site_id, name),
                self.heads_of(name), create=create, synchronous_full=synchronous_full,
                recover=recover,
            )
            self._sessions[name] = session
        elif synchronous_full:
            list(session.conn.execute("PRAGMA synchronous=FULL"))
        return session.conn

    def known_databases(self) -> list[str]:
        """Every database the site has or has recorded heads of (the audit one always)."""
        names = set(database_names(self.home)) | {AUDIT_DATABASE}
        names |= set(self.local_heads.names())
        if self._registry is not None:
            names |= set(self._registry.names())
        return sorted(names)

    def inspect(self, name: str, *, whole_file: bool = False) -> DatabaseState:
        """Database ``name`` against its last recorded head, without a session
        (``whole_file``: every page read, and the file hashed when nobody uses it)."""
        self._check_open()
        session = self._sessions.get(name)
        return inspect_database(
            name, self.database_path(name), database_key(self._u.dek, self.site_id, name),
            self.heads_of(name), conn=session.conn if session else None,
            whole_file=whole_file)

    def open_databases(self) -> list[str]:
        """The databases this site has open, in the order they were opened."""
        return list(self._sessions)

    def put_blob(self, name: str, data: bytes) -> None:
        """Store ``data`` encrypted under ``name`` (replaces atomically)."""
        self._check_open()
        self._blobs.put(name, data)

    def get_blob(self, name: str) -> bytes | None:
        """The blob ``name``, or None; IntegrityError if its file was altered."""
        self._check_open()
        return self._blobs.get(name)

    def delete_blob(self, name: str) -> bool:
        """Remove blob ``name``; True if it existed."""
        self._check_open()
        return self._blobs.delete(name)

    def list_blobs(self) -> list[str]:
        """The names of all stored blobs."""
        self._check_open()
        return self._blobs.names()

    def emit(self, kind: str, payload: dict[str, Any]) -> None:
        """Pass an event to the audit hook, if one is connected."""
        if self.on_event is not None:
            self.on_event(kind, payload)

    def _check_open(self) -> None:
        if self._closed:
            raise VaultError("the site was closed", fix="open it again with open_site()")

    def close_databases(self, *, keep: str | None = None) -> None:
        """Close every open database but ``keep``, newest first, recording their heads."""
        with contextlib.ExitStack() as stack:
            for name, session in list(self._sessions.items()):
                if name != keep:
                    del self._sessions[name]
                    stack.callback(close_session, session)

    def close(self) -> None:
        """Close every database (checkpointing its WAL away and recording its head: the
        audit database last, so the others' closes are recorded in it) and release the
        site lock."""
        if self._closed:
            return
        self._closed = True
        with contextlib.ExitStack() as stack:
            stack.callback(self._resources.close)
            stack.callback(self._close_audit)
            if self._before_audit_close is not None:
                stack.callback(self._before_audit_close)
            stack.callback(self.close_databases, keep=AUDIT_DATABASE)

    def _close_audit(self) -> None:
        session = self._sessions.pop(AUDIT_DATABASE, None)
        if session is not None:
            close_session(session)

    def __enter__(self) -> Site:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_site(
    where: Settings | Path,
    *,
    passphrase: str | None = None,
    on_event: EventHook | None = None,
) -> Site:
    """Unlock the site at ``where`` (settings or a directory) and return it open.

    ``passphrase`` None reads PLANTAGENT_PASSPHRASE (demo sites need none). A rotation
    interrupted by a crash is completed first.
    """
    home = where.home if isinstance(where, Settings) else Path(where)
    if not manifest_path(home).is_file():
        load_manifest(home)  # raises the not-a-site error naming `plantagent init`
    resumed = resume_pending(home, passphrase=passphrase, on_event=on_event)
    stack = contextlib.ExitStack()
    try:
        stack.enter_context(site_lock(home, exclusive=False))
        return Site(unlock(home, passphrase), stack, on_event, resumed)
    except BaseException:
        stack.close()  # a failed open must not keep the site locked
        raise
