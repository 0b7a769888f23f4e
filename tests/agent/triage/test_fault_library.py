"""The fault library as data: shipped files load, bad files are clear errors naming the
file, key and fix, a site file extends and overrides, the demo's fault modes are site
data, and neither the triage code nor the library names any plant's tags or equipment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.triage.library import build_library, load_library, parse_role, shipped_files
from agent.twin.semantics.records import TagSemantics
from plant.site import install_demo_site

ROOT = Path(__file__).resolve().parents[3]

COMMON_CLASSES = ("pump", "fan", "compressor", "motor", "filter", "heat_exchanger", "tank",
                  "conveyor", "valve", "cooling_tower", "chiller", "boiler")


def test_the_shipped_library_covers_the_common_classes_and_instrument_rules() -> None:
    lib = load_library(None)
    for eq_class in COMMON_CLASSES:
        assert lib.for_class(eq_class), f"no signature for {eq_class}"
    assert {i.rule for i in lib.instruments} == {"stuck", "drift", "flat_line", "out_of_range"}
    for sig in lib.signatures:
        assert any(s.required for s in sig.symptoms), sig.cause
        assert sig.checks and sig.action, sig.cause


def test_a_role_matches_by_quantity_place_and_function() -> None:
    brg = TagSemantics("x", "temperature", ["bearing"])
    winding = TagSemantics("y", "temperature", ["motor", "winding"])
    vib = TagSemantics("z", "vibration", ["bearing"])
    sp = TagSemantics("s", "flow", [], "setpoint")
    assert parse_role("bearing temperature").matches(brg)
    assert not parse_role("bearing temperature").matches(winding)
    assert parse_role("vibration").matches(vib)
    assert parse_role("flow setpoint").matches(sp) and not parse_role("flow").matches(sp)


@pytest.mark.parametrize(("text", "words"), [
    ('[[signature]]\ncause = "x.y"\ntitle = "t"\nclasses = ["pumpe"]\n'
     '[[signature.symptom]]\nrole = "flow"\ndirection = "down"\n',
     ["signature[0].classes", "'pump'"]),
    ('[[signature]]\ncause = "x.y"\ntitle = "t"\nclasses = ["pump"]\n'
     '[[signature.symptom]]\nrole = "flux"\ndirection = "down"\n', ["'flux'", "role"]),
    ('[[signature]]\ncause = "x.y"\ntitle = "t"\nclasses = ["pump"]\n'
     '[[signature.symptom]]\nrole = "flow"\ndirection = "sideways"\n',
     ["signature[0].symptom[0].direction"]),
    ('[[signature]]\ncause = "x.y"\ntitle = "t"\nclasses = ["pump"]\nweigth = 2\n'
     '[[signature.symptom]]\nrole = "flow"\ndirection = "down"\n', ["unknown key", "weigth"]),
    ('[[signature]\n', ["not valid TOML"]),
])
def test_a_bad_fault_file_names_the_file_the_key_and_the_fix(
        tmp_path: Path, text: str, words: list[str]) -> None:
    (tmp_path / "faults").mkdir()
    (tmp_path / "faults" / "ours.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_library(tmp_path)
    message = str(err.value)
    assert "ours.toml" in message and err.value.fix
    for w in words:
        assert w in message


def test_a_site_file_overrides_a_shipped_signature_and_adds_its_own(tmp_path: Path) -> None:
    (tmp_path / "faults").mkdir()
    (tmp_path / "faults" / "site.toml").write_text(
        '[[signature]]\ncause = "pump.bearing_wear"\ntitle = "our bearings"\n'
        'classes = ["pump"]\n[[signature.symptom]]\nrole = "vibration"\ndirection = "up"\n'
        'required = true\n\n'
        '[[signature]]\ncause = "mixer.seal_leak"\ntitle = "seal leak"\nclasses = ["other"]\n'
        'replaces = ["pump.cavitation"]\n'
        '[[signature.symptom]]\nrole = "level"\ndirection = "down"\nrequired = true\n',
        encoding="utf-8")
    lib = load_library(tmp_path)
    sig = lib.signature("pump.bearing_wear")
    assert sig is not None and sig.title == "our bearings" and "site.toml" in sig.source
    assert lib.signature("mixer.seal_leak") is not None
    assert lib.signature("pump.cavitation") is None


def test_the_demo_fault_modes_are_the_demo_sites_data(tmp_path: Path) -> None:
    assert load_library(tmp_path).signature("bearing_wear") is None
    written = install_demo_site(tmp_path)
    assert (tmp_path / "assets.toml") in written
    lib = load_library(tmp_path)
    demo = lib.signature("bearing_wear")
    assert demo is not None and "pump" in demo.classes
    # It replaces the library's generic signature of the same fault on its classes.
    assert lib.signature("pump.bearing_wear") is None
    assert install_demo_site(tmp_path) == []  # never overwrites a site's own files


def _plant_names() -> set[str]:
    from plant.tags import EQUIPMENT, TAGS
    from plant.testplants import all_test_plants

    names = {e.name for e in EQUIPMENT} | {t.name for t in TAGS}
    # Compound browse names only: a single English word ("Level") is vocabulary.
    names |= {t.variable for t in TAGS if re.search(r"[a-z][A-Z]", t.variable)}
    for plant in all_test_plants().values():
        for e in plant.equipment:
            # Its object's name ("Pumpe_1", "CH_1"), not a generic container ("points").
            names |= {e.id, *(f[-1] for f in [e.folder] if f and re.search(r"\d|_|-", f[-1]))}
        for t in plant.tags:
            names.add(t.key)
            if re.search(r"\d|_|[a-z][A-Z]", t.browse_name) and len(t.browse_name) > 3:
                names.add(t.browse_name)
    return {n for n in names if len(n) > 3}


def test_triage_and_the_fault_library_name_no_plant() -> None:
    names = _plant_names()
    files = [*(ROOT / "agent" / "triage").rglob("*.py"), *(ROOT / "agent" / "triage").glob("*.md"),
             *(ROOT / "policies" / "faults").glob("*.toml")]
    assert files and len(names) > 50
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        found += [(path.name, n) for n in names
                  if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text)]
    assert not found


def test_every_shipped_file_is_valid_on_its_own() -> None:
    for origin, text in shipped_files():
        assert build_library([(origin, text)]).files == (origin,)
