"""Calling a running demo plant's Simulation methods with an asyncua client.

Used by `plantagent sim fault ...`. Names are checked against the server's own
ListFaults first, so a typo gets an error that lists the close matches.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from asyncua import Client, ua
from asyncua.ua.uaerrors import UaError, UaStatusCodeError

from agent.errors import OpcUaUnavailable, UsageError
from plant.faults import close_matches
from plant.server.address_space import NAMESPACE_URI, SIMULATION
from plant.server.uatypes import plant_id


async def _call(endpoint: str, timeout_s: float, method: str, *args: str) -> tuple[str, Any]:
    """Call one Simulation method; return (ListFaults JSON, result of ``method``)."""
    client = Client(endpoint, timeout=timeout_s)
    # Ask for what the server grants anyway, so asyncua does not warn about the revision.
    client.session_timeout = 60_000
    try:
        await asyncio.wait_for(client.connect(), timeout_s)
    except (OSError, TimeoutError, UaError) as exc:
        raise OpcUaUnavailable(
            f"cannot reach the demo plant at {endpoint}: {exc or type(exc).__name__}",
            fix="start it with `plantagent sim` (it prints its endpoint) or pass --endpoint",
        ) from exc
    try:
        try:
            idx = await client.get_namespace_index(NAMESPACE_URI)
        except ValueError:
            raise UsageError(
                f"{endpoint} is not a plantagent demo plant (no namespace {NAMESPACE_URI})",
                fix="point --endpoint at the URL `plantagent sim` prints",
            ) from None
        sim = client.get_node(plant_id(SIMULATION, idx))
        catalogue = await sim.call_method(ua.QualifiedName("ListFaults", idx))
        if method == "ListFaults":
            return catalogue, catalogue
        _check_names(json.loads(catalogue), method, args)
        try:
            result = await sim.call_method(ua.QualifiedName(method, idx), *args)
        except UaStatusCodeError as exc:
            raise UsageError(
                f"the demo plant refused {method}{args}: {exc}",
                fix="`plantagent sim faults` lists fault modes and the equipment they fit",
            ) from exc
        return catalogue, result
    except (TimeoutError, OSError) as exc:
        raise OpcUaUnavailable(
            f"the demo plant at {endpoint} stopped answering: {exc or type(exc).__name__}",
            fix="check that `plantagent sim` is still running",
        ) from exc
    finally:
        # The call's own outcome matters; a failed goodbye does not.
        with contextlib.suppress(OSError, TimeoutError, UaError):
            await asyncio.wait_for(client.disconnect(), timeout_s)


def _check_names(catalogue: list[dict[str, Any]], method: str, args: tuple[str, ...]) -> None:
    faults = {f["name"]: f for f in catalogue}
    equipment = sorted({e for f in catalogue for e in f["equipment"]})
    if method == "InjectFault":
        fault, target = args
        if fault not in faults:
            raise UsageError(
                f"no fault mode {fault!r}" + _did_you_mean(fault, list(faults)),
                fix=f"use one of: {', '.join(faults)}",
            )
        fits = faults[fault]["equipment"]
        if target not in fits and not ("." in target and faults[fault].get("sensor_fault")):
            if target in equipment:
                raise UsageError(
                    f"fault {fault} does not apply to {target}",
                    fix=f"inject it on one of: {', '.join(fits)}",
                )
            raise UsageError(
                f"no equipment {target!r} in the demo plant" + _did_you_mean(target, equipment),
                fix=f"{fault} applies to: {', '.join(fits)}",
            )
    elif method == "ClearFault":
        (target,) = args
        if target not in ("", "*") and target not in equipment and "." not in target:
            raise UsageError(
                f"no equipment {target!r}" + _did_you_mean(target, equipment),
                fix=f"use one of: {', '.join(equipment)}, or * for all",
            )


def _did_you_mean(name: str, candidates: list[str]) -> str:
    hits = close_matches(name, candidates)
    return f" (did you mean {' or '.join(hits)}?)" if hits else ""


async def inject_remote(endpoint: str, fault: str, target: str, timeout_s: float = 4.0) -> str:
    """Inject ``fault`` on ``target`` in the running plant; return the server's message."""
    return str((await _call(endpoint, timeout_s, "InjectFault", fault, target))[1])


async def clear_remote(endpoint: str, target: str, timeout_s: float = 4.0) -> str:
    """Clear the faults on ``target`` ("*" = all); return the server's message."""
    return str((await _call(endpoint, timeout_s, "ClearFault", target))[1])


async def list_remote(endpoint: str, timeout_s: float = 4.0) -> list[dict[str, Any]]:
    """The running plant's fault modes with where each is active."""
    data: list[dict[str, Any]] = json.loads((await _call(endpoint, timeout_s, "ListFaults"))[1])
    return data
