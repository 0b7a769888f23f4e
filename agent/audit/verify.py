"""Verification of a log: the hash chain, the Merkle tree, every signature.

Works on raw stored rows (from the database or a bundle), so a row an attacker mangled
into something unparseable is reported, never crashes the check. The first bad record is
named exactly for chain breaks (altered, missing, inserted, reordered, duplicated
records). A log that still chains but disagrees with a signed checkpoint was rewritten or
rolled back: the report names the first record the checkpoint cannot vouch for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from agent.audit.checkpoints import Checkpoint
from agent.audit.fastpath import fast_leaf
from agent.audit.merkle import Frontier
from agent.audit.records import genesis_hash, record_from_row
from agent.audit.review import check_review
from agent.audit.signing import CheckpointVerifier


class Problem(BaseModel):
    """One thing verification found wrong."""

    message: str
    seq: int | None = Field(None, description="The first record concerned, if known.")
    checkpoint: str | None = Field(None, description="Which checkpoint, if one is concerned.")


class VerifyReport(BaseModel):
    """The outcome of a verification."""

    ok: bool
    log_id: str
    records_verified: int = Field(description="Records that chain correctly from seq 1.")
    records_stored: int = Field(description="Rows found, good or bad.")
    root_hash: str = Field(description="Merkle root over the verified records.")
    checkpoints_verified: int
    signatures_checked: bool
    first_bad_seq: int | None = Field(
        description="The first record a check failed at. When a signed checkpoint disagrees "
        "with records that still chain (rewritten consistently, or rolled back and appended "
        "again), the first record after the last checkpoint that matched."
    )
    problems: list[Problem]

    def summary(self) -> str:
        """One line for people."""
        if self.ok:
            return (
                f"OK: {self.records_verified} records chain and match "
                f"{self.checkpoints_verified} signed checkpoints (root {self.root_hash[:16]}…)"
            )
        return (
            f"FAILED: first bad record seq {self.first_bad_seq}: {self.problems[0].message}"
            if self.first_bad_seq is not None
            else f"FAILED: {self.problems[0].message}"
        )


NamedCheckpoint = tuple[str, Checkpoint]

#: From this many checkpoints on, their signatures are checked in a second thread while
#: the chain is walked: the signature libraries release the GIL, so on two cores the
#: checks (a fifth of the work at a checkpoint every 256 records) cost no wall time.
_SIGNATURES_IN_THREAD = 8


def verify_rows(
    log_id: str,
    rows: Iterable[Sequence[Any]],
    checkpoints: Sequence[NamedCheckpoint],
    verifier: CheckpointVerifier | None,
    extra_problems: Sequence[Problem] = (),
) -> VerifyReport:
    """Verify record rows in seq order against named checkpoints.

    ``verifier`` None skips signature checks (the report says so); the CLI always passes
    the site's (or the auditor's) public keys.
    """
    problems = list(extra_problems)
    ours = [(name, cp) for name, cp in checkpoints if cp.log_id == log_id]
    with ThreadPoolExecutor(max_workers=1) as pool:
        signatures: Future[list[str | None]] | None = None
        if verifier is not None and len(ours) >= _SIGNATURES_IN_THREAD:
            signatures = pool.submit(_check_signatures, ours, verifier)
        walk = _walk(log_id, rows, {cp.tree_size for _, cp in ours}, verifier)
        why_not = (
            signatures.result() if signatures is not None
            else _check_signatures(ours, verifier) if verifier is not None
            else [None] * len(ours)
        )
    by_size: dict[int, list[NamedCheckpoint]] = {}
    signed = iter(why_not)
    for name, cp in checkpoints:  # their problems in their order, as they were given
        if cp.log_id != log_id:
            problems.append(Problem(message=f"checkpoint is of log {cp.log_id}", checkpoint=name))
        elif (why := next(signed)) is not None:
            problems.append(Problem(message=f"checkpoint {why}", checkpoint=name))
        else:
            by_size.setdefault(cp.tree_size, []).append((name, cp))
    # The roots at the checkpoints' sizes, in the order the walk reached them: the
    # problems come out as if each had been checked there.
    verified_cps = 0
    good_cp_size = 0  # largest tree size a checkpoint vouched for so far
    for size in sorted(s for s in by_size if s <= walk.frontier.size):
        matched = _check_size(size, walk.roots[size], by_size, problems, good_cp_size)
        verified_cps += matched
        if matched and size:
            good_cp_size = size
    if walk.problem is not None:
        problems.append(walk.problem)
    for size in sorted(s for s in by_size if s > walk.frontier.size):
        for name, cp in by_size[size]:
            if walk.problem is not None:
                message = f"checkpoint of size {size} not checked: the chain breaks before it"
                problems.append(Problem(message=message, checkpoint=name))
            else:
                problems.append(
                    Problem(
                        message=f"the log ends at seq {walk.frontier.size} but a checkpoint "
                        f"signed {cp.ts:%Y-%m-%d %H:%M:%S}Z covers {size} records: records "
                        "were removed (truncation, or a rollback to an older copy)",
                        seq=walk.frontier.size + 1,
                        checkpoint=name,
                    )
                )
    seqs = [p.seq for p in problems if p.seq is not None]
    return VerifyReport(
        ok=not problems,
        log_id=log_id,
        records_verified=walk.frontier.size,
        records_stored=walk.stored,
        root_hash=walk.frontier.root().hex(),
        checkpoints_verified=verified_cps,
        signatures_checked=verifier is not None,
        first_bad_seq=min(seqs) if seqs else None,
        problems=problems,
    )


def _check_signatures(
    checkpoints: Sequence[NamedCheckpoint], verifier: CheckpointVerifier
) -> list[str | None]:
    """Why each checkpoint's signature fails (None: it verifies)."""
    return [cp.verify_signature(verifier) for _, cp in checkpoints]


