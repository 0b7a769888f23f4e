"""The auditor's bundle: the log's records, checkpoints and public keys in JSON Lines.

This is an intentional PLAINTEXT export for an auditor: it is written only to the file
the user names, never overwritten, with mode 0600. Lines, in order::

    {"type": "header", "format": "plantagent-audit-bundle", "version": 1, "log_id": ...}
    {"type": "public_keys", "bundle": {...}}          # informational; trust your own copy
    {"type": "record", "seq": 1, "ts": ..., "payload": {...}, "prev_hash": ..., "hash": ...,
     "version": 2}                                    # each line in its record's encoding
    {"type": "checkpoint", "tree_size": ..., "root_hash": ..., "signature": ...}

:func:`verify_bundle` needs only the bundle and the site's public key bundle.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.audit.checkpoints import Checkpoint
from agent.audit.errors import AuditUsageError
from agent.audit.keychain import build_chain, is_rotation
from agent.audit.records import AuditRecord, encode, record_from_row
from agent.audit.signing import CheckpointVerifier
from agent.audit.verify import NamedCheckpoint, Problem, VerifyReport, verify_rows

FORMAT = "plantagent-audit-bundle"
_RECORD_KEYS = (
    "seq",
    "ts",
    "kind",
    "actor",
    "role",
    "tool",
    "equipment",
    "payload",
    "prev_hash",
    "hash",
    "version",
)


def write_bundle(
    out: Path,
    log_id: str,
    rows: Sequence[Sequence[Any]],
    checkpoints: Sequence[Checkpoint],
    public_keys: dict[str, Any] | None,
) -> int:
    """Write a bundle to ``out`` (refusing to overwrite); returns the number of records."""
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AuditUsageError(
            f"{out} already exists", fix="name a new file; a bundle is never overwritten"
        ) from None
    except OSError as exc:
        raise AuditUsageError(f"cannot create {out}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        header = {
            "type": "header",
            "format": FORMAT,
            "version": 1,
            "log_id": log_id,
            "records": len(rows),
            "checkpoints": len(checkpoints),
        }
        handle.write(json.dumps(header) + "\n")
        if public_keys is not None:
            handle.write(json.dumps({"type": "public_keys", "bundle": public_keys}) + "\n")
        for row in rows:
            line = dict(zip(_RECORD_KEYS, row, strict=True))
            line["payload"] = json.loads(str(line["payload"]))
            # Each line in its record's own encoding: a JCS reader parses the same numbers.
            text = encode({"type": "record", **line}, int(line["version"])).decode("utf-8")
            handle.write(text + "\n")
        for cp in checkpoints:
            handle.write(json.dumps({"type": "checkpoint", **cp.model_dump(mode="json")}) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return len(rows)


def _lines(path: Path) -> Iterator[tuple[int, Any]]:
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise AuditUsageError(f"no bundle at {path}", fix="give the exported bundle file") from None
    with handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                yield number, json.loads(text)
            except json.JSONDecodeError:
                yield number, None


def verify_bundle(
    path: Path,
    verifier: CheckpointVerifier,
    extra_checkpoints: Sequence[NamedCheckpoint] = (),
) -> VerifyReport:
    """Verify an exported bundle with public keys only.

    Besides the checks of a stored log, every record must be covered by a signed
    checkpoint (the export signs one first), so nothing can be appended to a bundle.
    """
    log_id: str | None = None
    rows: list[tuple[Any, ...]] = []
    checkpoints: list[NamedCheckpoint] = list(extra_checkpoints)
    problems: list[Problem] = []
    for number, item in _lines(path):
        kind = item.get("type") if isinstance(item, dict) else None
        if number == 1:
            if kind != "header" or item.get("format") != FORMAT:
                raise AuditUsageError(
                    f"{path} is not a plantagent audit bundle",
                    fix="give a file written by `plantagent audit export`",
                )
            log_id = str(item.get("log_id"))
        elif kind == "record":
            rows.append(_row_of(item))
        elif kind == "checkpoint":
            fields = {k: v for k, v in item.items() if k != "type"}
            try:
                checkpoints.append((f"bundle line {number}", Checkpoint.model_validate(fields)))
            except ValidationError as exc:
                problems.append(
                    Problem(
                        message=f"malformed checkpoint: {exc.errors()[0]['msg']}",
                        checkpoint=f"bundle line {number}",
                    )
                )
        elif kind != "public_keys":
            rows.append((None,) * len(_RECORD_KEYS))  # reported at its place in the chain
    if log_id is None:
        raise AuditUsageError(f"{path} is empty", fix="give a file written by audit export")
    chain, chain_problems = build_chain(log_id, verifier, _rotations(rows))
    report = verify_rows(log_id, rows, checkpoints, chain, [*problems, *chain_problems])
    covered = max((cp.tree_size for name, cp in checkpoints if cp.log_id == log_id), default=0)
    if report.ok and report.records_verified > covered:
        report.problems.append(
            Problem(
                message=f"records {covered + 1}-{report.records_verified} are not covered by "
                "any signed checkpoint (added after export?)",
                seq=covered + 1,
            )
        )
        report.ok = False
        report.first_bad_seq = covered + 1
    return report


def _rotations(rows: Sequence[tuple[Any, ...]]) -> list[AuditRecord]:
    """The audit key rotations among the rows (malformed ones are verify's to report)."""
    out: list[AuditRecord] = []
    for row in rows:
        if row[2] != "key_change":
            continue
        try:
            record = record_from_row(row)
        except (ValueError, TypeError, ValidationError):
            continue
        if is_rotation(record):
            out.append(record)
    return out


def _row_of(item: dict[str, Any]) -> tuple[Any, ...]:
    """A stored-row tuple from a bundle record line; a mangled payload stays mangled."""
    if set(item) - {"type", *_RECORD_KEYS}:
        # Fields the hash does not cover have no business in a record: report it there.
        return (item.get("seq"), *(None,) * (len(_RECORD_KEYS) - 1))
    payload = item.get("payload")
    version = item.get("version", 1)
    try:
        payload_text: Any = encode(payload, version if version in (1, 2) else 1).decode("utf-8")
    except (TypeError, ValueError):
        payload_text = None
    # Bundles written before record versions carried only version-1 records.
    return tuple(
        payload_text if k == "payload" else item.get(k, 1 if k == "version" else None)
        for k in _RECORD_KEYS
    )
