"""The demo site's own data: its asset file (which equipment feeds or drives which) and
its fault modes, keyed by equipment class and tag role like any site's. Installed into a
demo site's home by `plantagent demo`, the demo's evaluations and the test fixtures,
exactly where a real site keeps its own (``$PLANTAGENT_HOME/assets.toml`` and
``$PLANTAGENT_HOME/faults/*.toml``)."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path


def install_demo_site(home: Path) -> list[Path]:
    """Copy the demo site's data into ``home`` unless the site already has its own
    file of the same name; returns the files written."""
    root = resources.files("plant.site")
    written: list[Path] = []
    wanted = [(root / "assets.toml", home / "assets.toml")]
    wanted += [(e, home / "faults" / e.name) for e in (root / "faults").iterdir()
               if e.name.endswith(".toml")]
    for source, target in wanted:
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with resources.as_file(source) as path:
            shutil.copyfile(path, target)
        written.append(target)
    return written
