"""The plant's parts, as :class:`~agent.runtime.site_runtime.SiteRuntime` opens them: the
OPC UA connection (the site's encrypted store as its key vault), the browsed catalog, and
the alarm desk and journal over them. Each connects behind the site's egress guard.
"""

from __future__ import annotations

from agent.alarms.desk import AlarmDesk
from agent.alarms.journal import AlarmJournal
from agent.errors import OpcUaError
from agent.runtime.alarms import build_desk
from agent.runtime.site_parts import SiteParts
from agent.twin.assets.file import assets_path, load_assets_file
from agent.twin.semantics.infer import cached
from agent.twin.semantics.overrides import apply_site
from tools.context import ToolContext
from tools.opcua.alarms import event_log
from tools.opcua.browse import browse_catalog
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection, check_endpoint


class PlantParts(SiteParts):
    """The plant's parts, each opened on first use and once (the attributes are set by
    SiteRuntime, which is built on this class)."""

    endpoint: str | None
    journal_problem: OpcUaError | None

    # -- the plant --------------------------------------------------------------------------

    async def connection(self) -> OpcUaConnection:
        """The connected OPC UA session to the plant (``endpoint`` or ``opcua.endpoint``)."""
        async def connect() -> OpcUaConnection:
            _ = self.policy  # a weakened, unsigned policy connects nowhere
            _ = self.guard
            conn = OpcUaConnection.from_settings(self.settings, self.endpoint,
                                                 key_vault=_SiteKeys(self))
            await conn.connect()
            return conn

        return await self._parts.aget("connection", connect, acloser=OpcUaConnection.close)

    @property
    def endpoint_url(self) -> str:
        """The endpoint the connection goes (or would go) to; UsageError when it is not
        an OPC UA endpoint URL."""
        return check_endpoint(self.endpoint or self.settings.opcua.endpoint)

    async def catalog(self) -> Catalog:
        """The plant's equipment and tags, browsed once; the site file's word over the
        inferred tag semantics applied (what every question is mapped through)."""
        async def browse() -> Catalog:
            catalog = await browse_catalog(await self.connection())
            path = assets_path(self.settings.home)
            if path.exists():
                apply_site(cached(catalog), load_assets_file(path), list(catalog.tags), path)
            return catalog

        return await self._parts.aget("catalog", browse)

    # -- the plant's alarms -----------------------------------------------------------------

    async def alarm_desk(self, *, browse: bool = True) -> AlarmDesk:
        """Where people act on alarms: the policy's gate, the audit log, the server read
        back (``browse``: with the catalog, to name tags; no model is loaded)."""
        async def build() -> AlarmDesk:
            connection = await self.connection()
            catalog = await self.catalog() if browse else None
            context = ToolContext(settings=self.settings, opcua=connection, catalog=catalog,
                                  clock=self.clock)
            return build_desk(store=self.alarm_store, engine=self.engine, audit=self.audit,
                              context=context, people=self.people, clock=self.clock)

        return await self._parts.aget(f"alarm_desk:{browse}", build)

    async def alarm_journal(self) -> AlarmJournal | None:
        """The site's alarm journal recording the server's alarm events while it is open
        (None when the settings turn it off or the server cannot be subscribed to now:
        the next call tries again, see :attr:`journal_problem`)."""
        if not self.settings.alarms.journal:
            return None

        connection, catalog = await self.connection(), await self.catalog()

        async def start() -> AlarmJournal:
            log = await event_log(connection, catalog)  # raises: nothing kept, retried
            journal = AlarmJournal(self.alarm_store, log, endpoint=connection.endpoint)
            await journal.start()
            return journal

        async def stop(journal: AlarmJournal) -> None:
            await journal.close()

        try:
            journal = await self._parts.aget("alarm_journal", start, acloser=stop)
        except OpcUaError as exc:
            self.journal_problem = exc
            return None
        self.journal_problem = None
        return journal

    @property
    def recording_journal(self) -> AlarmJournal | None:
        """The alarm journal when it records now (None: not started, off or failed)."""
        journal: AlarmJournal | None = self._parts.peek("alarm_journal")
        return journal


class _SiteKeys:
    """The site's encrypted store as the OPC UA client's key vault, unlocking the site
    only when a secure connection needs the key (an unsecured one never does)."""

    def __init__(self, runtime: SiteParts) -> None:
        self._runtime = runtime

    def get_blob(self, name: str) -> bytes | None:
        """The secret ``name``, decrypted."""
        return self._runtime.site.get_blob(name)

    def put_blob(self, name: str, data: bytes) -> None:
        """Store the secret ``name``, encrypted."""
        self._runtime.site.put_blob(name, data)
