"""The copy of the project a bundle builds its wheel from: a developer's site, reports,
build output and tests at the top stay out; a package of that name deeper in stays in
(plant/site holds the demo site's data and was once left out of the installed wheel)."""

from __future__ import annotations

import shutil
from pathlib import Path

from agent.bundle.wheels import _skip


def test_top_level_leftovers_stay_out_and_nested_packages_stay_in(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for name in ("site/twin.db", "reports/r.md", "build/lib/x.py", "tests/test_x.py",
                 ".venv/bin/python", "plant/site/__init__.py", "plant/site/faults/demo.toml",
                 "agent/build/__init__.py", "agent/__pycache__/x.pyc"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("x", encoding="utf-8")
    copy = tmp_path / "copy"
    shutil.copytree(project, copy, ignore=_skip(project))
    kept = sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file())
    assert kept == ["agent/build/__init__.py", "plant/site/__init__.py",
                    "plant/site/faults/demo.toml"]
