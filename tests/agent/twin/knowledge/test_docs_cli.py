"""`plantagent docs` and `plantagent incidents` end to end on a demo site."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main
from agent.settings import Settings
from plant.incidents import incidents_dir
from tests.support.sites import new_site

from .pdfmaker import make_pdf


@pytest.fixture
def docs_home(tmp_path: Path, twin_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = new_site(tmp_path / "site")
    monkeypatch.setenv("PLANTAGENT_MODEL__DIRECTORY", str(twin_settings.models_dir))
    return home


def test_docs_add_and_search(
    docs_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manual = tmp_path / "valve_manual.md"
    manual.write_text(
        "# Valve V-9\n\n## 3 Packing\n\nTighten the gland nut a quarter turn.\n", encoding="utf-8"
    )
    broken = tmp_path / "scan.pdf"
    broken.write_bytes(b"not a pdf at all")
    good_pdf = tmp_path / "sheet.pdf"
    good_pdf.write_bytes(make_pdf([["DATA SHEET", "Gland nut torque 25 Nm."]]))

    code = main(["--home", str(docs_home), "docs", "add", str(manual), str(broken), str(good_pdf)])
    out, err = capsys.readouterr()
    assert code == 1  # one file was skipped
    assert "added     " in out and "valve_manual.md (1 chunks)" in out
    assert "indexing: 2/2 chunks embedded" in err  # progress on stderr (plain when piped)
    assert "scan.pdf is not a readable PDF" in err

    code = main(["--home", str(docs_home), "docs", "search", "gland nut", "--json", "-k", "2"])
    hits = json.loads(capsys.readouterr().out)
    assert code == 0 and {h["document"] for h in hits} == {"valve_manual.md", "sheet.pdf"}
    valve = next(h for h in hits if h["document"] == "valve_manual.md")
    assert valve["citation"] == "valve_manual.md §3 Packing, lines 3-5"

    assert main(["--home", str(docs_home), "docs", "list", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_incidents_load_and_search(
    docs_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Three of the demo records in one file (a list), to keep the test quick.
    picked = ["WO-2023-0903.json", "WO-2024-0209.json", "WO-2024-0117.json"]
    records = [json.loads((incidents_dir() / name).read_text("utf-8")) for name in picked]
    history = tmp_path / "history.json"
    history.write_text(json.dumps(records), encoding="utf-8")
    assert main(["--home", str(docs_home), "incidents", "load", str(history)]) == 0
    assert "3 added, 0 updated, 0 unchanged; 3 stored" in capsys.readouterr().out
    code = main(
        ["--home", str(docs_home), "incidents", "search", "belt jammed, torque spike",
         "--reading", "M-101.Torque=58", "--json", "-k", "1"]
    )  # fmt: skip
    [best] = json.loads(capsys.readouterr().out)
    assert code == 0 and (best["id"], best["fault_mode"]) == ("WO-2023-0903", "conveyor_jam")
    assert main(["--home", str(docs_home), "incidents", "search", "--reading", "nonsense"]) == 2
    assert "TAG=VALUE" in capsys.readouterr().err
