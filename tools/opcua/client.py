"""OpcUaConnection: the one boundary between plantagent and asyncua's client.

Every request is bounded by ``opcua.timeout_s``, so a down, restarting or hung server is an
:class:`OpcUaUnavailable` within seconds, never a hang. A failed connection is dropped and
the next call builds a fresh asyncua Client (an old one may be wedged half-way through a
request). asyncua, socket and timeout exceptions are translated here; nothing above this
module catches them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlparse

from asyncua import Client, ua
from asyncua.client.ua_client import UaClientState
from asyncua.crypto import security_policies

from agent.errors import OpcUaError, OpcUaSecurityError, OpcUaUnavailable, UsageError
from agent.settings import OpcUaSettings, Settings
from tools.opcua import security
from tools.opcua.nodeids import from_expanded, to_expanded
from tools.opcua.statuses import status_error

if TYPE_CHECKING:
    from tools.opcua.alarms import EventLog

T = TypeVar("T")

_POLICIES: dict[str, type[security_policies.SecurityPolicy]] = {
    "Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256,
    "Aes256_Sha256_RsaPss": security_policies.SecurityPolicyAes256Sha256RsaPss,
}


def check_endpoint(url: str) -> str:
    """Validate an endpoint URL (opc.tcp://host:port[/path]); UsageError naming the fix."""
    parsed = urlparse(url)
    if parsed.scheme != "opc.tcp" or not parsed.hostname:
        raise UsageError(
            f"{url!r} is not an OPC UA endpoint URL",
            fix="use the form opc.tcp://host:port/path, e.g. opc.tcp://127.0.0.1:4840/plantagent/",
        )
    try:
        port = parsed.port
    except ValueError:
        raise UsageError(
            f"{url!r} has an invalid port", fix="use a port number between 1 and 65535"
        ) from None
    if port is None:
        raise UsageError(
            f"{url!r} names no port", fix="add the port, e.g. opc.tcp://127.0.0.1:4840/"
        )
    return url


class OpcUaConnection:
    """A self-healing connection to one OPC UA server.

    Built by the site runtime (``SiteRuntime.connection()``); tests may open one with
    ``async with OpcUaConnection.from_settings(settings) as conn:``. Tools call
    :meth:`request` with a coroutine function taking the asyncua Client; the result comes
    back within ``timeout_s`` or an OpcUaError is raised.
    """

    def __init__(self, settings: OpcUaSettings, *, pki_dir: Path, endpoint: str | None = None,
                 key_vault: security.KeyVault | None = None):
        self.settings = settings
        self._key_vault = key_vault
        self.endpoint = check_endpoint(endpoint or settings.endpoint)
        self.timeout_s = settings.timeout_s
        self._pki_dir = pki_dir
        self._client: Client | None = None
        self._namespaces: list[str] = []
        self._node_cache: dict[str, ua.NodeId] = {}
        self._lock = asyncio.Lock()
        self._cleanup: set[asyncio.Task[None]] = set()
        self._closed = False
        #: Incremented for every fresh session; subscriptions compare it to notice reconnects.
        self.generation = 0
        #: The server-event log, started on first use by the alarms module.
        self.event_log: EventLog | None = None

    @classmethod
    def from_settings(cls, settings: Settings, endpoint: str | None = None,
                      key_vault: security.KeyVault | None = None) -> OpcUaConnection:
        """The connection the composition root builds: the certificate under
        ``<home>/pki``, its private key in ``key_vault`` (the site's encrypted store)."""
        return cls(settings.opcua, pki_dir=settings.home / "pki", endpoint=endpoint,
                   key_vault=key_vault)

    async def __aenter__(self) -> OpcUaConnection:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        """True while the current session looks healthy (no request is made)."""
        return self._client is not None and self._client.state is UaClientState.CONNECTED

    @property
    def namespaces(self) -> list[str]:
        """The server's namespace array as of the current session."""
        return list(self._namespaces)

    async def connect(self) -> None:
        """Connect now (otherwise the first request connects); OpcUaError on failure."""
        await self._ensure_client()

    async def close(self) -> None:
        """Close the session and wait for background clean-up; the connection stays closed."""
        self._closed = True
        if self.event_log is not None:
            await self.event_log.close()
            self.event_log = None
        async with self._lock:
            self._drop()
        if self._cleanup:
            await asyncio.gather(*self._cleanup, return_exceptions=True)

    def node_id(self, expanded: str) -> ua.NodeId:
        """The asyncua NodeId of an expanded node id string, for this session's namespaces."""
        cached = self._node_cache.get(expanded)
        if cached is None:
            cached = self._node_cache[expanded] = from_expanded(expanded, self._namespaces)
        return cached

    def expanded(self, node_id: ua.NodeId) -> str:
        """The portable ``nsu=...`` string of a NodeId of this session."""
        return to_expanded(node_id, self._namespaces)

    async def request(
        self, what: str, op: Callable[[Client], Awaitable[T]], *, limit_s: float | None = None
    ) -> T:
        """Run ``op(client)`` within the timeout; translate every failure into OpcUaError.

        ``what`` names the request in error messages ("read 3 tags").
        """
        client = await self._ensure_client()
        limit = limit_s or self.timeout_s
        try:
            return await asyncio.wait_for(op(client), limit)
        except TimeoutError:
            await self._lose(client)
            raise OpcUaUnavailable(
                f"the OPC UA server at {self.endpoint} did not answer ({what}) within {limit:g} s",
                fix="the server may be hung or overloaded; try again shortly (the client "
                "reconnects on its own), or check the server",
            ) from None
        except OSError as exc:  # ConnectionError included: the socket went away
            await self._lose(client)
            raise OpcUaUnavailable(
                f"lost the connection to the OPC UA server at {self.endpoint} ({what}): {exc}",
                fix="the server may be restarting; try again in a few seconds",
            ) from exc
        except ua.UaStatusCodeError as exc:
            error = status_error(exc, what)
            if isinstance(error, OpcUaUnavailable):
                await self._lose(client)  # the session is gone: the next call starts afresh
            raise error from exc
        except ua.UaError as exc:
            raise OpcUaError(f"OPC UA request failed ({what}): {exc}") from exc

    async def _ensure_client(self) -> Client:
        if self._closed:
            raise OpcUaError("the OPC UA connection is closed", fix="open a new connection")
        async with self._lock:
            if self._client is not None and self._client.state is UaClientState.CONNECTED:
                return self._client
            self._drop()
            client = await self._new_client()
            self._client = client
            self.generation += 1
            return client

    async def _new_client(self) -> Client:
        s = self.settings
        security.check_security_settings(s, self.endpoint)
        client = Client(self.endpoint, timeout=self.timeout_s, watchdog_intervall=1.0)
        client.application_uri = security.CLIENT_APPLICATION_URI
        client.name = client.description = "plantagent"
        if s.username:
            client.set_user(s.username)
            if s.password is not None:
                client.set_password(s.password.get_secret_value())
        try:
            if s.security_policy != "None":
                await self._setup_security(client)
            await asyncio.wait_for(client.connect(), self.timeout_s)
            namespaces = await asyncio.wait_for(client.get_namespace_array(), self.timeout_s)
        except TimeoutError:
            self._schedule_drop(client)
            raise OpcUaUnavailable(
                f"the OPC UA server at {self.endpoint} did not answer within "
                f"{self.timeout_s:g} s while connecting",
                fix="check the server is running and responsive; the next call retries",
            ) from None
        except OSError as exc:
            self._schedule_drop(client)
            raise OpcUaUnavailable(
                f"cannot connect to the OPC UA server at {self.endpoint}: {exc.strerror or exc}",
                fix="start the server (plantagent sim) or correct opcua.endpoint",
            ) from exc
        except ua.UaStatusCodeError as exc:
            self._schedule_drop(client)
            raise status_error(exc, "the connection") from exc
        except ua.UaError as exc:
            self._schedule_drop(client)
            raise OpcUaSecurityError(
                f"the OPC UA connection to {self.endpoint} failed: {exc}",
                fix="check opcua.server_certificate, security_policy and security_mode",
            ) from exc
        if namespaces != self._namespaces:
            self._namespaces = list(namespaces)
            self._node_cache.clear()
        return client

    async def _setup_security(self, client: Client) -> None:
        s = self.settings
        trusted = security.trusted_server_certificate_der(s)
        await self._check_presented_certificate(trusted)
        identity = await security.ensure_client_identity(s, self._pki_dir, self._key_vault)
        await client.set_security(
            _POLICIES[s.security_policy],
            identity.certificate,
            identity.private_key,
            server_certificate=trusted,
            mode=getattr(ua.MessageSecurityMode, s.security_mode),
        )

    async def _check_presented_certificate(self, trusted: bytes) -> None:
        """Compare the server's certificate with the trusted one before any secret is sent.

        The secure channel itself would fail too (it is encrypted to the trusted key), but
        only this check can say clearly which certificate the server presented.
        """
        s = self.settings
        probe = Client(self.endpoint, timeout=self.timeout_s)
        try:
            endpoints = await asyncio.wait_for(
                probe.connect_and_get_server_endpoints(), self.timeout_s
            )
        except (TimeoutError, OSError) as exc:
            probe.disconnect_socket()
            raise OpcUaUnavailable(
                f"cannot reach the OPC UA server at {self.endpoint} to check its certificate",
                fix="check the server is running; the next call retries",
            ) from exc
        except ua.UaError as exc:
            probe.disconnect_socket()
            raise OpcUaError(f"the server did not list its endpoints: {exc}") from exc
        policy_uri = security.SECURITY_POLICY_URIS[s.security_policy]
        mode = getattr(ua.MessageSecurityMode, s.security_mode)
        offered = [
            e for e in endpoints if e.SecurityPolicyUri == policy_uri and e.SecurityMode == mode
        ]
        if not offered:
            kinds = sorted(
                {
                    f"{e.SecurityPolicyUri.rsplit('#', 1)[-1]}/{e.SecurityMode.name}"
                    for e in endpoints
                }
            )
            raise OpcUaSecurityError(
                f"the server does not offer {s.security_policy}/{s.security_mode}",
                fix=f"set opcua.security_policy/security_mode to one it offers: {', '.join(kinds)}",
            )
        presented = offered[0].ServerCertificate or b""
        # The field may hold a chain: the server's own certificate comes first.
        if not presented.startswith(trusted):
            raise OpcUaSecurityError(
                f"the server at {self.endpoint} presented certificate "
                f"{security.certificate_fingerprint(presented)}, not the trusted "
                f"{security.certificate_fingerprint(trusted)} from {s.server_certificate}",
                fix="if the server's certificate was renewed on purpose, export the new one and "
                "set opcua.server_certificate to it; otherwise do not connect: it may be "
                "another machine",
            )

    async def _lose(self, client: Client) -> None:
        async with self._lock:
            if self._client is client:
                self._drop()
            else:
                self._schedule_drop(client)

    def _drop(self) -> None:
        if self._client is not None:
            self._schedule_drop(self._client)
            self._client = None

    def _schedule_drop(self, client: Client) -> None:
        # Closing a session politely needs the server; a hung one must not hold up the
        # error the caller is about to see, so the goodbye runs in the background, bounded.
        task = asyncio.get_running_loop().create_task(self._disconnect(client))
        self._cleanup.add(task)
        task.add_done_callback(self._cleanup.discard)

    async def _disconnect(self, client: Client) -> None:
        with contextlib.suppress(TimeoutError, OSError, ua.UaError):
            await asyncio.wait_for(client.disconnect(), min(1.0, self.timeout_s))
        client.disconnect_socket()
