"""Structured records (audit payloads, tool results) as people read them: a one-line
'key value · key value' summary and a Markdown table of fields, never raw JSON."""

from __future__ import annotations

import json
from typing import Any

#: Longest value shown in a table cell or the summary (the full record is exported).
CELL_CHARS = 160
#: Most list items shown before '… (+N)'.
LIST_ITEMS = 6


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        shown = [_plain(v) for v in value[:LIST_ITEMS]]
        more = f" … (+{len(value) - LIST_ITEMS})" if len(value) > LIST_ITEMS else ""
        return ", ".join(shown) + more if shown else "(none)"
    if isinstance(value, dict):
        return "; ".join(f"{k} {_plain(v)}" for k, v in value.items()) or "(none)"
    return str(value)


def fields(payload: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """(field, value) pairs, nested records flattened one level ('target.tag')."""
    out: list[tuple[str, str]] = []
    for key, value in payload.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and not prefix:
            out += fields(value, f"{name}.")
        elif (not prefix and isinstance(value, list) and value
              and all(isinstance(v, dict) for v in value)):
            # A list of records (a tool's readings): one row per record.
            for i, item in enumerate(value[:LIST_ITEMS], 1):
                out.append((f"{name}[{i}]", _plain(item)))
            if len(value) > LIST_ITEMS:
                out.append((f"{name}[…]", f"+{len(value) - LIST_ITEMS} more"))
        else:
            text = _plain(value)
            out.append((name, text if len(text) <= CELL_CHARS else text[:CELL_CHARS - 1] + "…"))
    return out


def summary(payload: dict[str, Any]) -> str:
    """'event plant_write · tag HX-101.X · value 33' (the caller cuts it to width)."""
    return " · ".join(f"{k} {v}" for k, v in fields(payload))


def table(payload: dict[str, Any]) -> str:
    """A two-column Markdown table of the fields (pipes escaped)."""
    rows = ["| field | value |", "|---|---|"]
    for key, value in fields(payload):
        cell = value.replace("|", "\\|").replace("\n", " ")
        rows.append(f"| {key} | {cell} |")
    return "\n".join(rows)


def as_record(text: str) -> dict[str, Any] | None:
    """``text`` as a record when it is a JSON object, else None."""
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None
