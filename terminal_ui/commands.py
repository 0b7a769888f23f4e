"""The command palette's plant commands (Ctrl+P): every tag and equipment to jump to in the
Plant tab, and the tabs and refreshes by name."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from terminal_ui.panes.plant import PlantPane

if TYPE_CHECKING:
    from terminal_ui.app import PlantAgentApp

#: (title, help, tab) of the tab commands.
TAB_COMMANDS = (
    ("Plant: show the equipment tree", "live values, limits, sparklines", "plant"),
    ("Alarms: show the alarm board", "priority, state, age; acknowledge and shelve", "alarms"),
    ("Ask a question", "the agent answers from the plant's data", "ask"),
    ("Approvals: pending writes", "approve, deny or write a requested change", "approvals"),
    ("Audit: the trail", "filters, verify, review notes", "audit"),
    ("Handover: write the shift handover", "cited lines by section", "handover"),
)


class PlantCommands(Provider):
    """Tags and equipment of the plant on screen ('Go to P-101.FlowRate'), the tabs, and
    refreshing the plant."""

    def _plant(self) -> PlantPane | None:
        # The tabs sit on the default screen, or on the main screen a starter pushed;
        # the palette itself is a screen on top of them.
        for screen in reversed(self.app.screen_stack):
            found = list(screen.query(PlantPane))
            if found:
                return found[0]
        return None

    def _go(self, name: str) -> None:
        app: PlantAgentApp = self.app  # type: ignore[assignment]
        app.action_show_tab("plant")
        plant = self._plant()
        if plant is not None:
            plant.call_after_refresh(plant.show_tag, name)

    def _names(self) -> list[tuple[str, str]]:
        plant = self._plant()
        if plant is None or plant.snapshot is None:
            return []
        out: list[tuple[str, str]] = []
        for equipment in plant.snapshot.equipment:
            out.append((equipment.name, equipment.description or "equipment"))
            for tag in equipment.tags:
                value = "" if tag.value is None else f"{tag.value:.4g} " if isinstance(
                    tag.value, float) else f"{tag.value} "
                out.append((tag.name, f"{value}{tag.unit or ''}".strip() or "tag"))
        return out

    def _commands(self) -> list[tuple[str, str, object]]:
        app: PlantAgentApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, str, object]] = [
            (title, help_text, partial(app.action_show_tab, tab))
            for title, help_text, tab in TAB_COMMANDS]
        plant = self._plant()
        if plant is not None:
            out.append(("Plant: refresh now", "read every tag again",
                        plant.action_refresh_plant))
        out += [(f"Go to {name}", help_text, partial(self._go, name))
                for name, help_text in self._names()]
        return out

    async def discover(self) -> Hits:
        """The tab commands before anything is typed."""
        for title, help_text, run in self._commands()[:len(TAB_COMMANDS) + 1]:
            yield DiscoveryHit(title, run, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        """Every command and tag whose name matches what is typed."""
        matcher = self.matcher(query)
        for title, help_text, run in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run,  # type: ignore[arg-type]
                          help=help_text)
