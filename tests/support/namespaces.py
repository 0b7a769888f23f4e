"""Linux namespaces for tests that need a private network or mount table (root only)."""

from __future__ import annotations

import os
import shutil
import subprocess


def can_unshare(*flags: str) -> bool:
    """True when this process may create the namespaces (root, util-linux present; for a
    network namespace also iproute2, to bring its loopback up)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    if "--net" in flags and shutil.which("ip") is None:
        return False
    done = subprocess.run(["unshare", *flags, "true"], capture_output=True)
    return done.returncode == 0
