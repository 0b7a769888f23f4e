"""The approvals pane: pending proposals with their evidence and what-if; approve, deny
with a note, and write an approved one — each after a confirmation.

The approver is the enrolled person of the OS account running the UI, signing with their
own key (the settings' user and role only on a site where nobody is enrolled). Whether
that role may approve is the policy's call: a refusal is shown as a titled error, never a
crash.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Label, Markdown

from agent.approvals.models import ApprovalRequest
from agent.errors import PlantAgentError
from terminal_ui.panes.approval_detail import change_line, detail_markdown, request_row
from terminal_ui.panes.review_backend import (
    ApprovalsHost,
    approvals_of,
    approvals_time_of,
)
from terminal_ui.panes.review_columns import add_columns
from terminal_ui.panes.review_dialogs import ConfirmScreen, NoteScreen

REQUEST_COLUMNS = (("Request", 11), ("Change", 40), ("State", 8), ("Expires", 11),
                   ("Asked by", 12))
DONE_TITLES = {"approve": "Approved", "deny": "Denied", "execute": "Written"}
#: The bindings that act on a request, and what the person must be allowed to do.
_NEEDS = {"approve": "approve", "deny": "deny", "execute": "execute"}
EMPTY = "No pending proposals. A shift lead's question that asks for a change creates one."


class ApprovalsPane(Widget):
    """Open requests on top, the highlighted one in full below."""

    DEFAULT_CSS = """
    ApprovalsPane { layout: vertical; height: 1fr; }
    ApprovalsPane #requests { height: 7; }
    ApprovalsPane #detail { height: 1fr; border-top: solid $panel; }
    ApprovalsPane #detail Markdown { margin: 0 1; }
    ApprovalsPane #approvals-status { width: 100%; color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("a", "approve", "Approve"),
        Binding("d", "deny", "Deny"),
        Binding("x", "execute", "Write approved"),
        Binding("r", "refresh_now", "Refresh"),
    ]

    def __init__(self, service: ApprovalsHost, *, poll_s: float = 10.0,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.service = service
        self.poll_s = poll_s
        self.requests: list[ApprovalRequest] = []
        self.shown: str | None = None  # request whose detail is on screen

    def compose(self) -> ComposeResult:
        """The request table, the detail and a status line."""
        yield DataTable(id="requests", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="detail"):
            yield Markdown(EMPTY, id="detail-text")
        yield Label("", id="approvals-status")

    def on_mount(self) -> None:
        """Columns, the first load, the timer of the next ones."""
        add_columns(self.query_one(DataTable), REQUEST_COLUMNS)
        self.query_one("#approvals-status", Label).update(self._who())
        self.refresh_requests()
        self.set_interval(self.poll_s, self.refresh_requests)

    def _who(self) -> str:
        review = approvals_of(self.service)
        return f"acting as {review.user} ({review.role})"

    def action_refresh_now(self) -> None:
        """Reload the list now."""
        self.refresh_requests()

    @work(exclusive=True, group="approvals-list")
    async def refresh_requests(self, force: bool = False) -> None:
        """Load the open requests; redraw when they changed (or ``force``), keeping the
        cursor on the same request."""
        try:
            requests = await approvals_of(self.service).open_requests()
        except PlantAgentError as exc:
            self.query_one("#approvals-status", Label).update(f"cannot list: {exc.message}")
            return
        if not force and [(r.id, r.state) for r in requests] == [
                (r.id, r.state) for r in self.requests]:
            return
        keep = self.highlighted()
        self.requests = requests
        ids = [r.id for r in requests]
        table = self.query_one(DataTable)
        table.clear()
        for request in requests:
            table.add_row(*request_row(request, approvals_time_of(self.service)), key=request.id)
        if keep is not None and keep.id in ids:
            table.move_cursor(row=ids.index(keep.id))
        self.refresh_bindings()  # states changed: what may be done changed with them
        if not requests:
            self.shown = None
            await self.query_one("#detail-text", Markdown).update(EMPTY)
        else:  # the request under the cursor may be another one, or in another state
            self.load_detail(requests[max(0, table.cursor_row)].id)

    def highlighted(self) -> ApprovalRequest | None:
        """The request under the cursor, if any."""
        row = self.query_one(DataTable).cursor_row
        return self.requests[row] if 0 <= row < len(self.requests) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Approve, deny and write are offered only for a request the configured role may
        act on now (the policy's and the approval service's rules)."""
        if action not in _NEEDS:
            return True
        request = self.highlighted()
        if request is None or self.service.review is None:
            return False
        return _NEEDS[action] in self.service.review.request_actions(request)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show the request the cursor moved to (and offer what may be done with it)."""
        self.refresh_bindings()
        if event.row_key.value is not None and event.row_key.value != self.shown:
            self.load_detail(str(event.row_key.value))

    @work(exclusive=True, group="approvals-detail")
    async def load_detail(self, request_id: str) -> None:
        """Evidence and what-if of one request (the what-if fits a model: a worker)."""
        self.shown = request_id
        markdown = self.query_one("#detail-text", Markdown)
        await markdown.update(f"Loading {request_id}: evidence and what-if…")
        try:
            detail = await approvals_of(self.service).proposal(request_id)
        except PlantAgentError as exc:
            await markdown.update(f"Cannot load {request_id}: {exc}")
            return
        await markdown.update(detail_markdown(detail, approvals_time_of(self.service)))

    # -- decisions ------------------------------------------------------------------------

    def _target(self, states: set[str], verb: str) -> ApprovalRequest | None:
        request = self.highlighted()
        if request is None:
            self.notify(f"no request to {verb}", severity="warning")
            return None
        if request.state not in states:
            self.notify(f"{request.id} is {request.state}: it can not be {verb}d here",
                        severity="warning")
            return None
        return request

    def action_approve(self) -> None:
        """Ask, then approve the highlighted pending request."""
        request = self._target({"pending"}, "approve")
        if request is None:
            return
        body = (f"{change_line(request)}\nreason: {request.reason}\n"
                f"as {self._who().removeprefix('acting as ')}. The write happens only when "
                "someone then writes it (x).")
        self.app.push_screen(ConfirmScreen(f"Approve {request.id}?", body),
                             self._then(request.id, "approve"))

    def action_deny(self) -> None:
        """Ask for a note, then deny the highlighted request."""
        request = self._target({"pending", "approved"}, "deny")
        if request is None:
            return
        self.app.push_screen(
            NoteScreen(f"Deny {request.id}?", change_line(request),
                       "why it is refused (recorded in the audit log)", required=True),
            self._then(request.id, "deny"))

    def action_execute(self) -> None:
        """Ask, then write the highlighted approved request to the plant."""
        request = self._target({"approved"}, "write")
        if request is None:
            return
        body = (f"{change_line(request)} on the plant now.\nThe value, step and range are "
                "checked again, read back and audited.")
        self.app.push_screen(ConfirmScreen(f"Write {request.id} to the plant?", body),
                             self._then(request.id, "execute"))

    def _then(self, request_id: str, verb: str) -> Callable[[bool | str | None], None]:
        """What a dialog's answer does: a yes (or a note) decides, anything else nothing."""

        def answered(answer: bool | str | None) -> None:
            if answer:
                self.decide(request_id, verb, answer if isinstance(answer, str) else "")

        return answered

    @work(exclusive=True, group="approvals-decide")
    async def decide(self, request_id: str, verb: str, note: str) -> None:
        """Approve, deny or execute; the policy's refusal is shown, not raised."""
        review = approvals_of(self.service)
        try:
            if verb == "approve":
                done = await review.approve(request_id)
                message = f"{done.id} approved by {done.decided_by}; x writes it"
            elif verb == "deny":
                done = await review.deny(request_id, note)
                message = f"{done.id} denied: {note}"
            else:
                outcome = await review.execute(request_id)
                message = (f"{outcome.request}: wrote {outcome.tag} = {outcome.value:g} "
                           f"(read back {outcome.read_back:g})")
        except PlantAgentError as exc:
            self.notify(str(exc), title=f"{verb.capitalize()} refused", severity="error",
                        timeout=10)
            self.query_one("#approvals-status", Label).update(f"{verb} refused: {exc.message}")
            return
        self.notify(message, title=DONE_TITLES[verb])
        self.query_one("#approvals-status", Label).update(message)
        self.refresh_requests(force=True)
