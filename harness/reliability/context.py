"""What an attempt works with: a scratch directory, throw-away sites, the command line
run in process (its exit code and output), and helper interpreters."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from agent.cli import main
from agent.vault.egress import permitting
from agent.vault.egress_policy import child_env
from harness.sites import populated_site, throwaway_site

#: The repository root (helper interpreters import the product from it).
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    """A command's exit code and output."""

    code: int
    out: str
    err: str

    @property
    def traceback(self) -> bool:
        """True when a Python traceback or an internal error reached the person."""
        text = self.out + self.err
        return "Traceback (most recent call last)" in text or "internal error" in text

    def says(self, *words: str) -> bool:
        """True when every word appears in its output (case-insensitive)."""
        text = (self.out + self.err).lower()
        return all(w.lower() in text for w in words)

    def short(self) -> str:
        """Its first line of error output (or of output), for a report."""
        lines = [ln for ln in (self.err or self.out).splitlines() if ln.strip()]
        return f"exit {self.code}: {lines[0][:160] if lines else '(no output)'}"


class Context:
    """A scratch directory for one attempt (removed afterwards)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="plantagent-reliability-"))

    def __enter__(self) -> Context:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def path(self, name: str) -> Path:
        """A path in the scratch directory."""
        return self.root / name

    def site(self, name: str = "site", *, populated: bool = True) -> Path:
        """A throw-away site (its four databases holding data, closed cleanly)."""
        home = self.root / name
        return populated_site(home) if populated else throwaway_site(home)

    def cli(self, *argv: str, home: Path | None = None, stdin: str = "") -> Run:
        """`plantagent [--home HOME] ARGV` in process."""
        out, err = io.StringIO(), io.StringIO()
        args = ["--home", str(home), *argv] if home is not None else list(argv)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                _stdin(stdin):
            try:
                code = main(args)
            except Exception as exc:  # noqa: BLE001 - a crash is what this looks for
                import traceback

                err.write("Traceback (most recent call last):\n" + "".join(
                    traceback.format_exception(exc)))
                code = 99
        return Run(code, out.getvalue(), err.getvalue())

    def python(self, script: str, *args: str, env: dict[str, str] | None = None,
               timeout: float = 120, wrap: list[str] | None = None) -> Run:
        """Run ``script`` in a fresh interpreter (its own audit hooks, its own process);
        ``wrap`` runs it under another program (``unshare ...``)."""
        path = self.root / f"script-{len(list(self.root.glob('script-*')))}.py"
        path.write_text(textwrap.dedent(script), encoding="utf-8")
        cmd = [*(wrap or []), sys.executable, str(path), *args]
        full = {**child_env(), "PYTHONPATH": str(ROOT), **(env or {})}
        with permitting(*(p for p in (sys.executable, *(wrap or [])[:1]) if p)):
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  env=full, cwd=ROOT)
        return Run(done.returncode, done.stdout, done.stderr)

    def plantagent(self, *argv: str, home: Path | None = None, env: dict[str, str] | None
                   = None, timeout: float = 120) -> Run:
        """`plantagent` in its own process (for what must not run in this one)."""
        exe = Path(sys.executable).with_name("plantagent")
        cmd = [str(exe), *(["--home", str(home)] if home is not None else []), *argv]
        with permitting(str(exe)):
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  env={**child_env(), **(env or {})}, cwd=ROOT)
        return Run(done.returncode, done.stdout, done.stderr)


@contextlib.contextmanager
def _stdin(text: str) -> Any:
    saved = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


def json_of(run: Run) -> Any:
    """The JSON a command printed (its last JSON value on stdout)."""
    return json.loads(run.out)


def is_root() -> bool:
    """True when namespaces and mounts can be made here."""
    return os.geteuid() == 0 and shutil.which("unshare") is not None
