"""Words of a question and of tag names, for the deterministic rules of the loop."""

from __future__ import annotations

import re
from collections.abc import Mapping

_WORD = re.compile(r"[^\W\d_]+")
_CAMEL = re.compile(r"[A-Z][a-z]+|[A-Z]+(?![a-z])|[a-z]+")


def words_of(text: str, synonyms: Mapping[str, str]) -> set[str]:
    """The lower-case words of ``text`` (any script), plus the words they stand for."""
    words = {w.lower() for w in _WORD.findall(text)}
    return words | {synonyms[w] for w in words if w in synonyms}


def tag_words(tag_name: str) -> set[str]:
    """The words of a tag's variable name: 'P-101.BearingTemperature' -> bearing, temperature."""
    short = tag_name.split(".", 1)[-1]
    return {w.lower() for w in _CAMEL.findall(short)}
