"""Recovering the audit log after a refusal: a person accepts what is there, on record.

``plantagent recover accept audit --reason TEXT`` opens the audit database as it is
found and says so in it:

- an older or altered copy of ``audit.db`` (its head file disagrees): accepted as it is;
- behind the newest checkpoint kept outside it (records were lost): the checkpoints it
  no longer extends are moved into ``audit-checkpoints/superseded-<time>/`` (kept for
  the auditor, never deleted) so the log can go on;
- missing, or holding another log than site.json names: a new log begins (a missing
  one) or the one found is taken (another one); the checkpoints of every other log move
  into ``audit-checkpoints/log-<id>/`` and site.json names the log from now on.

In every case the log's next record is a ``database`` record of event ``recover``
stating the reason, who, what was wrong, the previous log and its newest checkpoint,
and the checkpoints set aside; a checkpoint covering it follows. A witness keeps the
superseded checkpoints, so the loss stays visible to ``audit verify --witness``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.audit.anchor import behind, newest_checkpoint
from agent.audit.checkpoints import FILE_PREFIX, Checkpoint, read_checkpoint_file
from agent.audit.errors import AuditUsageError
from agent.audit.heads import AuditHeads, head_payload
from agent.audit.log import AuditLog
from agent.audit.site import checkpoint_dir, end_session
from agent.audit.vault_keys import VaultSigner
from agent.vault import Site
from agent.vault.heads import Head
from agent.vault.layout import AUDIT_DATABASE


def recover_audit_log(site: Site, recover: dict[str, Any], **options: Any) -> AuditLog:
    """Open the site's audit log as found, set aside what it no longer extends, and
    record the recovery in it (see the module docstring); returns the open log."""
    signer = VaultSigner(site.signer)
    options.setdefault("export_dir", checkpoint_dir(site.home))
    export: Path | None = options["export_dir"]
    path = site.database_path(AUDIT_DATABASE)
    anchor = site.audit_log_id
    problems: list[str] = []
    missing = not path.is_file()
    if missing:
        problems.append("the audit database was missing: a new log begins")
    state = None if missing else site.inspect(AUDIT_DATABASE)
    if state is not None and state.problem is not None:
        problems.append(f"the audit database {state.problem}")
    conn = site.database(AUDIT_DATABASE, synchronous_full=True, recover=recover)
    log = AuditLog.open(lambda: conn, signer, signer.verifier(), close_connection=False,
                        new_log_id=None if missing else anchor, **options)
    previous: dict[str, Any] | None = None
    if anchor is not None and log.log_id != anchor:
        newest = newest_checkpoint(export, anchor, log.key_chain())
        previous = {"log_id": anchor, "checkpoint": None if newest is None else {
            "tree_size": newest[1].tree_size, "root": newest[1].root_hash}}
        if not missing:
            problems.append(f"the audit database holds the log {log.log_id}, not {anchor}")
    moved = _set_aside_other_logs(export, log.log_id)
    superseded = _set_aside_superseded(log, export, problems)
    moved += [name for name, _ in superseded]
    site.replace_audit_anchor(log.log_id)
    heads = AuditHeads(log)
    log.on_close(lambda: end_session(site, log))
    site.attach_heads(heads, before_audit_close=log.close)
    generation = site.inspect(AUDIT_DATABASE).generation or 0
    log.append("database", str(recover.get("by", "plantagent")), head_payload(Head(
        AUDIT_DATABASE, generation, None, "recover", detail={
            **recover, "problem": "; ".join(problems) or "none",
            "previous_log": previous, "set_aside": moved,
            "superseded": [{"tree_size": cp.tree_size, "root": cp.root_hash}
                           for _, cp in superseded]})))
    log.checkpoint()
    return log


def _set_aside_other_logs(export: Path | None, log_id: str) -> list[str]:
    """Move the checkpoints of any other log into ``log-<id>/``."""
    moved: list[str] = []
    if export is None or not export.is_dir():
        return moved
    for path in sorted(export.glob(f"{FILE_PREFIX}*.json")):
        try:
            other = read_checkpoint_file(path).log_id
        except AuditUsageError:
            continue  # verify reports a file it cannot read
        if other != log_id:
            moved.append(_move(path, export / f"log-{other}"))
    return moved


def _set_aside_superseded(log: AuditLog, export: Path | None,
                          problems: list[str]) -> list[tuple[str, Checkpoint]]:
    """Move this log's checkpoints that it no longer extends into ``superseded-<time>/``."""
    moved: list[tuple[str, Checkpoint]] = []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    while (newest := newest_checkpoint(export, log.log_id, log.key_chain())) is not None:
        problem = behind(log, newest[1])
        if problem is None:
            break
        if not moved:
            problems.append(f"the log {problem}")
        assert export is not None
        moved.append((_move(newest[0], export / f"superseded-{stamp}"), newest[1]))
    return moved


def accepted_losses(log: AuditLog) -> dict[tuple[str, int, str], int]:
    """The checkpoints a recovery of this log set aside, and of the logs it replaced:
    (log id, tree size or -1 for a whole log, root or "") -> the recovery record's seq."""
    losses: dict[tuple[str, int, str], int] = {}
    for seq, payload in log.database_records():
        if payload.get("database") != AUDIT_DATABASE or payload.get("event") != "recover":
            continue
        for item in payload.get("superseded") or []:
            if isinstance(item, dict):
                losses[(log.log_id, int(item.get("tree_size", -1)), str(item.get("root")))] = seq
        previous = payload.get("previous_log")
        if isinstance(previous, dict) and isinstance(previous.get("log_id"), str):
            losses[(previous["log_id"], -1, "")] = seq
    return losses


def _move(path: Path, into: Path) -> str:
    into.mkdir(exist_ok=True)
    target = into / path.name
    os.replace(path, target)
    return str(target.relative_to(path.parent))

