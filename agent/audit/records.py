"""The audit record: its pydantic model, its canonical encoding and its hash.

A record's hash is the RFC 6962 leaf hash of its canonical body, and the body names the
previous record's hash, so one value both chains the records and is the Merkle leaf:

    body = canonical({v, seq, ts, kind, actor, role, tool, equipment, payload, prev})
    hash = SHA-256(0x00 || body)

``v`` is the record format version, stored with the record (column ``version``):

- version 2 (new records): ``canonical`` is RFC 8785 JCS (:mod:`agent.audit.jcs`), so
  any JCS implementation rebuilds the body (auditor/verify_bundle.mjs does, in Node.js).
  A payload JCS cannot carry exactly (an integer no double holds) is sealed in version 1.
- version 1 (records written before, and the exception above): Python's
  ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``. Old records
  keep verifying under it; it differs from JCS only in numbers with a fraction or
  exponent and in the order of keys beyond the Basic Multilingual Plane.

Both: no whitespace, UTF-8, no NaN/Infinity. Timestamps are UTC with microseconds,
written ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from agent.audit.jcs import canonicalize
from agent.audit.merkle import leaf_hash

#: Version of new record bodies; bump with a new hashing rule, never change one in place.
RECORD_VERSION: Literal[2] = 2
#: Every version a stored record may carry.
RECORD_VERSIONS = (1, 2)

AuditKind = Literal[
    "question",
    "answer",
    "model_call",
    "tool_call",
    "tool_result",
    "policy_decision",
    "approval",
    "key_change",
    "config_change",
    "egress_refused",
    "error",
    "review_note",
    "alarm",
    "triage",
    "session_start",
    "session_end",
    "handover",
    "database",
]

AUDIT_KINDS: tuple[str, ...] = get_args(AuditKind)

HexHash = str  # 64 lowercase hex digits

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def canonical_json(value: Any) -> bytes:
    """The version-1 canonical encoding (Python's sorted, compact JSON), kept for the
    records and statements written in it; new ones use :func:`encode` (RFC 8785)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def encode(value: Any, version: int = RECORD_VERSION) -> bytes:
    """The canonical bytes of ``value`` in record format ``version`` (2: RFC 8785)."""
    if version == 1:
        return canonical_json(value)
    if version == 2:
        return canonicalize(value)
    raise ValueError(f"unknown audit record version {version!r}")


def format_ts(moment: datetime) -> str:
    """A timezone-aware datetime as the canonical UTC string."""
    if moment.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime(_TS_FORMAT)


def parse_ts(text: str) -> datetime:
    """The inverse of :func:`format_ts`; anything not in the canonical form is refused."""
    moment = datetime.strptime(text, _TS_FORMAT).replace(tzinfo=UTC)
    if format_ts(moment) != text:
        raise ValueError(f"timestamp {text!r} is not canonical")
    return moment


def genesis_hash(log_id: str) -> HexHash:
    """The 'previous hash' of record 1: binds the chain to one log."""
    return hashlib.sha256(b"plantagent-audit-genesis\x00" + log_id.encode("ascii")).hexdigest()


class AuditRecord(BaseModel):
    """One entry of the audit log, as stored, exported and shown."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int = Field(ge=1, description="Position in the log, 1-based, without gaps.")
    ts: datetime = Field(description="When the record was appended (UTC).")
    kind: AuditKind = Field(description="What happened.")
    actor: str = Field(min_length=1, max_length=200, description="Who acted (user or agent).")
    role: str | None = Field(None, max_length=100, description="The actor's policy role.")
    tool: str | None = Field(None, max_length=200, description="The tool concerned, if any.")
    equipment: str | None = Field(None, max_length=200, description="Equipment concerned.")
    payload: dict[str, JsonValue] = Field(description="Details, as a JSON object.")
    prev_hash: HexHash = Field(pattern=r"^[0-9a-f]{64}$", description="Hash of record seq-1.")
    hash: HexHash = Field(pattern=r"^[0-9a-f]{64}$", description="Leaf hash of this record.")
    version: Literal[1, 2] = Field(
        RECORD_VERSION, description="Record format: 2 = RFC 8785 body, 1 = the older one."
    )

    def body(self) -> bytes:
        """The canonical bytes this record's hash covers."""
        return record_body(
            seq=self.seq,
            ts=format_ts(self.ts),
            kind=self.kind,
            actor=self.actor,
            role=self.role,
            tool=self.tool,
            equipment=self.equipment,
            payload=self.payload,
            prev_hash=self.prev_hash,
            version=self.version,
        )

    def computed_hash(self) -> HexHash:
        """The hash this record should carry, recomputed from its content."""
        return leaf_hash(self.body()).hex()

    def stored_row(self) -> tuple[Any, ...]:
        """The row of the records table (payload as canonical JSON text, version last)."""
        return (
            self.seq,
            format_ts(self.ts),
            self.kind,
            self.actor,
            self.role,
            self.tool,
            self.equipment,
            encode(self.payload, self.version).decode("utf-8"),
            self.prev_hash,
            self.hash,
            self.version,
        )


def record_body(
    *,
    seq: int,
    ts: str,
    kind: str,
    actor: str,
    role: str | None,
    tool: str | None,
    equipment: str | None,
    payload: Any,
    prev_hash: str,
    version: int = RECORD_VERSION,
) -> bytes:
    """The canonical body of a record from its parts (see the module docstring)."""
    return encode(
        {
            "v": version,
            "seq": seq,
            "ts": ts,
            "kind": kind,
            "actor": actor,
            "role": role,
            "tool": tool,
            "equipment": equipment,
            "payload": payload,
            "prev": prev_hash,
        },
        version,
    )


@dataclass(frozen=True)
class PreparedPayload:
    """A payload in the form it is sealed in: plain JSON and the record version that
    carries it exactly (:func:`prepare_payload`)."""

    plain: dict[str, Any]
    version: Literal[1, 2]


def prepare_payload(payload: dict[str, Any]) -> PreparedPayload:
    """The sealed form of ``payload``; ValueError/TypeError for what JSON cannot carry.

    Depends on nothing but the payload, so a writer does it before its record queues
    (:meth:`agent.audit.writer.AuditWriter.append`) and the group commit's leader, who
    writes every record of a batch in turn, does not.
    """
    # Round-trip the payload through canonical JSON: it refuses NaN and non-JSON types and
    # makes the stored payload exactly the hashed one (in JCS, 1.0 is stored as 1).
    plain = json.loads(canonical_json(payload))
    try:
        return PreparedPayload(json.loads(encode(plain, RECORD_VERSION)), RECORD_VERSION)
    except ValueError:
        # An integer a double cannot hold exactly (an OPC UA UInt64, a nanosecond time):
        # JCS cannot carry it, and rounding it would record a value that never was.
        return PreparedPayload(plain, 1)


def seal_record(
    *,
    seq: int,
    ts: datetime,
    kind: str,
    actor: str,
    role: str | None,
    tool: str | None,
    equipment: str | None,
    payload: dict[str, Any] | PreparedPayload,
    prev_hash: HexHash,
) -> AuditRecord:
    """Build a record and compute its hash; validation errors name the bad field."""
    prepared = payload if isinstance(payload, PreparedPayload) else prepare_payload(payload)
    plain, version = prepared.plain, prepared.version
    body = record_body(
        seq=seq,
        ts=format_ts(ts),
        kind=kind,
        actor=actor,
        role=role,
        tool=tool,
        equipment=equipment,
        payload=plain,
        prev_hash=prev_hash,
        version=version,
    )
    return AuditRecord(
        seq=seq,
        ts=ts.astimezone(UTC),
        kind=kind,  # validated by pydantic
        actor=actor,
        role=role,
        tool=tool,
        equipment=equipment,
        payload=plain,
        prev_hash=prev_hash,
        hash=leaf_hash(body).hex(),
        version=version,
    )


def record_from_row(row: tuple[Any, ...]) -> AuditRecord:
    """Parse a stored row strictly: any non-canonical field raises ValueError.

    The stored text must be exactly what :meth:`AuditRecord.stored_row` writes, so a
    changed byte anywhere either fails here or changes the recomputed hash.
    """
    if len(row) != 11:
        raise ValueError(f"a record row has 11 columns, not {len(row)}")
    seq, ts, kind, actor, role, tool, equipment, payload_text, prev_hash, hash_, version = row
    if version not in RECORD_VERSIONS or type(version) is not int:
        raise ValueError(f"unknown record version {version!r}")
    if not isinstance(payload_text, str) or not isinstance(ts, str):
        raise ValueError("payload and timestamp must be text")
    payload = json.loads(payload_text)
    record = AuditRecord.model_validate(
        {
            "seq": seq,
            "ts": parse_ts(ts),
            "kind": kind,
            "actor": actor,
            "role": role,
            "tool": tool,
            "equipment": equipment,
            "payload": payload,
            "prev_hash": prev_hash,
            "hash": hash_,
            "version": version,
        },
        strict=False,
    )
    if record.stored_row() != tuple(row):
        raise ValueError("the stored row is not in canonical form")
    return record
