"""Helpers shared by the twin tests."""

from __future__ import annotations

import os
from pathlib import Path

import apsw

from agent.vault import open_database


def new_db(path: Path) -> tuple[apsw.Connection, bytes]:
    """A fresh encrypted database with a random key, and the key."""
    key = os.urandom(32)
    return open_database(path, key, create=True), key
