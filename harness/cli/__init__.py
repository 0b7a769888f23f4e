"""The harness's commands, added to `plantagent` through the ``plantagent.commands`` entry
point: `plantagent eval`, `plantagent bench`, `plantagent reliability` and `plantagent models
qualify`."""

from __future__ import annotations

from typing import Any


def register(groups: Any) -> None:
    """Add the harness's commands (``groups`` is agent.cli.plugins.CommandGroups)."""
    from harness.cli import bench_cmd, eval_cmd, qualify_cmd, reliability_cmd

    eval_cmd.register(groups.top)
    bench_cmd.register(groups.top)
    reliability_cmd.register(groups.top)
    qualify_cmd.add_to(groups.group("models"))
