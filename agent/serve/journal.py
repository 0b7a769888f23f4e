"""The site's alarm journal in the site service (`plantagent alarms record` when the
service runs): the service owns the plant connection and records the journal while it
runs (agent.service.open_service), so the command only asks whether it does, and has it
start the recorder when it does not (a server that could not be subscribed to when the
service started)."""

from __future__ import annotations

from pydantic import BaseModel

from agent.runtime import SiteRuntime
from agent.serve.client_messages import JournalQuery
from agent.serve.service_messages import Journal


async def journal_state(runtime: SiteRuntime, query: JournalQuery) -> BaseModel:
    """Whether the service records the alarm journal; started now if the settings want
    it and it does not."""
    if not runtime.settings.alarms.journal:
        return Journal(id=query.id, state="off",
                       problem="the site's settings turn the alarm journal off "
                       "([alarms] journal = false)",
                       fix="set [alarms] journal = true in the site's settings and restart "
                       "the service (systemctl restart plantagent)")
    before = runtime.recording_journal
    journal = before or await runtime.alarm_journal()
    if journal is None:
        problem = runtime.journal_problem
        return Journal(id=query.id, state="unavailable",
                       problem=problem.message if problem else "the alarm journal did not start",
                       fix=(problem.fix if problem and problem.fix
                            else "check the OPC UA server (plantagent status), then run it again"))
    return Journal(id=query.id, state="recording" if before is not None else "started",
                   recorded=journal.recorded, endpoint=journal.endpoint)
