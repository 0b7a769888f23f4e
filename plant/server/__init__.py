"""The demo plant's OPC UA server (asyncua): address space, alarms, history, control."""

from plant.server.address_space import NAMESPACE_URI
from plant.server.app import ENDPOINT_PATH, DemoPlantServer
from plant.server.security import ServerSecurity, make_self_signed_certificate

__all__ = [
    "ENDPOINT_PATH",
    "NAMESPACE_URI",
    "DemoPlantServer",
    "ServerSecurity",
    "make_self_signed_certificate",
]
