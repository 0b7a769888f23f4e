"""German compounds of 'Strom': a stream of matter is a flow, 'Strom' alone or a motor's
is an electric current."""

from __future__ import annotations

import pytest

from agent.twin.semantics.tags import infer_tag
from tools.opcua.models import TagInfo


def _tag(description: str) -> TagInfo:
    return TagInfo(name="Anlage.Pumpe_3.Messwert_7", equipment="Pumpe_3",
                   browse_path=["Anlage", "Pumpe_3", "Messwert_7"],
                   node_id="nsu=urn:x;s=Messwert_7", namespace_uri="urn:x",
                   description=description, data_type="Double")


@pytest.mark.parametrize(("description", "quantity"), [
    ("Förderstrom Pumpe 3", "flow"),
    ("Fördermenge der Pumpe 3", "flow"),
    ("Kühlwasserstrom zum Wärmetauscher", "flow"),
    ("Luftstrom Zuluft", "flow"),
    ("Volumenstrom Rücklauf", "flow"),
    ("Motorstrom Pumpe 3", "current"),
    ("Strom Antrieb Pumpe 3", "current"),
])
def test_strom_compounds(description: str, quantity: str) -> None:
    assert infer_tag(_tag(description)).quantity == quantity
