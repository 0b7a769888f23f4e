"""Indexing Markdown, text and PDF files; citations; bad and changed files."""

from __future__ import annotations

from pathlib import Path

from agent.twin.documents.index import DocumentIndex
from agent.twin.documents.pdf import IngestLimits
from agent.twin.embeddings.runtime import LlamaEmbedder

from .pdfmaker import make_pdf
from .twin_docs_helpers import CountingEmbedder, new_db

MANUAL = """\
# Gearbox G-7 Manual

Intro text about the gearbox.

## 1 Lubrication

Use CLP 220 oil. Change the oil every 10000 hours.

## 2 Troubleshooting

### 2.1 Whining noise

A whining noise from the gearbox means worn gear teeth or a quasar-flux bearing.
Check the backlash.
"""


def _cited_lines(path: Path, start: int, end: int) -> str:
    return "\n".join(path.read_text(encoding="utf-8").splitlines()[start - 1 : end])


def test_markdown_hit_cites_document_section_and_lines(
    index: DocumentIndex, tmp_path: Path
) -> None:
    path = tmp_path / "G-7_manual.md"
    path.write_text(MANUAL, encoding="utf-8")
    [result] = index.add_paths([path])
    assert (result.status, result.chunks) == ("added", 3)  # a heading alone is no chunk

    hits = index.search("quasar-flux bearing whining", k=3)
    top = hits[0]
    assert top.chunk.document == "G-7_manual.md"
    assert top.chunk.title == "Gearbox G-7 Manual"
    assert top.chunk.section == "2 Troubleshooting > 2.1 Whining noise"
    assert (top.chunk.line_start, top.chunk.line_end) == (11, 14)
    assert "quasar-flux bearing" in _cited_lines(path, top.chunk.line_start, top.chunk.line_end)
    assert top.citation == ("G-7_manual.md §2 Troubleshooting > 2.1 Whining noise, lines 11-14")


