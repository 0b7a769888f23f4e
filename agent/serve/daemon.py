"""`plantagent serve`: one process per site that opens the site once (the model or its
inference server, the OPC UA connection, the alarm journal, the triage watcher) and serves
every enrolled person over the site's Unix socket.

It unlocks with the site passphrase from a credential file (``--passphrase-file``, or the
systemd credential ``plantagent-passphrase`` in ``$CREDENTIALS_DIRECTORY``), never from a
person's shell: no terminal prompt and no PLANTAGENT_PASSPHRASE.
"""

from __future__ import annotations

import asyncio
import functools
import os
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agent.audit.sink import AuditSink
from agent.errors import VaultError
from agent.runtime import SiteRuntime
from agent.serve.journal import journal_state
from agent.serve.queue import TRIAGE, FairQueue
from agent.serve.server import SiteServer
from agent.serve.site_socket import listen, lock_site, socket_path
from agent.service import open_service
from agent.triage.models import TriageReport
from agent.triage.writer import ReportWriter, Written
from agent.twin.documents.index import DocumentIndex
from agent.vault.manifest import load_manifest
from agent.vault.passphrase import (
    CREDENTIAL_NAMES,
    PASSPHRASE_ENV,
    scrub_initial_environment,
)

CREDENTIAL = CREDENTIAL_NAMES[PASSPHRASE_ENV]
#: Worker threads of the service: room for many people waiting at their passphrase prompt
#: (a waiting thread costs memory, not CPU) beside the site's own blocking work.
WORKER_THREADS = 64


def credential_passphrase(passphrase_file: Path | None) -> Callable[[Path], str | None]:
    """The service's passphrase source: ``passphrase_file`` (mode 600 or stricter), else
    the systemd credential; a demo key-file site needs none. A PLANTAGENT_PASSPHRASE in
    the environment is removed and never used (a person's shell is not a credential)."""

    def read(home: Path) -> str | None:
        if os.environ.pop(PASSPHRASE_ENV, None) is not None:
            scrub_initial_environment(PASSPHRASE_ENV)
        if load_manifest(home).wrapping.kind == "keyfile":
            return None
        path = passphrase_file
        if path is None and os.environ.get("CREDENTIALS_DIRECTORY"):
            path = Path(os.environ["CREDENTIALS_DIRECTORY"]) / CREDENTIAL
        if path is None:
            raise VaultError(
                "the service needs the site passphrase from a credential file",
                fix=f"give --passphrase-file PATH (mode 600), or run it from its systemd "
                f"unit (LoadCredential={CREDENTIAL}:/etc/plantagent/passphrase)")
        return _read_secret(path)

    return read


def _read_secret(path: Path) -> str:
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise VaultError(f"the passphrase file {path} does not exist",
                         fix="write the site passphrase there (install -m 600 /dev/stdin "
                         f"{path})") from None
    except OSError as exc:
        raise VaultError(f"cannot read the passphrase file {path}: {exc.strerror}",
                         fix="it must be readable by the service's account only") from None
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise VaultError(f"the passphrase file {path} is readable by others "
                         f"(mode {stat.S_IMODE(info.st_mode):o})",
                         fix=f"chmod 600 {path}")
    value = text.rstrip("\r\n")
    if not value:
        raise VaultError(f"the passphrase file {path} is empty",
                         fix="write the site passphrase in it")
    return value


class QueuedWriter:
    """A triage writer that waits for the model in the fair queue, ahead of questions."""

    def __init__(self, inner: ReportWriter, queue: FairQueue) -> None:
        self.inner = inner
        self.queue = queue

    async def write(self, report: TriageReport, *, audit: AuditSink | None = None) -> Written:
        """The inner writer's text, written when the model is free (triage first)."""
        async with self.queue.turn("triage", kind="triage", priority=TRIAGE,
                                   label=report.incident.kind):
            return await self.inner.write(report, audit=audit)


async def run_site_service(
    runtime: SiteRuntime,
    stop: asyncio.Event,
    *,
    socket_file: Path | None = None,
    group: str | None = None,
    triage: bool = True,
    triage_model: bool = False,
    triage_interval_s: float | None = None,
    queue: FairQueue | None = None,
    ready: Callable[[SiteServer], None] | None = None,
) -> None:
    """Serve the site of ``runtime`` until ``stop`` is set: take the site's lock (refused
    when another service holds it), open the site, listen, then stop cleanly (clients
    told, socket removed, lock released). ``ready`` hears the started server."""
    home = runtime.settings.home
    lock = lock_site(home)
    # Acts wait in worker threads for a person's signature, up to SIGN_TIMEOUT_S while
    # they type their passphrase. The default pool (cores + 4 threads) is shared with the
    # audit log, the register and the model: a few people at a prompt must not stall it.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(
        max_workers=WORKER_THREADS, thread_name_prefix="service"))
    try:
        queue = queue or FairQueue()
        _ = runtime.site  # unlock first: a wrong passphrase stops here, no socket made
        async with open_service(
            runtime, triage=triage, triage_model=triage_model,
            triage_interval_s=triage_interval_s,
            wrap_writer=lambda writer: QueuedWriter(writer, queue),
            for_this_account=False,  # each caller is known by its own OS account
        ) as service:
            path = socket_file or socket_path(home)
            server = SiteServer(service, runtime.people, listen(path, group=group),
                                queue=queue, socket_file=path,
                                journal=functools.partial(journal_state, runtime),
                                documents=lambda: DocumentIndex(runtime.twin_database,
                                                                runtime.load_embedder()))
            await server.start()
            await asyncio.to_thread(runtime.audit.append, "session_start", "plantagent", {
                "event": "service_started", "pid": os.getpid(), "socket": str(path)})
            if ready is not None:
                ready(server)
            try:
                await stop.wait()
            finally:
                await server.stop()
                await asyncio.to_thread(runtime.audit.append, "session_end", "plantagent", {
                    "event": "service_stopped", "pid": os.getpid()})
    finally:
        lock.release()
