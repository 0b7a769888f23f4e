"""The demo plant's incident history: past work orders as JSON files (package data).

One file per incident (``WO-YYYY-NNNN.json``): symptoms, cause, fix, downtime and a
snapshot of key tag values with their normal ranges at the time. Loaded into the twin's
incident memory by ``plantagent incidents load --demo``.
"""

from __future__ import annotations

from pathlib import Path


def incidents_dir() -> Path:
    """The folder holding the demo incident files."""
    return Path(__file__).parent


def demo_incident_files() -> list[Path]:
    """The demo incident files, sorted by name."""
    return sorted(incidents_dir().glob("*.json"))
