"""Text out of PDF files with pypdf, within limits, with one clear error for bad files.

A PDF is untrusted input: it may be damaged, encrypted, enormous, or built to make a
parser loop. Size and page count are checked before any text is extracted, and every
pypdf failure becomes a :class:`DocumentError` naming the file and the fix, so the
indexer skips the file and goes on with the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from agent.errors import UsageError


class DocumentError(UsageError):
    """A document that cannot be indexed (unreadable, damaged, too big, wrong type)."""


@dataclass(frozen=True)
class IngestLimits:
    """How big a document may be before it is refused."""

    max_bytes: int = 50 * 1024 * 1024
    max_pdf_pages: int = 1000
    max_text_chars: int = 5_000_000


def pdf_pages(path: Path, limits: IngestLimits) -> list[str]:
    """The extracted text of each page of ``path``; DocumentError if it cannot be read."""
    # pypdf is imported here so that indexing Markdown never pays for it.
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    size = path.stat().st_size
    if size > limits.max_bytes:
        raise DocumentError(
            f"{path.name} is {size / 1e6:.1f} MB, over the {limits.max_bytes / 1e6:.0f} MB "
            "limit for one document; it was skipped",
            fix="split the PDF into smaller files, or export the needed chapters",
        )
    # pypdf logs warnings about every oddity of a damaged file; the error below says it.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            raise DocumentError(
                f"{path.name} is an encrypted PDF; it was skipped",
                fix="save an unencrypted copy of it and add that",
            )
        count = len(reader.pages)
        if count > limits.max_pdf_pages:
            raise DocumentError(
                f"{path.name} has {count} pages, over the limit of {limits.max_pdf_pages}; "
                "it was skipped",
                fix="split the PDF into smaller files",
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        OSError,
        RecursionError,
        AssertionError,
        IndexError,
    ) as exc:
        # pypdf reports damage through many exception types; all mean "unreadable".
        raise DocumentError(
            f"{path.name} is not a readable PDF ({type(exc).__name__}: {exc}); it was skipped",
            fix="open it in a PDF viewer to check it, or re-export it from the source",
        ) from exc
    if not any(p.strip() for p in pages):
        raise DocumentError(
            f"{path.name} has no extractable text (a scanned image?); it was skipped",
            fix="run OCR on it first, or add a text version",
        )
    return pages
