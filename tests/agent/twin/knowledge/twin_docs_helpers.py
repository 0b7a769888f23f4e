"""Helpers shared by the twin tests."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import apsw
import numpy as np

from agent.twin.embeddings.runtime import Embedder, EmbedProgress
from agent.vault import open_database


def new_db(path: Path) -> tuple[apsw.Connection, bytes]:
    """A fresh encrypted database with a random key, and the key."""
    key = os.urandom(32)
    return open_database(path, key, create=True), key


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.texts: list[str] = []

    @property
    def dim(self) -> int:
        """The real model's dimension."""
        return self.inner.dim

    @property
    def model_name(self) -> str:
        """The real model's name."""
        return self.inner.model_name

    def embed(self, texts: Sequence[str], progress: EmbedProgress | None = None) -> np.ndarray:
        """Embed with the real model, remembering what was asked."""
        self.texts.extend(texts)
        return self.inner.embed(texts, progress)
