"""The alarm actions of the alarms pane: acknowledge, confirm, comment, ask to shelve or
unshelve the highlighted alarm. Each opens its dialog, then runs in a worker through the
service (the policy gate and the audit log); a refusal is a titled error and the status
line, what the server reads back afterwards is the notification."""

from __future__ import annotations

from textual import work
from textual.widget import Widget
from textual.widgets import Label

from agent.errors import PlantAgentError
from agent.service.views import AlarmView
from terminal_ui.panes.review_backend import AlarmsHost, alarms_of
from terminal_ui.panes.review_dialogs import ConfirmScreen, NoteScreen
from terminal_ui.panes.shelve_dialog import ShelveInput, ShelveScreen


class AlarmActing(Widget):
    """The acting half of the alarms pane (the pane supplies the table and the poll)."""

    service: AlarmsHost

    def highlighted_alarm(self) -> AlarmView | None:
        """The alarm under the cursor (the pane knows its table)."""
        raise NotImplementedError

    def poll(self) -> object:
        """Fetch the board again (the pane's worker)."""
        raise NotImplementedError

    def _target(self) -> AlarmView | None:
        alarm = self.highlighted_alarm()
        if alarm is None:
            self.notify("no alarm highlighted", severity="warning")
        return alarm

    def action_acknowledge(self) -> None:
        """Acknowledge the highlighted alarm, with an optional comment."""
        alarm = self._target()
        if alarm is None:
            return
        if alarm.acked:
            self.notify(f"{alarm.name} is already acknowledged", severity="warning")
            return
        self.app.push_screen(
            NoteScreen(f"Acknowledge {alarm.name}", alarm.message,
                       "comment (optional; Enter acknowledges)", required=False),
            lambda note: self._act("acknowledge", alarm, note))

    def action_confirm(self) -> None:
        """Confirm the highlighted (acknowledged) alarm."""
        alarm = self._target()
        if alarm is not None:
            self.app.push_screen(
                ConfirmScreen(f"Confirm {alarm.name}?", alarm.message),
                lambda yes: self._act("confirm", alarm, "" if yes else None))

    def action_comment(self) -> None:
        """Add a comment to the highlighted alarm."""
        alarm = self._target()
        if alarm is not None:
            self.app.push_screen(
                NoteScreen(f"Comment on {alarm.name}", alarm.message, "comment",
                           required=True),
                lambda note: self._act("comment", alarm, note or None))

    def action_shelve(self) -> None:
        """Ask to shelve the highlighted alarm (a request: minutes and a reason)."""
        alarm = self._target()
        if alarm is not None:
            self.app.push_screen(
                ShelveScreen(alarm.name, f"{alarm.priority} priority · the site's policy "
                             "and the server's MaxTimeShelved decide; an approver may be "
                             "needed"),
                lambda asked: self._ask_shelve(alarm, asked))

    def action_unshelve(self) -> None:
        """Ask to unshelve the highlighted alarm (with a reason)."""
        alarm = self._target()
        if alarm is None:
            return
        if alarm.status != "shelved":
            self.notify(f"{alarm.name} is not shelved", severity="warning")
            return
        self.app.push_screen(
            NoteScreen(f"Unshelve {alarm.name}", "why it should be back in view", "reason",
                       required=True),
            lambda note: self._act("unshelve", alarm, note or None))

    def _act(self, action: str, alarm: AlarmView, text: str | None) -> None:
        """A dialog's answer: None (cancelled) does nothing."""
        if text is not None:
            self._do(action, alarm, text)

    def _ask_shelve(self, alarm: AlarmView, asked: ShelveInput | None) -> None:
        if asked is not None:
            self._shelve(alarm, asked)

    @work(group="alarms-act")
    async def _do(self, action: str, alarm: AlarmView, text: str) -> None:
        """Run one action through the service; say what the server reads back."""
        review = alarms_of(self.service)
        try:
            if action == "acknowledge":
                result = await review.acknowledge_alarm(alarm.condition_id,
                                                        event_id=alarm.event_id, comment=text)
            elif action == "confirm":
                result = await review.confirm_alarm(alarm.condition_id,
                                                    event_id=alarm.event_id)
            elif action == "comment":
                result = await review.comment_alarm(alarm.condition_id, text,
                                                    event_id=alarm.event_id)
            else:
                request = await review.unshelve_alarm(alarm.condition_id, text)
                self._said(request.summary())
                return
        except PlantAgentError as exc:
            self.notify(str(exc), title=f"Cannot {action} {alarm.name}", severity="error")
            self.query_one("#alarms-status", Label).update(f"{action} refused: {exc.message}")
            return
        self._said(result.summary)

    @work(group="alarms-act")
    async def _shelve(self, alarm: AlarmView, asked: ShelveInput) -> None:
        try:
            request = await alarms_of(self.service).shelve_alarm(
                alarm.condition_id, minutes=asked.minutes, reason=asked.reason)
        except PlantAgentError as exc:
            self.notify(str(exc), title=f"Cannot shelve {alarm.name}", severity="error")
            self.query_one("#alarms-status", Label).update(f"shelve refused: {exc.message}")
            return
        waits = (f" — waits for an approver ({' or '.join(request.approver_roles)})"
                 if request.state == "pending" else "")
        self._said(request.summary() + waits)

    def _said(self, text: str) -> None:
        self.notify(text, title="Alarm")
        self.query_one("#alarms-status", Label).update(text)
        self.poll()
