"""What keeps the audit log itself from being rolled back or replaced unseen.

- site.json names the log (its id): a missing audit database, or one holding another
  log, is refused; a site made before the anchor adopts the log it has, once.
- the newest signed checkpoint kept outside the database (the export directory, a
  witness directory) bounds it: a database with fewer records, or other records at
  that size, is an older copy or was cut short, and is refused at open.
- a checkpoint is signed when the log closes, so the tail after the last periodic
  checkpoint is covered too (only a crash leaves records no checkpoint covers).
"""

from __future__ import annotations

from pathlib import Path

from agent.audit import merkle
from agent.audit.checkpoints import FILE_PREFIX, Checkpoint, read_checkpoint_file
from agent.audit.errors import AuditUsageError
from agent.audit.reader import AuditReader
from agent.audit.signing import CheckpointVerifier


def newest_checkpoint(directory: Path | None, log_id: str,
                      verifier: CheckpointVerifier) -> tuple[Path, Checkpoint] | None:
    """The checkpoint of the largest tree size in ``directory`` that parses, is of this
    log and carries a valid signature (a damaged or foreign file is verify's to report)."""
    if directory is None or not directory.is_dir():
        return None
    for path in sorted(directory.glob(f"{FILE_PREFIX}*.json"), reverse=True):
        try:
            checkpoint = read_checkpoint_file(path)
        except AuditUsageError:
            continue
        if checkpoint.log_id == log_id and checkpoint.verify_signature(verifier) is None:
            return path, checkpoint
    return None


def behind(log: AuditReader, checkpoint: Checkpoint) -> str | None:
    """Why the log does not extend ``checkpoint`` (None when it does)."""
    size = log.size()
    if size < checkpoint.tree_size:
        return (f"holds {size} records, but a checkpoint signed "
                f"{checkpoint.ts:%Y-%m-%d %H:%M:%S}Z covers {checkpoint.tree_size}: it is an "
                "older copy, or records were cut off")
    if any(cp.tree_size == checkpoint.tree_size and cp.root_hash == checkpoint.root_hash
           for cp in log.stored_checkpoints()):
        return None
    root = merkle.root_of(log.record_hashes(1, checkpoint.tree_size)).hex()
    if root != checkpoint.root_hash:
        return (f"differs in its first {checkpoint.tree_size} records from what a checkpoint "
                f"signed {checkpoint.ts:%Y-%m-%d %H:%M:%S}Z says: rewritten, or rolled back "
                "and appended again")
    return None