@dataclass
class _Walk:
    """What walking the chain found: the tree of the records that chain, its roots at
    the sizes asked for, the rows stored and the first bad record's problem."""

    frontier: Frontier = field(default_factory=Frontier)
    roots: dict[int, bytes] = field(default_factory=dict)
    stored: int = 0
    problem: Problem | None = None


def _walk(
    log_id: str,
    rows: Iterable[Sequence[Any]],
    sizes: set[int],
    verifier: CheckpointVerifier | None,
) -> _Walk:
    walk = _Walk()
    frontier, roots = walk.frontier, walk.roots
    hashes: list[bytes] = []
    prev = genesis_hash(log_id)
    if 0 in sizes:
        roots[0] = frontier.root()
    for row in rows:
        walk.stored += 1
        if walk.problem is not None:
            continue  # keep counting rows; nothing after a break can be trusted
        expected = frontier.size + 1
        # The fast path proves most rows; any row it cannot prove gets the full check,
        # which names the problem exactly.
        leaf = fast_leaf(row, expected, prev)
        if leaf is None:
            walk.problem = _check_row(row, expected, prev, log_id, hashes, verifier)
            if walk.problem is not None:
                continue
            leaf = bytes.fromhex(str(row[9]))
        prev = str(row[9])
        frontier.append(leaf)
        hashes.append(leaf)
        if expected in sizes:
            roots[expected] = frontier.root()
    return walk


def _check_row(
    row: Sequence[Any],
    expected: int,
    prev: str,
    log_id: str,
    hashes: list[bytes],
    verifier: CheckpointVerifier | None,
) -> Problem | None:
    seq = row[0] if len(row) else None
    if seq != expected:
        if isinstance(seq, int) and seq > expected:
            return Problem(message=f"record {expected} is missing (next is {seq})", seq=expected)
        return Problem(
            message=f"record {expected} is out of place (found seq {seq!r})", seq=expected
        )
    try:
        record = record_from_row(tuple(row))
    except (ValueError, TypeError, ValidationError) as exc:
        reason = str(exc).splitlines()[0]
        return Problem(message=f"record {expected} is malformed: {reason}", seq=expected)
    if record.prev_hash != prev:
        return Problem(
            message=f"record {expected} does not link to record {expected - 1} "
            "(a record was removed, inserted or reordered before it)",
            seq=expected,
        )
    if record.computed_hash() != record.hash:
        return Problem(message=f"record {expected} was altered (hash mismatch)", seq=expected)
    if record.kind == "review_note":
        why = check_review(record, log_id, hashes, verifier)
        if why is not None:
            return Problem(message=f"record {expected}: {why}", seq=expected)
    return None


def _check_size(
    size: int,
    root_bytes: bytes,
    by_size: dict[int, list[NamedCheckpoint]],
    problems: list[Problem],
    good_cp_size: int,
) -> int:
    """Compare the root at ``size`` with the checkpoints of that size."""
    matched = 0
    root = root_bytes.hex()
    for name, cp in by_size.get(size, []):
        if cp.root_hash == root:
            matched += 1
            continue
        problems.append(
            Problem(
                message=f"records {good_cp_size + 1}-{size} differ from what the "
                f"checkpoint signed {cp.ts:%Y-%m-%d %H:%M:%S}Z says (rewritten, or rolled "
                "back and appended again)",
                seq=good_cp_size + 1,
                checkpoint=name,
            )
        )
    return matched
