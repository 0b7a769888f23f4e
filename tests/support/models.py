"""Where the real model files of the tests are: one verified copy shared by every test
directory (``$PLANTAGENT_TEST_MODEL_DIR``, default ``~/.cache/plantagent-test/models``)."""

from __future__ import annotations

import os
from pathlib import Path


def shared_model_dir() -> Path:
    """Where real-model tests find (or assemble) the model files."""
    env = os.environ.get("PLANTAGENT_TEST_MODEL_DIR")
    return Path(env) if env else Path.home() / ".cache" / "plantagent-test" / "models"
