"""A site's digital twin for the service's read tests: the asset model synced from the
demo plant and enough recorded history for the what-if of HX-101 to fit."""

from __future__ import annotations

from agent.errors import PlantAgentError
from agent.runtime import SiteRuntime
from agent.serve import reads
from agent.twin.assets.file import assets_path, load_assets_file
from agent.twin.historian.recorder import Recorder
from tools.context import utcnow

from .serve_helpers import until

#: The equipment and change whose what-if the tests read (the demo plant's cooler).
EQUIPMENT, CHANGE = "HX-101", "setpoint=33"


def fits(runtime: SiteRuntime) -> bool:
    """True once the historian holds enough of HX-101 for the what-if to fit."""
    try:
        reads.what_if(runtime.twin, EQUIPMENT, CHANGE, hours=1, now=utcnow())
    except PlantAgentError:
        return False
    return True


async def twin_with_history(runtime: SiteRuntime) -> None:
    """Sync the asset model from the plant, then record its values until the what-if
    fits (a condition, not a duration)."""
    catalog = await runtime.catalog()
    path = assets_path(runtime.settings.home)
    runtime.twin.assets.sync(catalog, utcnow(), load_assets_file(path), path,
                             embedder=lambda: runtime.embedder)
    async with Recorder(runtime.twin.historian, await runtime.connection(),
                        list(catalog.tags.values()), period_ms=100):
        await until(lambda: fits(runtime), "enough history for the what-if to fit",
                    limit_s=60)
