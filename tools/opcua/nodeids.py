"""Node ids as portable strings: the namespace URI, never the server's namespace index.

A namespace index can change when a server restarts or is upgraded; the URI does not. The
catalog stores ``nsu=<uri>;s=...`` (or ``i=...`` for namespace 0) and converts back with the
server's current namespace array.
"""

from __future__ import annotations

from asyncua import ua

from agent.errors import OpcUaError


def to_expanded(node_id: ua.NodeId, namespaces: list[str]) -> str:
    """``ns=2;s=X`` -> ``nsu=urn:...;s=X``; namespace 0 stays ``i=85``."""
    text = node_id.to_string()
    if node_id.NamespaceIndex == 0:
        return text
    _, _, ident = text.partition(";")
    try:
        uri = namespaces[node_id.NamespaceIndex]
    except IndexError:
        raise OpcUaError(
            f"node {text} uses namespace index {node_id.NamespaceIndex} the server does not list",
            fix="the server's namespace array is inconsistent; browse again after it restarts",
        ) from None
    return f"nsu={uri};{ident}"


def from_expanded(text: str, namespaces: list[str]) -> ua.NodeId:
    """Inverse of :func:`to_expanded` against the server's current namespace array."""
    if text.startswith("nsu="):
        uri, sep, ident = text[4:].partition(";")
        if not sep:
            raise OpcUaError(f"malformed node id {text!r}", fix="expected nsu=<uri>;<id>")
        try:
            index = namespaces.index(uri)
        except ValueError:
            raise OpcUaError(
                f"the server no longer has namespace {uri}",
                fix="browse the server again (plantagent opcua browse); the plant changed",
            ) from None
        text = f"ns={index};{ident}"
    try:
        return ua.NodeId.from_string(text)
    except (ValueError, ua.UaStringParsingError) as exc:
        raise OpcUaError(f"malformed node id {text!r}: {exc}") from None


def standard(identifier: int) -> ua.NodeId:
    """A namespace-0 node id from ``ua.ObjectIds`` (typed for mypy)."""
    return ua.NodeId(ua.Int32(identifier))


def local(node_id: ua.NodeId) -> ua.NodeId:
    """A plain NodeId of a (local) ExpandedNodeId from a browse, usable as a dict key."""
    return ua.NodeId(node_id.Identifier, node_id.NamespaceIndex, node_id.NodeIdType)
