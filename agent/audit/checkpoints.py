"""Signed checkpoints: (log, tree size, root hash, time), and their write-once files.

A checkpoint commits to the whole log up to ``tree_size``. Whoever keeps a copy (an
exported file, an auditor) can later prove the log was not truncated, rolled back or
rewritten before that point: the log must still have that many records and the same root.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.audit.errors import AuditUsageError, AuditWriteError
from agent.audit.jcs import canonicalize
from agent.audit.records import format_ts
from agent.audit.signing import CheckpointSigner, CheckpointVerifier, pick_verifier

STATEMENT_TYPE = "plantagent-audit-checkpoint/v1"
FILE_PREFIX = "checkpoint-"


class Checkpoint(BaseModel):
    """A signed statement of the log's size and Merkle root at one moment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    log_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="The log this belongs to.")
    tree_size: int = Field(ge=0, description="Number of records covered (seq 1..tree_size).")
    root_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="Merkle root of them.")
    ts: datetime = Field(description="When the checkpoint was made (UTC).")
    key_id: str = Field(min_length=1, description="The signing key pair's identifier.")
    signature: str = Field(description="Hybrid signature of the statement, base64.")

    def statement(self) -> bytes:
        """The exact bytes that were signed."""
        return checkpoint_statement(
            self.log_id, self.tree_size, self.root_hash, format_ts(self.ts), self.key_id
        )

    def signature_bytes(self) -> bytes:
        """The decoded signature (empty when it is not valid base64)."""
        try:
            return base64.b64decode(self.signature, validate=True)
        except (binascii.Error, ValueError):
            return b""

    def verify_signature(self, verifier: CheckpointVerifier) -> str | None:
        """None when the signature is valid for ``verifier``; otherwise what is wrong."""
        chosen, why = pick_verifier(verifier, self.key_id, self.tree_size)
        if chosen is None:
            return why
        if not chosen.verify(self.statement(), self.signature_bytes()):
            return "signature does not verify"
        return None

    def stored_row(self) -> tuple[Any, ...]:
        """The row of the checkpoints table, without its id."""
        return (
            self.log_id,
            self.tree_size,
            self.root_hash,
            format_ts(self.ts),
            self.key_id,
            self.signature,
        )


def checkpoint_statement(
    log_id: str, tree_size: int, root_hash: str, ts: str, key_id: str
) -> bytes:
    """The statement a checkpoint signs, in RFC 8785 JSON (strings and integers only, so
    the same bytes as the checkpoints signed before JCS)."""
    return canonicalize(
        {
            "type": STATEMENT_TYPE,
            "log_id": log_id,
            "tree_size": tree_size,
            "root": root_hash,
            "ts": ts,
            "key_id": key_id,
        }
    )


def sign_checkpoint(
    signer: CheckpointSigner, log_id: str, tree_size: int, root: bytes, ts: datetime
) -> Checkpoint:
    """Make and sign a checkpoint."""
    statement = checkpoint_statement(log_id, tree_size, root.hex(), format_ts(ts), signer.key_id)
    signature = signer.sign(statement)
    return Checkpoint(
        log_id=log_id,
        tree_size=tree_size,
        root_hash=root.hex(),
        ts=ts,
        key_id=signer.key_id,
        signature=base64.b64encode(signature).decode("ascii"),
    )


def checkpoint_from_row(row: tuple[Any, ...]) -> Checkpoint:
    """Parse a stored checkpoint row (log_id, size, root, ts, key_id, signature)."""
    log_id, tree_size, root_hash, ts, key_id, signature = row
    return Checkpoint.model_validate(
        {
            "log_id": log_id,
            "tree_size": tree_size,
            "root_hash": root_hash,
            "ts": ts,
            "key_id": key_id,
            "signature": signature,
        }
    )


def checkpoint_file_name(checkpoint: Checkpoint) -> str:
    """One file per tree size: a second checkpoint of the same size hints at a rollback."""
    return f"{FILE_PREFIX}{checkpoint.tree_size:012d}.json"


def write_checkpoint_file(directory: Path, checkpoint: Checkpoint) -> Path:
    """Write a checkpoint to ``directory`` once; never overwrite an existing file.

    The content goes to a fresh temporary file first (fsynced, read-only), which is then
    hard-linked to the final name: link() refuses an existing name and is atomic, so a
    crash leaves either no checkpoint file or a complete one. Raises AuditWriteError when
    the file cannot be written or already exists.
    """
    path = directory / checkpoint_file_name(checkpoint)
    data = checkpoint_bytes(checkpoint)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=directory, prefix=".tmp-", suffix=".json", delete=False
        ) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temp = Path(handle.name)
        try:
            temp.chmod(0o444)
            os.link(temp, path)
        finally:
            temp.unlink()
        _fsync_dir(directory)
    except FileExistsError:
        raise AuditWriteError(
            f"a checkpoint of tree size {checkpoint.tree_size} already exists at {path}; "
            "write-once files are never overwritten",
            fix="the log may have been rolled back: run `plantagent audit verify "
            f"--checkpoint {path}`",
        ) from None
    except OSError as exc:
        raise AuditWriteError(
            f"cannot write checkpoint file {path}: {exc.strerror}",
            fix="check that the checkpoint export directory is writable and has space",
        ) from exc
    return path


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def checkpoint_bytes(checkpoint: Checkpoint) -> bytes:
    """The signed checkpoint as exported: the bytes of its file, and what a witness is
    sent and keeps (opaque to the witness; :func:`parse_checkpoint_bytes` reads them)."""
    return checkpoint.model_dump_json(indent=2).encode("utf-8") + b"\n"


def parse_checkpoint_bytes(data: bytes) -> Checkpoint:
    """The checkpoint of :func:`checkpoint_bytes`; ValueError when malformed."""
    return Checkpoint.model_validate(json.loads(data.decode("utf-8")))


def read_checkpoint_file(path: Path) -> Checkpoint:
    """Load one checkpoint file; a missing or malformed file is a usage error."""
    try:
        return parse_checkpoint_bytes(path.read_bytes())
    except FileNotFoundError:
        raise AuditUsageError(
            f"no checkpoint file at {path}", fix="give the path of an exported checkpoint"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError) as exc:
        raise AuditUsageError(
            f"{path} is not a valid audit checkpoint: {exc}",
            fix="give a checkpoint-*.json file written by plantagent",
        ) from None


def read_checkpoint_dir(directory: Path) -> tuple[list[tuple[str, Checkpoint]], list[str]]:
    """The checkpoint files of an export directory, smallest first, named by file; and
    the errors of files that do not parse (reported by verify, not raised)."""
    good: list[tuple[str, Checkpoint]] = []
    bad: list[str] = []
    if not directory.is_dir():
        return good, bad
    for path in sorted(directory.glob(f"{FILE_PREFIX}*.json")):
        try:
            good.append((f"file {path.name}", read_checkpoint_file(path)))
        except AuditUsageError as exc:
            bad.append(exc.message)
    return good, bad
