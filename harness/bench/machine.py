"""What the figures were measured on: CPU, cores, memory, Python, llama-cpp-python and
the model file. Read from /proc and package metadata; nothing is measured here."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe_machine(model: str = "", model_sha256: str = "") -> dict[str, str]:
    """The machine and software the run used, as strings for reports."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    out = {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count() or 0),
        "memory": _memory_gib(),
        "load_1min_start": f"{load:.2f}",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "llama_cpp_python": _version("llama_cpp_python"),
        "plantagent": _version("plantagent"),
    }
    if model:
        out["model"] = model
    if model_sha256:
        out["model_sha256"] = model_sha256
    return out
