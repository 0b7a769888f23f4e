"""The Handover tab over the site service (`plantagent serve`): the service writes the
handover (with its model, in line with the questions, or the template) and records it as
the caller's; the tab shows it, and which handover is the newest with who acknowledged
it; the caller acknowledges it with a statement the service prepares and the UI signs
here with the person's own key (as the Approvals tab does)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agent.handover.models import HandoverReport
from agent.serve.client_connection import Signer
from terminal_ui.remote_alarms import ServiceConnection

#: What the progress line says until the service sends the first place in line or step.
WRITING = "asking the service to write it (in line with the questions)"


@dataclass(frozen=True)
class HandoverStanding:
    """The newest handover on the site and who acknowledged it (verified signatures)."""

    seq: int
    actor: str
    ts: datetime
    acknowledged_by: list[str]

    def line(self) -> str:
        """'Newest handover 12 by Sam Lead, 2026-12-05 06:00 UTC · acknowledged by: ...'."""
        who = ", ".join(self.acknowledged_by) or "nobody yet"
        return (f"Newest handover {self.seq} by {self.actor}, {self.ts:%Y-%m-%d %H:%M} UTC · "
                f"acknowledged by: {who}")


def standing(result: dict[str, Any]) -> HandoverStanding:
    """The service's ``acks`` answer as a record."""
    written = result["handover"]
    return HandoverStanding(
        seq=int(written["seq"]), actor=str(written["actor"]),
        ts=datetime.fromisoformat(str(written["ts"])),
        acknowledged_by=[f"{a.get('name') or a['person']} ({a['role']})"
                         for a in result.get("acknowledgements", [])])


class RemoteHandover:
    """What the Handover pane asks of the site service: write, read the newest handover's
    acknowledgements, acknowledge it signed by ``sign`` (the person's own key)."""

    def __init__(self, service: ServiceConnection, sign: Signer) -> None:
        self._service = service
        self._sign = sign

    async def handover(self, since: timedelta | None, *, use_model: bool = True,
                       on_progress: Callable[[str], None] | None = None) -> HandoverReport:
        """The handover of the site's shift (``since`` None) or of the last ``since``,
        written by the service and recorded as the caller's; ``on_progress`` hears its
        place in line and each step; cancelling the awaiting task drops it (the service
        audits the cancellation)."""
        if on_progress is not None:
            on_progress(WRITING)
        client = await self._service.connected()
        fields: dict[str, Any] = {"use_model": use_model}
        if since is not None:
            fields["since_s"] = since.total_seconds()
        if on_progress is not None:
            step = on_progress
            fields["on_event"] = lambda event: step(event.text)
        result = await client.handover("write", **fields)
        return HandoverReport.model_validate(result["report"])

    async def newest_handover(self) -> HandoverStanding:
        """The newest handover and its verified acknowledgements (UsageError from the
        service when there is none)."""
        client = await self._service.connected()
        return standing(await client.handover("acks"))

    async def acknowledge_handover(self, seq: int, note: str) -> HandoverStanding:
        """Acknowledge handover ``seq`` (the one the person read) as the caller, signed
        here; the standing after it (the service refuses one's own handover, or twice)."""
        client = await self._service.connected()
        await client.handover("ack", seq=seq, note=note.strip(), sign=self._sign)
        return await self.newest_handover()
