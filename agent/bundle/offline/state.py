"""The install prefix: versioned virtual environments, the ``current`` link, the record.

```
<prefix>/versions/<version>-<digest12>/   one virtual environment per bundle
<prefix>/current -> versions/...          switched atomically once a version is ready
<prefix>/bin/plantagent                   -> ../current/bin/plantagent
<prefix>/installed.json                   what is installed, and every install before
<prefix>/.install.lock                    held while an installer runs
```

Each step leaves a marker file in the version's directory when it is done, so an
interrupted install, run again, redoes only what it had not finished. The previous
version stays in place (and ``current`` on it) until the new one has passed every step.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import InstallError

RECORD = "installed.json"
LOCK = ".install.lock"
VENV_DONE = ".plantagent-venv-complete"
SMOKE_DONE = ".plantagent-smoke-passed"


@dataclass(frozen=True)
class Installed:
    """The version ``current`` points at, as installed.json records it."""

    version: str
    digest: str
    directory: str


class Prefix:
    """One install prefix."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def version_dir(self, version: str, digest: str) -> Path:
        """The virtual environment of one bundle."""
        return self.root / "versions" / f"{version}-{digest[:12]}"

    @property
    def current_link(self) -> Path:
        """The link to the running version."""
        return self.root / "current"

    def read(self) -> dict[str, Any]:
        """The install record (empty before the first install)."""
        path = self.root / RECORD
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InstallError(f"{path} is unreadable ({exc})",
                               fix="restore it from a backup, or remove it to install afresh") \
                from None
        return data if isinstance(data, dict) else {}

    def installed(self) -> Installed | None:
        """The current version, if one was installed here."""
        current = self.read().get("current")
        if not isinstance(current, dict):
            return None
        return Installed(str(current.get("version")), str(current.get("digest")),
                         str(current.get("directory")))

    def switch(self, version: str, digest: str, directory: Path, event: str) -> None:
        """Point ``current`` (and bin/plantagent) at ``directory`` and record it."""
        tmp = self.root / f".current.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(directory.relative_to(self.root))
        os.replace(tmp, self.current_link)
        bin_dir = self.root / "bin"
        bin_dir.mkdir(exist_ok=True)
        launcher = bin_dir / "plantagent"
        if not launcher.is_symlink():
            launcher.unlink(missing_ok=True)
            launcher.symlink_to(Path("..") / "current" / "bin" / "plantagent")
        record = self.read()
        entry = {"version": version, "digest": digest, "directory": str(directory),
                 "event": event, "at": datetime.now(UTC).isoformat(timespec="seconds")}
        record["current"] = entry
        record.setdefault("history", []).append(entry)
        write_json(self.root / RECORD, record)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the prefix's lock; InstallError when another installer holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK).open("a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InstallError(
                    f"another installer is running in {self.root}",
                    fix="wait for it to finish, then run this one again",
                ) from None
            yield


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def remove_tree(path: Path) -> None:
    """Remove a directory left by an interrupted step (no error if it is gone)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
