"""The SBOM lists everything in a bundle and is valid CycloneDX 1.6."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from agent.bundle.offline import layout
from agent.bundle.offline.files import parse_sums

from .bundle_helpers import mini_bundle, release_key, sbom_errors


def test_the_sbom_validates_and_accounts_for_every_file(tmp_path: Path) -> None:
    _, keys = release_key(tmp_path / "keys")
    bundle = mini_bundle(tmp_path, keys)
    sbom = json.loads((bundle / layout.SBOM).read_text())
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.6"
    assert sbom_errors(sbom) == []

    sums = parse_sums((bundle / layout.SUMS).read_text())
    listed = {}
    for component in sbom["components"]:
        path = next((p["value"] for p in component.get("properties", [])
                     if p["name"] == "plantagent:bundle-path"), component["name"])
        listed[path] = component["hashes"][0]["content"]
    expected = {p: h for p, h in sums.items() if p != layout.SBOM}
    assert listed == expected
    wheels = [c for c in sbom["components"] if c["type"] == "library"]
    assert {c["purl"].split("@")[0] for c in wheels} == {"pkg:pypi/cryptography",
                                                         "pkg:pypi/cffi"}
    # cryptography needs cffi on CPython: the dependency graph says so.
    crypto = next(c["bom-ref"] for c in wheels if c["name"] == "cryptography")
    deps = {d["ref"]: d.get("dependsOn", []) for d in sbom["dependencies"]}
    assert any("pkg:pypi/cffi@" in ref for ref in deps[crypto])


def test_the_schema_check_does_catch_an_invalid_sbom(tmp_path: Path) -> None:
    _, keys = release_key(tmp_path / "keys")
    sbom = json.loads((mini_bundle(tmp_path, keys) / layout.SBOM).read_text())
    broken = copy.deepcopy(sbom)
    del broken["components"][0]["name"]
    broken["components"][1]["type"] = "spaceship"
    errors = sbom_errors(broken)
    assert any("'name' is a required property" in e for e in errors)
    assert any("spaceship" in e for e in errors)
