"""Test plants served by the kit (plant/kit): each named in a different real-world style.

- ``waterworks``: a DCS/PLC gateway export, ISA-5.1 loop tags in one flat folder;
- ``kuehlwasser``: a deep ISA-95 hierarchy, numeric node ids, German names;
- ``chillerplant``: a BMS export (BACnet devices with ``points`` folders), chiller-plant
  equipment classes (chiller, cooling tower, AHU fan).
"""

from __future__ import annotations

from plant.kit.spec import PlantDef


def all_test_plants() -> dict[str, PlantDef]:
    """Every test plant keyed by name (imported on demand)."""
    from plant.testplants import chillerplant, kuehlwasser, waterworks

    return {p.name: p for p in (waterworks.PLANT, kuehlwasser.PLANT, chillerplant.PLANT)}
