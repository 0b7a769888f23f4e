"""Cutting documents into citable chunks: one per section, with its line range.

Markdown is cut at headings (outside fenced code); each chunk remembers its heading path
("4 Troubleshooting > 4.1 Bearing wear") and the 1-based, inclusive line range it covers
in the file, so every search hit can be cited as document, section and lines. Plain text
is cut at heading-like lines (ALL CAPS, or underlined with === / ---). A section longer
than ``max_chars`` is split at blank lines (tables and lists stay whole when they can).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_UNDERLINE = re.compile(r"^\s*(=+|-+)\s*$")

#: A section longer than this is split (about 170 words: fits the embedder's 256 tokens).
MAX_CHARS = 1000


@dataclass(frozen=True)
class Chunk:
    """A piece of a document: its section path, its lines, and its text."""

    section: str
    line_start: int
    line_end: int
    text: str


@dataclass(frozen=True)
class _Section:
    path: str
    start: int  # 1-based line of the heading (or the first line)
    lines: list[str]


def chunk_markdown(text: str, *, max_chars: int = MAX_CHARS) -> tuple[str | None, list[Chunk]]:
    """(title, chunks) of a Markdown text; the title is its first level-1 heading."""
    title: str | None = None
    stack: list[tuple[int, str]] = []
    sections: list[_Section] = [_Section("", 1, [])]
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _MD_HEADING.match(line)
        if match is None:
            sections[-1].lines.append(line)
            continue
        level, heading = len(match.group(1)), match.group(2).strip()
        if level == 1 and title is None:
            title = heading
            stack = []
        else:
            stack = [(lv, h) for lv, h in stack if lv < level] + [(level, heading)]
        sections.append(_Section(" > ".join(h for _, h in stack), number, [line]))
    return title, _to_chunks(sections, max_chars)


def _is_text_heading(line: str, next_line: str) -> bool:
    stripped = line.strip()
    if not stripped or len(stripped) > 80:
        return False
    if _UNDERLINE.match(next_line) and not _UNDERLINE.match(line):
        return True
    letters = [c for c in stripped if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters) and stripped[-1] != "."


def chunk_plain(text: str, *, max_chars: int = MAX_CHARS) -> tuple[str | None, list[Chunk]]:
    """(title, chunks) of a plain text; the first heading-like line is the title."""
    lines = text.splitlines()
    title: str | None = None
    sections: list[_Section] = [_Section("", 1, [])]
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if _is_text_heading(line, following):
            heading = line.strip()
            if title is None:
                title = heading
                sections.append(_Section("", index + 1, [line]))
            else:
                sections.append(_Section(heading, index + 1, [line]))
        else:
            sections[-1].lines.append(line)
    return title, _to_chunks(sections, max_chars)


def chunk_pages(pages: list[str], *, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Chunks of an extracted PDF: one section per page ("page N"), lines counted across
    the whole extracted text (pages joined in order)."""
    sections: list[_Section] = []
    line = 1
    for number, page in enumerate(pages, start=1):
        page_lines = page.splitlines() or [""]
        sections.append(_Section(f"page {number}", line, page_lines))
        line += len(page_lines)
    return _to_chunks(sections, max_chars)


def _to_chunks(sections: list[_Section], max_chars: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in sections:
        for start, block in _split(section, max_chars):
            body = "\n".join(block).strip()
            # A heading alone (directly followed by a sub-heading) carries nothing to find.
            if not body or (_MD_HEADING.match(body) and "\n" not in body):
                continue
            first = start + _leading_blank(block)
            last = start + len(block) - 1 - _trailing_blank(block)
            chunks.append(Chunk(section.path, first, last, body))
    return chunks


def _leading_blank(block: list[str]) -> int:
    n = 0
    while n < len(block) and not block[n].strip():
        n += 1
    return n


def _trailing_blank(block: list[str]) -> int:
    n = 0
    while n < len(block) and not block[len(block) - 1 - n].strip():
        n += 1
    return n


def _split(section: _Section, max_chars: int) -> list[tuple[int, list[str]]]:
    """The section's lines in pieces of at most ~max_chars, cut at blank lines."""
    lines = section.lines
    if sum(len(x) + 1 for x in lines) <= max_chars:
        return [(section.start, lines)]
    pieces: list[tuple[int, list[str]]] = []
    current: list[str] = []
    current_start = section.start
    size = 0
    for offset, line in enumerate(lines):
        at_break = not line.strip()
        too_big = size + len(line) + 1 > max_chars
        # Cut at a paragraph break once the piece is half full, or anywhere when a single
        # paragraph alone is longer than the limit.
        if current and ((at_break and size > max_chars // 2) or too_big):
            pieces.append((current_start, current))
            current, size = [], 0
            current_start = section.start + offset
        current.append(line)
        size += len(line) + 1
    if current:
        pieces.append((current_start, current))
    return [p for p in pieces if any(x.strip() for x in p[1])]
