"""OPC UA toolset: connection, browse into a catalog, read, history, alarms, subscriptions.

``register(registry)`` adds the agent tools; see README.md for the public API.
"""

from __future__ import annotations

from tools.opcua.toolset import register

__all__ = ["register"]
