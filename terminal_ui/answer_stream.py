"""The answer text inside a model step that is still being written.

Token events carry the raw JSON of the constrained step, e.g.
``{"action":"final_answer","answer":"P-101 runs at 42 m³/h","citations":["E1"]}``; this
pulls out the growing value of one string field (``answer``, or ``reason`` of a
"cannot answer" step) so the chat pane can show it while the model writes.
"""

from __future__ import annotations

import json
import re

#: The field shown while it streams, by the kind of step (tool calls show nothing).
STREAMED_FIELDS = {"final_answer": "answer", "cannot_answer": "reason"}
_ACTION = re.compile(r'"action"\s*:\s*"(\w+)"')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
            "t": "\t"}


class AnswerStream:
    """Feed it the tokens of one step; :attr:`text` is the answer written so far."""

    def __init__(self) -> None:
        self.raw = ""

    def reset(self) -> None:
        """A new model step starts."""
        self.raw = ""

    def feed(self, token: str) -> str:
        """Add a piece of the step and return the answer text so far."""
        self.raw += token
        return self.text

    @property
    def text(self) -> str:
        """The decoded part of the streamed field's string value ('' until it starts)."""
        action = _ACTION.search(self.raw)
        name = STREAMED_FIELDS.get(action.group(1)) if action else None
        if name is None:
            return ""
        # Search after the action: the field comes after it in every step schema.
        match = re.compile(rf'"{name}"\s*:\s*"').search(self.raw, action.end() if action else 0)
        return partial_string(self.raw, match.end()) if match else ""


def partial_string(raw: str, start: int) -> str:
    """Decode the JSON string body starting at ``raw[start]`` up to its closing quote or
    the end of what is there; an escape cut in half is left out until it is complete."""
    out: list[str] = []
    i = start
    while i < len(raw):
        ch = raw[i]
        if ch == '"':
            break
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= len(raw):
            break  # a lone backslash at the end: wait for the rest
        code = raw[i + 1]
        if code == "u":
            digits = raw[i + 2 : i + 6]
            if len(digits) < 4:
                break
            if _is_high_surrogate(digits) and len(raw) < i + 12:
                break  # the first half of a surrogate pair: wait for the second
            out.append(_unicode(raw, i, digits))
            i += 12 if _is_surrogate_pair(raw, i) else 6
            continue
        out.append(_ESCAPES.get(code, code))
        i += 2
    return "".join(out)


def _is_high_surrogate(digits: str) -> bool:
    try:
        return 0xD800 <= int(digits, 16) <= 0xDBFF
    except ValueError:
        return False


def _is_surrogate_pair(raw: str, i: int) -> bool:
    return (_is_high_surrogate(raw[i + 2 : i + 6])
            and raw[i + 6 : i + 8] == "\\u" and len(raw[i + 8 : i + 12]) == 4)


def _unicode(raw: str, i: int, digits: str) -> str:
    try:
        if _is_surrogate_pair(raw, i):
            return str(json.loads(f'"{raw[i : i + 12]}"'))
        return chr(int(digits, 16))
    except ValueError:
        return ""
