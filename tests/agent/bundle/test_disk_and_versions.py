"""A full disk is named before anything is written (the installer's estimate) and when it
happens anyway (a model copy), on a real small file system; versions order as PEP 440."""

from __future__ import annotations

import hashlib
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.bundle.offline.versions import compare

from .bundle_helpers import can_unshare

needs_mount_ns = pytest.mark.skipif(not can_unshare("--mount"),
                                    reason="needs root to mount a small tmpfs")


def on_small_disk(tmp_path: Path, size: str, code: str, *args: str
                  ) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``tmp_path/disk`` a tmpfs of ``size``, in a private mount
    namespace (nothing is mounted outside it)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    script = 'mount -t tmpfs -o size="$1" tmpfs "$2" && shift 2 && exec "$@"'
    return subprocess.run(
        ["unshare", "--mount", "sh", "-c", script, "sh", size, str(disk),
         sys.executable, "-c", code, str(disk), *args],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[3])


@needs_mount_ns
def test_too_little_space_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    code = """
import sys
from pathlib import Path
from agent.bundle.offline.errors import InstallError
from agent.bundle.offline.space import Need, check_space
disk = Path(sys.argv[1])
try:
    check_space([Need(disk / "prefix" / "versions" / "1.0", 30_000_000, "the virtual environment"),
                 Need(disk / "home" / "models", 10_000_000, "the models")])
except InstallError as exc:
    print(exc.message); print(exc.fix); sys.exit(3)
"""
    done = on_small_disk(tmp_path, "16m", code)
    assert done.returncode == 3, done.stderr
    # 40 MB asked for plus the 64 MiB of slack, against the 16 MiB of the disk.
    assert "needs about 0.11 GB" in done.stdout and "0.02 GB is free" in done.stdout
    assert "the virtual environment" in done.stdout and "the models" in done.stdout
    assert "nothing was installed" in done.stdout
    assert not list((tmp_path / "disk").iterdir())


@needs_mount_ns
def test_a_disk_that_fills_up_during_a_model_copy_leaves_nothing_half_written(
    tmp_path: Path,
) -> None:
    source = tmp_path / "model.gguf"
    data = os.urandom(12 << 20)
    source.write_bytes(data)
    code = """
import sys
from pathlib import Path
from agent.bundle.model_files import copy_verified
from agent.errors import UsageError
from agent.llm.registry import ModelEntry
disk, source, sha = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
entry = ModelEntry(name="m", file="m.gguf", sha256=sha, size=source.stat().st_size,
                   licence="x", context_length=512, chat_format="gguf", role="chat",
                   description="", source=(), origin="test")
try:
    copy_verified(source, disk / "models" / "m.gguf", entry)
except UsageError as exc:
    print(exc.message); print(exc.fix)
    print(sorted(p.name for p in (disk / "models").iterdir())); sys.exit(3)
"""
    done = on_small_disk(tmp_path, "8m", code, str(source), hashlib.sha256(data).hexdigest())
    assert done.returncode == 3, done.stderr
    assert "the disk filled up while copying m.gguf" in done.stdout
    assert "run the same command again" in done.stdout
    assert done.stdout.strip().endswith("[]")  # no .part file, no truncated model


def test_versions_order_as_releases_do() -> None:
    ordered = ["0.9", "1.0.dev1", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0.post1", "1.0.1",
               "1.2", "1.10"]
    for older, newer in itertools.pairwise(ordered):
        assert compare(older, newer) == -1, (older, newer)
        assert compare(newer, older) == 1
    assert compare("1.0", "1.0.0") == 0
