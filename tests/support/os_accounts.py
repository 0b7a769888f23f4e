"""Real OS accounts for tests that need them (people acting as themselves, clients of the
site service identified by the kernel): made with useradd, removed afterwards; root only.

``ROOT_WITH_USERADD`` is the skip condition; ``run_system`` starts a system program past
the egress guard; ``os_accounts`` makes the accounts; ``python_for`` finds an interpreter
the account may run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from agent.vault.egress import permitting

ROOT_WITH_USERADD = os.geteuid() == 0 and bool(shutil.which("useradd")
                                              and shutil.which("runuser"))
REPO = Path(__file__).resolve().parents[2]


def run_system(argv: list[str], **options: Any) -> subprocess.CompletedProcess[Any]:
    """A system program the test needs (useradd, runuser, userdel), let past the egress
    guard the site's runtime installs in this process."""
    with permitting(argv[0]):
        return subprocess.run(argv, **options)


@contextmanager
def os_accounts(people: Iterable[str], *, group: str | None = None
                ) -> Iterator[dict[str, str]]:
    """Fresh OS accounts (person -> login), members of ``group`` when given (made here
    too); all removed afterwards."""
    made: dict[str, str] = {}
    try:
        if group is not None:
            run_system(["groupadd", group], check=True, capture_output=True)
        for person in people:
            login = f"pa{secrets.token_hex(3)}{person}"
            extra = ["-G", group] if group is not None else []
            run_system(["useradd", "--no-create-home", "--shell", "/bin/sh", *extra, login],
                       check=True, capture_output=True)
            made[person] = login
        yield made
    finally:
        for login in made.values():
            run_system(["userdel", login], check=False, capture_output=True)
        if group is not None:
            run_system(["groupdel", group], check=False, capture_output=True)


def python_for(login: str) -> tuple[str, str]:
    """An interpreter the account may run, and the PYTHONPATH it needs: this one, or
    (when it lives in root's private home) the system's of the same version with this
    environment's packages and the repository on its path."""
    if run_system(["runuser", "-u", login, "--", "test", "-x", sys.executable],
                  check=False).returncode == 0:
        return sys.executable, ""
    system = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    packages = [p for p in sys.path if p.endswith("site-packages")]
    if not Path(system).is_file() or not packages:
        pytest.skip(f"no Python {sys.version_info.major}.{sys.version_info.minor} the test "
                    "accounts may run (this one is in a private directory)")
    return system, os.pathsep.join([str(REPO), *packages])


@contextmanager
def shared_tmp_dir(prefix: str) -> Iterator[Path]:
    """A short directory outside root's private tmp that test OS accounts can reach,
    removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
