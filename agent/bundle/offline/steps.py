"""The install steps that run other programs: the virtual environment, pip with no index,
the installed plantagent's post-install steps, and the smoke test.

Children never see the machine's pip configuration (an index, extra find-links, a
constraints file) or ``PYTHON*`` variables: pip reads only the bundle's wheels, each
pinned by its signed sha256 (``--require-hashes``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .errors import InstallError
from .layout import WHEELS
from .space import disk_full, is_disk_full


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a child: no pip configuration, no PYTHON* overrides."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PYTHON")) and k != "VIRTUAL_ENV"}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def _tail(text: str, lines: int = 6) -> str:
    return " / ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def create_venv(python: str, directory: Path) -> None:
    """A fresh virtual environment with pip at ``directory``."""
    done = subprocess.run([python, "-m", "venv", str(directory)], env=clean_env(),
                          capture_output=True, text=True)
    if done.returncode == 0:
        return
    output = done.stdout + done.stderr
    if is_disk_full(output):
        raise disk_full("creating the virtual environment", directory)
    if "ensurepip" in output:
        raise InstallError(
            f"{python} cannot create virtual environments (no ensurepip)",
            fix="install your distribution's venv package for this Python (Debian, Ubuntu: "
            "apt install python3-venv, from your site's package mirror), then run again",
        )
    raise InstallError(f"creating the virtual environment failed: {_tail(output)}",
                       fix="see the message; then run the installer again")


def requirements(manifest: dict[str, Any], sums: dict[str, str]) -> str:
    """pip's requirements: every wheel of the bundle, pinned, with its signed sha256."""
    product = str(manifest.get("product", "plantagent"))
    extras = manifest.get("extras") or []
    lines = []
    for wheel in manifest["wheels"]:
        name = str(wheel["name"])
        if name.lower() == product.lower() and extras:
            name = f"{name}[{','.join(extras)}]"
        lines.append(f"{name}=={wheel['version']} --hash=sha256:{sums[wheel['file']]}")
    return "\n".join(lines) + "\n"


def pip_install(venv: Path, root: Path, requirements_file: Path) -> None:
    """Install the bundle's wheels into ``venv`` with no index, every hash checked."""
    cmd = [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-index",
           "--find-links", str(root / WHEELS), "--require-hashes", "--no-cache-dir",
           "--no-input", "--quiet", "-r", str(requirements_file)]
    done = subprocess.run(cmd, env=clean_env(), capture_output=True, text=True)
    if done.returncode == 0:
        return
    output = done.stdout + done.stderr
    if is_disk_full(output):
        raise disk_full("installing the wheels", venv)
    raise InstallError(f"pip could not install the bundle's wheels: {_tail(output)}",
                       fix="the bundle may be for another machine; see pip's message above")


def run_step(venv: Path, home: Path, args: list[str], env: dict[str, str],
             secret: str | None = None) -> dict[str, Any]:
    """Run ``plantagent --home HOME ARGS`` of the new environment; its last stdout line is
    a JSON report (stderr goes to the person installing). ``secret`` (the site passphrase)
    goes to the step on its standard input, never in its environment."""
    cmd = [str(venv / "bin" / "plantagent"), "--home", str(home), *args]
    done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True,
                          input=None if secret is None else secret + "\n")
    if done.returncode != 0:
        raise InstallError(
            f"the post-install step `plantagent {' '.join(args[:3])}` failed "
            f"(exit {done.returncode})",
            fix="see its message above; once fixed, run the installer again: it continues "
            "where it stopped, and the version installed before still runs",
        )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    try:
        report = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        report = {}
    return report if isinstance(report, dict) else {}


def smoke_test(venv: Path, home: Path, args: list[str], env: dict[str, str]) -> None:
    """Run the demo once with the installed model; InstallError unless it answers."""
    cmd = [str(venv / "bin" / "plantagent"), "--home", str(home), *args]
    sys.stdout.flush()
    done = subprocess.run(cmd, env=env, timeout=3600)
    if done.returncode != 0:
        raise InstallError(
            f"the smoke test (`plantagent {' '.join(args)}`) failed with exit "
            f"{done.returncode}; the new version was NOT made current",
            fix="see its messages above; fix the cause and run the installer again (or "
            "pass --no-smoke-test to install without it)",
        )
