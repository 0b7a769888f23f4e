"""What other installed packages add to `plantagent`: command groups and demo data.

The product never imports the demo plant (`plant`) or the evaluation harness (`harness`)
by name. They announce themselves through entry points in pyproject.toml:

- ``plantagent.commands``: ``register(groups: CommandGroups)`` adds commands, either at the
  top level (``groups.top``) or inside a group the product owns (``groups.group("models")``);
- ``plantagent.demo_data``: a callable returning the files of one kind of demo data
  (``documents``, ``incidents``), used by ``docs add --demo`` and ``incidents load --demo``.

A package that is not installed simply adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from agent.errors import UsageError

COMMANDS_GROUP = "plantagent.commands"
DEMO_DATA_GROUP = "plantagent.demo_data"


@dataclass
class CommandGroups:
    """The top-level subparsers and the product's own command groups, by name."""

    top: Any
    groups: dict[str, Any] = field(default_factory=dict)

    def group(self, name: str) -> Any:
        """The subparsers of the command group ``name`` (e.g. "models")."""
        try:
            return self.groups[name]
        except KeyError:
            raise KeyError(f"no command group {name!r}; known: {sorted(self.groups)}") from None


def register_plugins(groups: CommandGroups) -> None:
    """Let every installed ``plantagent.commands`` entry point add its commands."""
    for point in sorted(entry_points(group=COMMANDS_GROUP), key=lambda p: p.name):
        point.load()(groups)


def demo_data(kind: str) -> list[Path]:
    """The files of the demo data of ``kind``; UsageError when no demo is installed."""
    points = entry_points(group=DEMO_DATA_GROUP, name=kind)
    if not points:
        raise UsageError(
            f"no demo {kind} are installed with this copy of plantagent",
            fix=f"give the {kind} files explicitly instead of --demo",
        )
    return [Path(p) for point in points for p in point.load()()]