def test_text_file_sections_come_from_capital_headings(
    index: DocumentIndex, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text(
        "SITE NOTES\n\nGENERAL\nNothing special.\n\nHOT WORK\n"
        "Welding near T-101 needs a zircon-blue permit.\n",
        encoding="utf-8",
    )
    [result] = index.add_paths([path])
    assert result.status == "added"
    top = index.search("zircon-blue permit welding", k=1)[0]
    assert (top.chunk.document, top.chunk.section) == ("notes.txt", "HOT WORK")
    assert (top.chunk.line_start, top.chunk.line_end) == (6, 7)


def test_pdf_pages_are_indexed_with_page_sections(index: DocumentIndex, tmp_path: Path) -> None:
    path = tmp_path / "vendor.pdf"
    path.write_bytes(
        make_pdf(
            [
                ["VENDOR MANUAL", "Introduction to the widget."],
                ["Maintenance", "Replace the obsidian-grade seal every 3000 hours."],
            ]
        )
    )
    [result] = index.add_paths([path])
    assert (result.status, result.chunks) == ("added", 2)
    top = index.search("obsidian-grade seal replacement interval", k=1)[0]
    assert top.chunk.document == "vendor.pdf"
    assert top.chunk.section == "page 2"
    assert "obsidian-grade seal" in top.chunk.text
    assert top.chunk.line_start == 3  # lines are counted across the extracted pages


def test_corrupt_pdf_is_skipped_with_a_clear_error(index: DocumentIndex, tmp_path: Path) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\ngarbage\x00\xff" * 20)
    good = tmp_path / "good.md"
    good.write_text("# Good\n\n## Part\n\nThe saffron valve is red.\n", encoding="utf-8")
    results = {Path(r.path).name: r for r in index.add_paths([bad, good])}
    assert results["broken.pdf"].status == "skipped"
    assert "broken.pdf is not a readable PDF" in (results["broken.pdf"].error or "")
    assert "fix:" in (results["broken.pdf"].error or "")
    assert results["good.md"].status == "added"
    assert index.search("saffron valve", k=1)[0].chunk.document == "good.md"


def test_oversized_pdf_is_refused_before_parsing(index: DocumentIndex, tmp_path: Path) -> None:
    index.limits = IngestLimits(max_bytes=1000)
    big = tmp_path / "big.pdf"
    big.write_bytes(make_pdf([[f"line {i} of a long manual" for i in range(60)]]))
    [result] = index.add_paths([big])
    assert result.status == "skipped"
    assert "over the" in (result.error or "") and "limit" in (result.error or "")


def test_unsupported_and_missing_files_are_skipped(index: DocumentIndex, tmp_path: Path) -> None:
    odd = tmp_path / "drawing.dwg"
    odd.write_bytes(b"\x00\x01")
    results = index.add_paths([odd, tmp_path / "missing.md"])
    assert [r.status for r in results] == ["skipped", "skipped"]
    assert ".dwg files are not supported" in (results[0].error or "")
    assert "does not exist" in (results[1].error or "")


def test_changed_document_replaces_its_chunks(index: DocumentIndex, tmp_path: Path) -> None:
    path = tmp_path / "runbook.md"
    path.write_text("# Runbook\n\n## Step\n\nOpen the cobalt valve first.\n", encoding="utf-8")
    assert index.add_paths([path])[0].status == "added"
    assert index.add_paths([path])[0].status == "unchanged"

    path.write_text("# Runbook\n\n## Step\n\nOpen the magenta valve first.\n", encoding="utf-8")
    [result] = index.add_paths([path])
    assert result.status == "updated"
    assert index.search("cobalt", k=5, mode="fts") == []
    assert index.search("magenta", k=5, mode="fts")[0].chunk.document == "runbook.md"
    [doc] = index.documents()
    assert doc.chunk_count == 1
    stored = next(iter(index.store.conn.execute("SELECT count(*) FROM doc_chunks")))[0]
    vectors = next(iter(index.store.conn.execute("SELECT count(*) FROM doc_vec")))[0]
    assert (stored, vectors) == (1, 1)

    assert index.remove("runbook.md") == 1
    assert index.documents() == []
    assert index.search("magenta valve", k=5) == []


def test_reindexing_embeds_only_what_changed(tmp_path: Path, embedder: LlamaEmbedder) -> None:
    counting = CountingEmbedder(embedder)
    conn, _ = new_db(tmp_path / "twin.db")
    index = DocumentIndex(conn, counting)
    manual, other = tmp_path / "gearbox.md", tmp_path / "runbook.md"
    manual.write_text(MANUAL, encoding="utf-8")
    other.write_text("# Runbook\n\n## Step\n\nOpen the cobalt valve first.\n", encoding="utf-8")
    first = index.add_paths([tmp_path])
    assert [r.status for r in first] == ["added", "added"]
    assert len(counting.texts) == sum(r.chunks for r in first)
    before = index.search("quasar-flux bearing", k=1, mode="vector")[0]
    embedded = len(counting.texts)  # with the query

    assert [r.status for r in index.add_paths([tmp_path])] == ["unchanged", "unchanged"]
    assert len(counting.texts) == embedded  # nothing embedded again

    manual.write_text(MANUAL.replace("CLP 220", "CLP 320"), encoding="utf-8")
    [changed, same] = index.add_paths([tmp_path])
    assert (changed.status, same.status) == ("updated", "unchanged")
    new_texts = counting.texts[embedded:]
    assert len(new_texts) == 1 and "CLP 320" in new_texts[0]  # only the edited section
    assert changed.reused == changed.chunks - 1
    after = index.search("quasar-flux bearing", k=1, mode="vector")[0]
    assert after.chunk.text == before.chunk.text and after.similarity == before.similarity
    assert index.search("CLP 320", k=1, mode="fts")[0].chunk.section.startswith("1 Lubrication")
    conn.close()
