"""The Plant pane: the equipment tree with live values, limits, sparklines and quality,
refreshed by a worker every few seconds."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode
from textual.worker import Worker

from agent.errors import PlantAgentError
from agent.service.views import PlantSnapshot
from agent.site_time import SiteTime
from terminal_ui.backend import PlantBackend
from terminal_ui.panes.plant_labels import equipment_label, summary_line, tag_label
from terminal_ui.trend import TrendScreen, TrendSource

#: Seconds between two refreshes.
REFRESH_S = 2.0


class PlantPane(Vertical):
    """See the module docstring. ``snapshot`` is the data on screen."""

    BINDINGS = [Binding("r", "refresh_plant", "Refresh")]
    DEFAULT_CSS = """
    PlantPane #plant-summary { height: 1; padding: 0 1; }
    PlantPane #plant-tree { height: 1fr; }
    """

    def __init__(self, backend: PlantBackend, *, refresh_s: float | None = REFRESH_S,
                 trend: TrendSource | None = None, site: SiteTime | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.backend = backend
        #: Where Enter on a tag reads its history (None: no trend screen).
        self.trend = trend
        self.site = site or SiteTime()
        self.refresh_s = refresh_s
        self.snapshot: PlantSnapshot | None = None
        #: Why the last read failed (the site service gone), if it did.
        self.problem: str | None = None
        self._tree_nodes: dict[str, TreeNode[str]] = {}
        self._worker: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        """Summary line and tree."""
        yield Static("reading the plant...", id="plant-summary")
        tree: Tree[str] = Tree("plant", id="plant-tree")
        tree.show_root = False
        tree.guide_depth = 2
        yield tree

    def on_mount(self) -> None:
        """Read now, then every ``refresh_s`` seconds (None: only on request)."""
        self.action_refresh_plant()
        if self.refresh_s:
            self.set_interval(self.refresh_s, self.action_refresh_plant)

    def action_refresh_plant(self) -> None:
        """Read the plant in a worker, unless a read is still running: a slow or hung
        server must get to its timeout, which is what marks the values stale."""
        if self._worker is not None and not self._worker.is_finished:
            return
        self._worker = self.run_worker(self._refresh(), group="plant")

    async def _refresh(self) -> None:
        try:
            snapshot = await self.backend.plant_snapshot()
        except PlantAgentError as exc:  # the site service gone: said, never a crash
            self.problem = exc.message
            self.query_one("#plant-summary", Static).update(
                Text(f"{exc.message} ({exc.fix})" if exc.fix else exc.message,
                     style="bold red", no_wrap=True, overflow="ellipsis"))
            return
        self.problem = None
        self.show(snapshot)

    def show(self, snapshot: PlantSnapshot) -> None:
        """Put ``snapshot`` on screen, keeping what is expanded and selected."""
        self.snapshot = snapshot
        self.query_one("#plant-summary", Static).update(summary_line(snapshot))
        tree: Tree[str] = self.query_one("#plant-tree", Tree)
        if not self._tree_nodes:
            self._build(tree, snapshot)
            return
        for equipment in snapshot.equipment:
            node = self._tree_nodes.get(equipment.name)
            if node is not None:
                node.set_label(equipment_label(equipment))
            for tag in equipment.tags:
                leaf = self._tree_nodes.get(tag.name)
                if leaf is not None:
                    leaf.set_label(tag_label(tag))

    def _build(self, tree: Tree[str], snapshot: PlantSnapshot) -> None:
        groups: dict[tuple[str, ...], TreeNode[str]] = {}
        for equipment in snapshot.equipment:
            group = groups.get(equipment.path)
            if group is None:
                title = " / ".join(equipment.path) or "plant"
                group = groups[equipment.path] = tree.root.add(title, data=title,
                                                               expand=True)
            node = group.add(equipment_label(equipment), data=equipment.name,
                             expand=equipment.alerts() > 0)
            self._tree_nodes[equipment.name] = node
            for tag in equipment.tags:
                self._tree_nodes[tag.name] = node.add_leaf(tag_label(tag), data=tag.name)
        tree.root.expand()

    def on_tree_node_selected(self, event: Tree.NodeSelected[str]) -> None:
        """Enter on a tag opens its trend."""
        name = event.node.data
        tags = {t.name for e in (self.snapshot.equipment if self.snapshot else ()) for t in e.tags}
        if name in tags and self.trend is not None:
            self.app.push_screen(TrendScreen(str(name), self.trend, self.site))

    def show_tag(self, name: str) -> bool:
        """Put the cursor on tag or equipment ``name`` (its equipment opened); False when
        the plant on screen has no such name."""
        node = self._tree_nodes.get(name)
        if node is None:
            return False
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        tree: Tree[str] = self.query_one("#plant-tree", Tree)
        tree.focus()
        tree.call_after_refresh(tree.move_cursor, node)
        return True
