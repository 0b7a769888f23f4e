"""Which Python and platform a bundle is for, and whether this machine is one.

Wheels with compiled code (numpy, apsw, cryptography, llama-cpp-python) load only on the
Python and platform they were built for, and a wheel built on the build machine (such as
llama-cpp-python's) needs at least its C library. A mismatch is refused before anything
is installed, naming both sides. CPU features are only warned about: llama.cpp built for
the build machine's CPU may stop with an illegal instruction on an older one, which the
smoke test then shows.
"""

from __future__ import annotations

import platform
import sys
import sysconfig
from pathlib import Path
from typing import Any

from .errors import InstallError

#: CPU features whose absence can break a llama.cpp built natively on the build machine.
CPU_FLAGS = ("avx", "avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512bw", "avx512vl",
             "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The CPU features of :data:`CPU_FLAGS` this machine has (empty when unknown)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        if line.startswith("flags"):
            have = set(line.partition(":")[2].split())
            return [flag for flag in CPU_FLAGS if flag in have]
    return []


def glibc_version() -> str | None:
    """This machine's glibc version ("2.41"), or None on another C library."""
    lib, version = platform.libc_ver()
    return version if lib == "glibc" and version else None


def this_machine() -> dict[str, Any]:
    """The target description of the running interpreter and machine."""
    return {
        "implementation": sys.implementation.name,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "platform": sysconfig.get_platform(),
        "glibc": glibc_version(),
        "cpu_flags": cpu_flags(),
    }


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def describe(target: dict[str, Any]) -> str:
    """``CPython 3.11 on linux-x86_64`` for a target or machine description."""
    impl = {"cpython": "CPython", "pypy": "PyPy"}.get(str(target.get("implementation")),
                                                      str(target.get("implementation")))
    return f"{impl} {target.get('python')} on {target.get('platform')}"


def check_target(target: dict[str, Any], machine: dict[str, Any]) -> list[str]:
    """Refuse (InstallError) when ``machine`` cannot run a bundle for ``target``; return
    warnings (missing CPU features)."""
    keys = ("implementation", "python", "platform")
    if any(target.get(k) != machine.get(k) for k in keys):
        raise InstallError(
            f"this bundle is for {describe(target)}, but this machine runs "
            f"{describe(machine)}",
            fix=f"run the installer with a Python {target.get('python')} interpreter "
            f"(install.sh --python python{target.get('python')}), or build a bundle for "
            "this machine with `plantagent bundle build` on a connected machine with the "
            "same Python and platform; nothing was installed",
        )
    needed = target.get("glibc_min")
    have = machine.get("glibc")
    if needed and (not have or _version_tuple(str(have)) < _version_tuple(str(needed))):
        raise InstallError(
            f"this bundle needs glibc {needed} or newer, but this machine has "
            f"{have or 'no glibc'}",
            fix="build the bundle on a machine with this machine's glibc (or an older one); "
            "nothing was installed",
        )
    missing = [f for f in target.get("cpu_flags", []) if f not in machine.get("cpu_flags", [])]
    if missing and machine.get("cpu_flags"):
        return [
            f"this CPU lacks features the build machine had ({', '.join(missing)}): if "
            "llama-cpp-python was built for that CPU (its default), loading the model may "
            "fail here; the smoke test will show it. Portable builds: "
            "CMAKE_ARGS=-DGGML_NATIVE=OFF when building llama-cpp-python"
        ]
    return []
