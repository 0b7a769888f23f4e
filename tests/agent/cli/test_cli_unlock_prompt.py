"""Commands that open a passphrase site ask for the passphrase on a terminal (a real pty),
without PLANTAGENT_PASSPHRASE, and refuse plainly without one."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.vault.wrapping import PASSPHRASE_ENV
from tests.support.sites import PASSPHRASE, new_site

PLANTAGENT = [sys.executable, "-c", "import sys; from agent.cli import main; sys.exit(main())"]


def _on_a_terminal(argv: list[str], answer: str, limit_s: float = 60.0) -> tuple[int, str]:
    """Run ``argv`` on a pseudo-terminal, answer the passphrase prompt; (exit code, output)."""
    env = {k: v for k, v in os.environ.items() if k != PASSPHRASE_ENV}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, its stdin/stdout the terminal
        os.execvpe(argv[0], argv, env)
    out, answered, end = b"", False, time.monotonic() + limit_s
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            out += data
            if not answered and b"passphrase:" in out:
                time.sleep(0.2)  # getpass turns echo off (flushing input) before reading
                os.write(fd, answer.encode() + b"\n")
                answered = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_site(tmp_path_factory.mktemp("locked"), passphrase=PASSPHRASE)


@pytest.mark.parametrize("command", [["approvals", "list"], ["triage", "reports"]])
def test_a_command_asks_for_the_passphrase_on_a_terminal(locked: Path,
                                                         command: list[str]) -> None:
    code, out = _on_a_terminal([*PLANTAGENT, "--home", str(locked), *command], PASSPHRASE)
    assert "Site passphrase:" in out
    assert code == 0, out
    assert PASSPHRASE not in out  # never echoed
    wrong, out = _on_a_terminal([*PLANTAGENT, "--home", str(locked), *command],
                                "not the passphrase")
    assert wrong == 2 and "wrong passphrase" in out and "fix:" in out, out


def test_without_a_terminal_the_error_names_both_ways(locked: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != PASSPHRASE_ENV}
    done = subprocess.run([*PLANTAGENT, "--home", str(locked), "approvals", "list"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert done.returncode in (1, 2)
    assert "no terminal" in done.stderr and PASSPHRASE_ENV in done.stderr
