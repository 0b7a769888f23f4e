"""The client's calls for the service's read-only views (``twin``, ``history``,
``whatif``, ``docs``, ``incidents``, ``trend``), each answered by ``read``
(agent.serve.read_views on the service's side).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from agent.serve.client_connection import ServiceConnection
from agent.serve.client_messages import (
    DocsQuery,
    HistoryQuery,
    IncidentsQuery,
    TrendQuery,
    TwinQuery,
    WhatIfQuery,
)
from agent.serve.service_messages import ReadResult


class ServiceReads(ServiceConnection):
    """The read-only views over a :class:`ServiceConnection`."""

    async def read(self, query: Callable[[str], TwinQuery | HistoryQuery | WhatIfQuery
                                         | DocsQuery | TrendQuery | IncidentsQuery]) -> Any:
        """A read-only view (``query`` builds its message from an id): its result as
        JSON (agent.serve.reads); ServiceError with the service's message and fix."""
        rid = f"v{next(self._ids)}"
        message = await self._exchange(rid, query(rid), sign=None)
        assert isinstance(message, ReadResult)
        return message.data

    async def twin(self, what: Literal["assets", "semantics"], *, every: bool = False
                   ) -> Any:
        """The asset model (every equipment with its tags; retired ones too with
        ``every``) or the tag semantics, as JSON."""
        return await self.read(lambda rid: TwinQuery(id=rid, what=what, all=every))

    async def history(self, tag: str, *, minutes: float, now: datetime) -> dict[str, Any]:
        """``tag``'s trend summary (TrendSummary as JSON) over the ``minutes`` before
        ``now``."""
        return dict(await self.read(lambda rid: HistoryQuery(id=rid, tag=tag,
                                                             minutes=minutes, now=now)))

    async def what_if(self, equipment: str, change: str, *, hours: float, now: datetime
                      ) -> dict[str, Any]:
        """The predicted effect of ``change`` on ``equipment`` (WhatIfResult as JSON)."""
        return dict(await self.read(lambda rid: WhatIfQuery(
            id=rid, equipment=equipment, change=change, hours=hours, now=now)))

    async def docs(self, query: str, *, k: int = 5,
                   mode: Literal["hybrid", "fts", "vector"] = "hybrid"
                   ) -> list[dict[str, Any]]:
        """The ``k`` best passages for ``query`` (agent.serve.reads.docs_search's rows)."""
        return list(await self.read(lambda rid: DocsQuery(id=rid, query=query, k=k,
                                                          mode=mode)))

    async def docs_list(self) -> list[dict[str, Any]]:
        """The indexed documents (agent.serve.reads.docs_list's rows)."""
        return list(await self.read(lambda rid: DocsQuery(id=rid, what="list")))

    async def incidents(self, symptoms: str | None = None, *, equipment: str | None = None,
                        readings: dict[str, float] | None = None, k: int = 3
                        ) -> list[dict[str, Any]]:
        """The ``k`` past incidents most like these (agent.serve.reads.incidents_search's
        rows)."""
        return list(await self.read(lambda rid: IncidentsQuery(
            id=rid, symptoms=symptoms, equipment=equipment, readings=readings or {}, k=k)))

    async def trend(self, tag: str, hours: float) -> dict[str, Any]:
        """``tag``'s history over the last ``hours`` from the plant's server
        (agent.service.views.TrendView as JSON)."""
        return dict(await self.read(lambda rid: TrendQuery(id=rid, tag=tag, hours=hours)))
