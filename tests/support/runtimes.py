"""Site runtimes for tests: the one composition root (agent.runtime.SiteRuntime) over a
cheap-KDF site and a demo plant, with a scripted model entering through its constructor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from agent.llm.scripted import ScriptedModel
from agent.runtime import SiteRuntime

from .sites import site_settings

#: Who the test runtimes ask and approve as.
SHIFT_LEAD = "test-shift-lead"


@asynccontextmanager
async def scripted_runtime(
    home: Path, endpoint: str, model: ScriptedModel | None = None, *,
    user: str = SHIFT_LEAD, role: str = "shift_lead", settings: dict[str, Any] | None = None,
    **parts: Any,
) -> AsyncIterator[SiteRuntime]:
    """A runtime over the site at ``home`` and the plant at ``endpoint``, asking as
    ``user``; ``model`` (a fresh ScriptedModel by default) and ``parts`` (passphrase,
    gate, clock, embedder, ...) enter through the constructor."""
    config = site_settings(home, endpoint, user=user, role=role, **(settings or {}))
    parts.setdefault("plant_name", "the demo plant")
    async with SiteRuntime(config, endpoint=endpoint, model=model or ScriptedModel(),
                           **parts) as runtime:
        yield runtime
