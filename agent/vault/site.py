"""An unlocked site: its databases, its blob store and its signer, behind one object.

The DEK is unwrapped once per process by :func:`open_site`; every database key and the
blob keys are derived from it. The site holds a shared lock while open, so key rotation
(which takes it exclusively) never runs under a live agent.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import TracebackType
from typing import Any

import apsw

from agent.errors import VaultError
from agent.settings import Settings
from agent.vault.db import open_database
from agent.vault.fsutil import site_lock
from agent.vault.keys import Unlocked, subkey, unlock
from agent.vault.layout import blob_store, database_key, database_path
from agent.vault.manifest import load_manifest, manifest_path
from agent.vault.rotate import EventHook, resume_pending
from agent.vault.signing import Signer, SigningKeys


class Site:
    """An open site. Use :func:`open_site`; close it (or use ``with``) when done."""

    def __init__(
        self, unlocked: Unlocked, resources: contextlib.ExitStack, on_event: EventHook | None
    ) -> None:
        self._u = unlocked
        self._resources = resources  # holds the shared site lock
        self.on_event = on_event
        self._connections: dict[str, apsw.Connection] = {}
        self._blobs = blob_store(unlocked.home, unlocked.dek, unlocked.manifest.site_id)
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

    def database_path(self, name: str) -> Path:
        """Where database ``name`` lives."""
        return database_path(self.home, name)

    def database(
        self, name: str, *, synchronous_full: bool = False, create: bool = True
    ) -> apsw.Connection:
        """The open connection to encrypted database ``name`` (opened on first use).

        ``synchronous_full`` makes every commit durable; asking for it on a connection
        already open switches it on.
        """
        self._check_open()
        conn = self._connections.get(name)
        if conn is None:
            conn = open_database(
                self.database_path(name),
                database_key(self._u.dek, self.site_id, name),
                create=create,
                synchronous_full=synchronous_full,
                key_is_verified=True,
            )
            self._connections[name] = conn
        elif synchronous_full:
            list(conn.execute("PRAGMA synchronous=FULL"))
        return conn

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

    def close(self) -> None:
        """Close every database (checkpointing its WAL away) and release the site lock."""
        if self._closed:
            return
        self._closed = True
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()
        self._resources.close()

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
    resume_pending(home, passphrase=passphrase, on_event=on_event)
    stack = contextlib.ExitStack()
    try:
        stack.enter_context(site_lock(home, exclusive=False))
        return Site(unlock(home, passphrase), stack, on_event)
    except BaseException:
        stack.close()  # a failed open must not keep the site locked
        raise
