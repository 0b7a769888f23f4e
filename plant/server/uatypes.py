"""Typed constructors for asyncua values (its annotations want ua.Int32, ua.String...)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from asyncua import ua


def std_id(identifier: int) -> ua.NodeId:
    """A namespace-0 node id, e.g. ``std_id(ua.ObjectIds.Server)``."""
    return ua.NodeId(ua.Int32(identifier))


def plant_id(identifier: str, namespace_index: int) -> ua.NodeId:
    """A string node id in the given namespace."""
    return ua.NodeId(ua.String(identifier), ua.Int16(namespace_index))


def status(code: int) -> ua.StatusCode:
    """A StatusCode from ``ua.StatusCodes``."""
    return ua.StatusCode(ua.UInt32(code))


def ua_time(when: datetime) -> ua.DateTime:
    """A timezone-aware datetime as asyncua's DateTime (a datetime subclass)."""
    return cast(ua.DateTime, when)
