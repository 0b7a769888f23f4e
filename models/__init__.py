"""The local model registry's data: the manifest of approved GGUF files (manifest.toml).

The code that reads, merges, verifies and assembles lives in :mod:`agent.llm.registry`
and :mod:`agent.llm.assemble`; this package only ships the data.
"""

from __future__ import annotations

from importlib import resources

MANIFEST_NAME = "manifest.toml"


def shipped_manifest_text() -> str:
    """The text of the manifest shipped in the wheel."""
    return resources.files(__name__).joinpath(MANIFEST_NAME).read_text(encoding="utf-8")
