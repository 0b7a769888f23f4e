"""The demo plant's commands, added to `plantagent` through the ``plantagent.commands``
entry point: `plantagent demo` and `plantagent sim`."""

from __future__ import annotations

from typing import Any


def register(groups: Any) -> None:
    """Add `demo` and `sim` (``groups`` is agent.cli.plugins.CommandGroups)."""
    from plant.cli import demo_cmd, sim_cmd

    demo_cmd.register(groups.top)
    sim_cmd.register(groups.top)
