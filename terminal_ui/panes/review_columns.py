"""Table columns of the review panes, with fixed widths.

Fixed widths keep a table's layout the same whatever rows arrive, and sidestep
DataTable's auto-width pass, which runs on idle and can leave rows drawn before it cut
at the header's width until the next change.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable


def add_columns(table: DataTable[str], columns: Sequence[tuple[str, int]]) -> None:
    """Add (label, width) columns; longer cells are cut at the width."""
    for label, width in columns:
        table.add_column(label, width=width)
