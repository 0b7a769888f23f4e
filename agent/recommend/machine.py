"""What this machine offers a model: memory (total and free now), cores, and an identity
that changes when the hardware or the inference library does (speed figures measured on
one machine mean nothing on another)."""

from __future__ import annotations

import hashlib
import os
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


@dataclass(frozen=True)
class MachineFacts:
    """Memory in bytes; cores this process may run on; the 1-minute load average."""

    cpu: str
    cores: int
    memory_total: int
    memory_available: int
    load_1min: float
    llama_cpp: str

    @property
    def machine_id(self) -> str:
        """Short hash of what speed depends on: CPU, cores, memory, llama-cpp-python."""
        text = f"{self.cpu}|{self.cores}|{self.memory_total // 2**20}|{self.llama_cpp}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _meminfo(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            key, _, rest = line.partition(":")
            fields = rest.split()
            if fields and fields[0].isdigit():
                out[key] = int(fields[0]) * 1024  # the kernel writes kB (KiB)
    except OSError:
        pass
    return out


def _cpu_model(path: Path) -> str:
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # a cgroup or taskset may allow fewer
    except AttributeError:
        return os.cpu_count() or 1


def _llama_cpp_version() -> str:
    try:
        return metadata.version("llama_cpp_python")
    except metadata.PackageNotFoundError:
        return "not installed"


def read_machine(proc: Path = Path("/proc")) -> MachineFacts:
    """This machine, read from /proc (memory) and the scheduler (cores)."""
    mem = _meminfo(proc / "meminfo")
    total = mem.get("MemTotal", 0)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return MachineFacts(
        cpu=_cpu_model(proc / "cpuinfo"),
        cores=_cores(),
        memory_total=total,
        memory_available=mem.get("MemAvailable", mem.get("MemFree", total)),
        load_1min=round(load, 2),
        llama_cpp=_llama_cpp_version(),
    )
