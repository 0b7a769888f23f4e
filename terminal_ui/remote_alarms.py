"""The Alarms tab over the site service (`plantagent serve`): the alarm board and the
triage reports read through the service, and acknowledge, confirm, comment and ask to
shelve or unshelve done by it as the caller's own enrolled person (the kernel names
them; the service runs the same alarm desk, policy gate and audit log as in process).
None of these acts is signed (as in process): a shelve request is approved apart
(`plantagent alarms approve`), signed with the approver's own key.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from agent.alarms.desk import AlarmRow
from agent.alarms.requests import ShelveRequest
from agent.serve.client import ServiceClient
from agent.serve.service_messages import Welcome
from agent.serve.site_clock import site_time
from agent.service.review import alarm_view
from agent.service.views import AlarmView
from agent.site_time import SiteTime
from agent.triage.models import TriageReport
from tools.opcua.alarm_actions import AlarmActionResult
from tools.opcua.models import ConditionState


class ServiceConnection(Protocol):
    """The site service's connection as the UI holds it (SiteServiceBackend)."""

    #: Who the service knows the caller as, and how the site shows times.
    welcome: Welcome | None

    async def connected(self) -> ServiceClient:
        """The connection, made again if the service dropped it (a person's act)."""
        ...

    def still_connected(self) -> ServiceClient:
        """The connection as it is (a poll); ServiceError while the service is gone."""
        ...


def board_rows(items: list[dict[str, Any]]) -> list[AlarmView]:
    """The screen's records of the board's rows as the service sends them."""
    return [alarm_view(AlarmRow(ConditionState.model_validate(i["state"]),
                                str(i["priority"]), int(i["rank"]))) for i in items]


class RemoteAlarms:
    """What the Alarms pane asks of the site service: the board with what the person's
    role may do (the service's policy decides), the triage reports, and the alarm acts."""

    def __init__(self, backend: ServiceConnection) -> None:
        self._service = backend

    @property
    def site_time(self) -> SiteTime:
        """The site's time, as the service's welcome describes it (its ``[site]``
        settings); a report's Markdown comes from the service in the site's time."""
        welcome = self._service.welcome
        return site_time(welcome.site_clock if welcome is not None else None)

    async def alarm_board(self) -> list[AlarmView]:
        """Every alarm the plant holds, read by the service now (a poll: never
        reconnects)."""
        view = await self._service.still_connected().alarms_view("board")
        return board_rows(view.items)

    async def alarm_actions(self) -> set[str]:
        """The alarm actions the person's role may take or ask for (the service's
        policy; it checks again when they do it)."""
        return set((await self._service.still_connected().alarms_view("board")).actions)

    async def triage_reports(self, limit: int = 50) -> list[TriageReport]:
        """The newest triage reports first."""
        view = await self._service.still_connected().triage(limit=limit)
        return [TriageReport.model_validate(r) for r in view.reports]

    async def triage_report(self, report_id: str) -> tuple[TriageReport, str]:
        """One report and its Markdown, as the service renders it."""
        view = await self._service.still_connected().triage(report=report_id)
        return TriageReport.model_validate(view.reports[0]), view.markdown or ""

    async def _action(self, action: Literal["acknowledge", "confirm", "comment"],
                      **fields: Any) -> AlarmActionResult:
        client = await self._service.connected()
        result = await client.alarm(action, **fields)
        return AlarmActionResult.model_validate(result["action"])

    async def _request(self, action: Literal["shelve", "unshelve"],
                       **fields: Any) -> ShelveRequest:
        client = await self._service.connected()
        result = await client.alarm(action, **fields)
        return ShelveRequest.model_validate(result["request"])

    async def acknowledge_alarm(self, condition_id: str, *, event_id: str | None,
                                comment: str = "") -> AlarmActionResult:
        """Acknowledge as the caller (PolicyDenied from the service when the role may
        not)."""
        return await self._action("acknowledge", condition=condition_id, event_id=event_id,
                                  comment=comment)

    async def confirm_alarm(self, condition_id: str, *, event_id: str | None,
                            comment: str = "") -> AlarmActionResult:
        """Confirm an acknowledged alarm as the caller."""
        return await self._action("confirm", condition=condition_id, event_id=event_id,
                                  comment=comment)

    async def comment_alarm(self, condition_id: str, comment: str, *,
                            event_id: str | None) -> AlarmActionResult:
        """Add a comment as the caller."""
        return await self._action("comment", condition=condition_id, event_id=event_id,
                                  comment=comment)

    async def shelve_alarm(self, condition_id: str, *, minutes: float | None,
                           reason: str) -> ShelveRequest:
        """Ask for a shelve as the caller (a request an approver may have to approve)."""
        return await self._request("shelve", condition=condition_id, minutes=minutes,
                                   reason=reason)

    async def unshelve_alarm(self, condition_id: str, reason: str) -> ShelveRequest:
        """Ask for an unshelve as the caller."""
        return await self._request("unshelve", condition=condition_id, reason=reason)
