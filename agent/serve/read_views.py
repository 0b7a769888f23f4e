"""The service's side of the read-only views (`twin history|assets|semantics|whatif`,
`docs search|list`, `incidents search`, the terminal UI's trend screen): the same
functions as the in-process commands (agent.serve.reads) over the service's own stores,
the result sent as JSON.

Read-only, so any enrolled person may read them, as anyone who may open the site in
process may (the site's policy has no rule on reading the twin, the documents, the past
incidents or the plant's history); an unknown account never gets past hello.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from agent.errors import PlantAgentError, ServiceError
from agent.runtime.stores import TwinStores
from agent.serve import reads
from agent.serve.client_messages import (
    DocsQuery,
    HistoryQuery,
    IncidentsQuery,
    TrendQuery,
    TwinQuery,
    WhatIfQuery,
)
from agent.serve.service_messages import Error, ReadResult
from agent.service import AgentService
from agent.twin.documents.index import DocumentIndex

log = logging.getLogger(__name__)

ReadQuery = TwinQuery | HistoryQuery | WhatIfQuery | DocsQuery | TrendQuery | IncidentsQuery


class ReadViews:
    """Answers the read-only views of one service; ``documents`` opens the site's
    document index (with its embedding model) on first use."""

    def __init__(self, service: AgentService,
                 documents: Callable[[], DocumentIndex] | None = None) -> None:
        self.service = service
        self._documents = documents
        self._index: DocumentIndex | None = None

    async def answer(self, query: ReadQuery) -> BaseModel:
        """The view's ``read`` message, or ``error`` with the fix (never a hang)."""
        try:
            if isinstance(query, TrendQuery):
                view = await self.service.trend(query.tag, query.hours)
                return ReadResult(id=query.id, data=view.model_dump(mode="json"))
            data = await asyncio.to_thread(self._compute, query)
        except PlantAgentError as exc:
            return Error.of(query.id, exc)
        except Exception as exc:  # a bug: the person hears of it instead of waiting
            log.exception("read %s (%s) failed", query.id, query.type)
            return Error(id=query.id, message=f"internal error: {type(exc).__name__}: {exc}",
                         fix="this is a bug in plantagent: the service's log has the "
                         "traceback; report it")
        return ReadResult(id=query.id, data=data)

    def _twin(self) -> TwinStores:
        review = self.service.review
        if review is None:
            raise ServiceError("this service has no digital twin", fix="restart the service")
        return review.twin

    def _index_of(self) -> DocumentIndex:
        if self._index is None:
            if self._documents is None:
                raise ServiceError("this service does not serve the site's documents",
                                   fix="restart it with plantagent serve")
            self._index = self._documents()
        return self._index

    def _compute(self, query: ReadQuery) -> Any:
        if isinstance(query, TwinQuery):
            if query.what == "assets":
                return reads.assets_to_json(reads.assets(self._twin(),
                                                         include_retired=query.all))
            return reads.semantics_to_json(reads.semantics(self._twin()))
        if isinstance(query, HistoryQuery):
            return reads.history(self._twin(), query.tag, minutes=query.minutes,
                                 now=query.now).model_dump(mode="json")
        if isinstance(query, WhatIfQuery):
            return reads.what_if(self._twin(), query.equipment, query.change,
                                 hours=query.hours, now=query.now).model_dump(mode="json")
        index = self._index_of()
        if isinstance(query, IncidentsQuery):
            # The incident memory is in the same twin database, searched with the same
            # embedding model as the documents.
            return reads.incidents_search(index.store.conn, index.embedder,
                                          symptoms=query.symptoms, equipment=query.equipment,
                                          readings=query.readings, k=query.k)
        assert isinstance(query, DocsQuery)
        if query.what == "list":
            return reads.docs_list(index)
        return reads.docs_search(index, query.query, k=query.k, mode=query.mode)
