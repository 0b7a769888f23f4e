"""The site's parameter overrides reach the design parameters of the model they belong to
(the pump's own and its strainer's), and nothing else does."""

from __future__ import annotations

from agent.twin.assets.records import EquipmentAsset
from agent.twin.physics.pump import PumpParams
from agent.twin.whatif.base import Situation
from agent.twin.whatif.chiller import ChillerWhatIf
from agent.twin.whatif.pump import PumpWhatIf


def _situation(params: dict[str, float]) -> Situation:
    pump = EquipmentAsset(name="P-1", path="Plant/P-1", node_id="ns=2;s=P-1")
    return Situation(equipment=pump, related={}, window={}, latest={}, params=params)


def test_overrides_go_to_the_pump_and_its_strainer() -> None:
    model = PumpWhatIf()
    pump, strainer = model._params(_situation({"clogged_factor": 7.0}))
    assert strainer.clogged_factor == 7.0 and pump == PumpParams()
    assert "motor" not in model.parameter_names and "bearing" not in model.parameter_names
    assert {"clean_resistance", "clogged_factor"} <= model.parameter_names


def test_a_model_takes_only_its_own_parameters() -> None:
    model = ChillerWhatIf()
    assert "capacity_control" not in model.parameter_names
    name = sorted(model.parameter_names)[0]
    default = getattr(model.params(_situation({})), name)
    changed = model.params(_situation({name: default + 1.0, "clogged_factor": 7.0}))
    assert getattr(changed, name) == default + 1.0
