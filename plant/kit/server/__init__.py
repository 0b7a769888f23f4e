"""The generic OPC UA server of the test plants (asyncua)."""

from plant.kit.server.app import KitPlantServer

__all__ = ["KitPlantServer"]
