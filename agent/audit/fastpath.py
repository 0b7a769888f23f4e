"""The fast path of verification: a stored row proven by its hash alone, without parsing.

A record's hash is SHA-256(0x00 || canonical body), and the body embeds the
stored texts as they are (the payload column holds the payload's canonical JSON, the ts
column the canonical time). So the body can be rebuilt from the stored columns by
concatenation, with only the short strings encoded, and hashed: when the hash matches
the stored one and links to the previous record, the row is byte for byte what was
sealed, and parsing it again would prove nothing more. That makes verification run at
close to the speed of hashing (about ten times the full parse).

The record versions 1 and 2 build this body alike: its own keys are ASCII, its short
strings are escaped the same way by both encodings, and the payload column holds the
payload in the record's own encoding. Any row this cannot prove (an unknown version, a
review note, which carries its own signature to check, a mismatch of any kind) returns
None and gets the full check of :func:`agent.audit.verify._check_row`, which names the
problem. A test holds this body equal to :func:`agent.audit.records.record_body` for
arbitrary records.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from json.encoder import encode_basestring
from typing import Any

from agent.audit.merkle import leaf_hash
from agent.audit.records import AUDIT_KINDS, RECORD_VERSIONS

_KINDS = frozenset(AUDIT_KINDS) - {"review_note"}
_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_LIMITS = ((3, 200, False), (4, 100, True), (5, 200, True), (6, 200, True))


def _text(value: Any) -> str:
    return "null" if value is None else encode_basestring(value)


def fast_leaf(row: Sequence[Any], expected_seq: int, prev: str) -> bytes | None:
    """The leaf hash of ``row`` when it is provably the record ``expected_seq`` linking to
    ``prev``; None when the full check must decide."""
    if len(row) != 11:
        return None
    seq, ts, kind, actor, role, tool, equipment, payload, prev_hash, hash_, version = row
    if type(version) is not int or version not in RECORD_VERSIONS:
        return None
    if type(seq) is not int or seq != expected_seq or prev_hash != prev:
        return None
    if kind not in _KINDS or type(ts) is not str or type(payload) is not str:
        return None
    if type(hash_) is not str or not _HEX64.fullmatch(hash_) or not _TS.fullmatch(ts):
        return None
    for index, limit, nullable in _LIMITS:
        value = row[index]
        if value is None and nullable:
            continue
        if type(value) is not str or not 0 < len(value) <= limit or (not nullable and not value):
            return None
    if not (payload.startswith("{") and payload.endswith("}")):
        return None
    body = (
        f'{{"actor":{_text(actor)},"equipment":{_text(equipment)},"kind":{_text(kind)},'
        f'"payload":{payload},"prev":{_text(prev_hash)},"role":{_text(role)},"seq":{seq},'
        f'"tool":{_text(tool)},"ts":{_text(ts)},"v":{version}}}'
    )
    leaf = leaf_hash(body.encode("utf-8"))
    return leaf if leaf.hex() == hash_ else None
