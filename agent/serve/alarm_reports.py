"""The alarm performance report through the site service (`plantagent alarms report`
when the service runs): the service reads its own journal and plant, the client writes
the files (agent.alarms.report_files), so they are the in-process command's."""

from __future__ import annotations

import logging

from pydantic import BaseModel

from agent.alarms.metrics import Rules
from agent.alarms.report_files import data_to_json, report_data
from agent.errors import PlantAgentError, ServiceError, UsageError
from agent.serve.client_messages import AlarmsReportQuery
from agent.serve.service_messages import AlarmsReport, Error
from agent.service import AgentService

log = logging.getLogger(__name__)


async def alarms_report(service: AgentService, query: AlarmsReportQuery) -> BaseModel:
    """The report's data for [since, until] (read-only; any enrolled person may read it,
    as anyone who may open the site in process), or the error with its fix."""
    review = service.review
    try:
        if query.since >= query.until:
            raise UsageError("the report's window is empty",
                             fix="give --since a positive duration, e.g. 8h or 7d")
        if review is None:
            raise ServiceError("this service has no alarm desk", fix="restart the service")
        desk = await review.desk()
        sources = review.sources
        rules = Rules.from_settings(review.settings.alarms, desk.shelving.policy.alarms)
        data = await report_data(sources.connection, sources.catalog, desk.shelving.store,
                                 rules, since=query.since, until=query.until)
    except PlantAgentError as exc:
        return Error.of(query.id, exc)
    except Exception as exc:  # a bug: the person hears of it instead of waiting
        log.exception("alarm report %s failed", query.id)
        return Error(id=query.id, message=f"internal error: {type(exc).__name__}: {exc}",
                     fix="this is a bug in plantagent: the service's log has the "
                     "traceback; report it")
    return AlarmsReport(id=query.id, data=data_to_json(data))
