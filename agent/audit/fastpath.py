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

import hashlib
import re
from collections.abc import Sequence
from json.encoder import encode_basestring
from typing import Any

from agent.audit.records import AUDIT_KINDS, RECORD_VERSIONS

#: Each kind the fast path proves, as its JSON text (kinds are ASCII identifiers).
_KIND_TEXT = {kind: encode_basestring(kind) for kind in AUDIT_KINDS if kind != "review_note"}
# ASCII digits only: ``\d`` would take other scripts' digits, which the full check refuses.
_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", re.ASCII)
_VERSIONS = frozenset(RECORD_VERSIONS)
_sha256 = hashlib.sha256
#: Short strings repeat (a few actors, roles, tools, equipment): their JSON text is
#: remembered, up to a bound, instead of encoded again for every row.
_texts: dict[str, str] = {}
_TEXTS_MAX = 4096


def _text(value: str) -> str:
    text = _texts.get(value)
    if text is None:
        if len(_texts) >= _TEXTS_MAX:
            _texts.clear()
        text = _texts[value] = encode_basestring(value)
    return text


def _short(value: Any, limit: int) -> str | None:
    """The JSON text of an optional short string column, or None when it is not one."""
    if value is None:
        return "null"
    if type(value) is not str or not 0 < len(value) <= limit:
        return None
    return _text(value)


def fast_leaf(row: Sequence[Any], expected_seq: int, prev: str) -> bytes | None:
    """The leaf hash of ``row`` when it is provably the record ``expected_seq`` linking to
    ``prev``; None when the full check must decide.

    ``prev`` is the previous record's verified hash (or the genesis hash): lowercase hex,
    so it is its own JSON text. The stored hash needs no pattern check of its own: it
    must equal the hex of the computed leaf.
    """
    if len(row) != 11:
        return None
    seq, ts, kind, actor, role, tool, equipment, payload, prev_hash, hash_, version = row
    if seq != expected_seq or type(seq) is not int or prev_hash != prev:
        return None
    if type(version) is not int or version not in _VERSIONS:
        return None
    kind_text = _KIND_TEXT.get(kind)
    if kind_text is None or type(ts) is not str or type(payload) is not str:
        return None
    if not _TS.fullmatch(ts) or payload[:1] != "{" or payload[-1:] != "}":
        return None
    if type(actor) is not str or not 0 < len(actor) <= 200:
        return None
    role_text = _short(role, 100)
    tool_text = _short(tool, 200)
    equipment_text = _short(equipment, 200)
    if role_text is None or tool_text is None or equipment_text is None:
        return None
    # The leading NUL is the leaf prefix of RFC 6962 (one UTF-8 byte), hashed in one go.
    body = (
        f'\x00{{"actor":{_text(actor)},"equipment":{equipment_text},"kind":{kind_text},'
        f'"payload":{payload},"prev":"{prev}","role":{role_text},"seq":{seq},'
        f'"tool":{tool_text},"ts":"{ts}","v":{version}}}'
    )
    leaf = _sha256(body.encode("utf-8")).digest()
    return leaf if leaf.hex() == hash_ else None
