"""Measuring a model's speed on this machine (the probe in a child process) and keeping
the figures per model file and machine in the site (``$PLANTAGENT_HOME/model-speed.json``;
plain JSON: speeds and sizes, no plant data)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.errors import ConfigError, ModelError
from agent.vault.egress import permitting

SPEED_FILE_NAME = "model-speed.json"
#: The probe's sizes: a prompt like one step's new tokens, a short generation.
PROBE_PROMPT_TOKENS = 256
PROBE_GEN_TOKENS = 24
PROBE_N_CTX = 1024
#: A 1.5B model on one busy core takes about half a minute per thread count.
PROBE_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class SpeedFigures:
    """One measurement of one model file at one thread count."""

    threads: int
    prompt_tps: float
    gen_tps: float
    load_s: float
    #: Peak resident memory the model added in the probe (weights, KV at n_ctx, buffers).
    memory_bytes: int
    n_ctx: int
    load_1min: float
    measured_at: str

    def seconds_for(self, prompt_tokens: float, gen_tokens: float) -> float:
        """Model time to evaluate ``prompt_tokens`` and generate ``gen_tokens``."""
        return prompt_tokens / self.prompt_tps + gen_tokens / self.gen_tps


class _Stored(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    machine_id: str
    threads: int = Field(ge=1)
    prompt_tps: float = Field(gt=0)
    gen_tps: float = Field(gt=0)
    load_s: float = Field(ge=0)
    memory_bytes: int = Field(ge=0)
    n_ctx: int = Field(ge=1)
    load_1min: float = Field(ge=0)
    measured_at: str


class _SpeedFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    measurements: list[_Stored] = Field(default_factory=list)


class SpeedCache:
    """The site's measured speeds, per (model file sha256, machine id, threads)."""

    def __init__(self, home: Path) -> None:
        self.path = home / SPEED_FILE_NAME

    def _read(self) -> _SpeedFile:
        if not self.path.is_file():
            return _SpeedFile()
        try:
            return _SpeedFile.model_validate_json(self.path.read_text(encoding="utf-8"))
        except (ValidationError, OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"the speed figures in {self.path} are unreadable ({exc})",
                fix=f"delete {self.path} and run `plantagent models recommend --measure`",
            ) from None

    def get(self, sha256: str, machine_id: str) -> list[SpeedFigures]:
        """The figures of one model file on one machine, by thread count."""
        rows = [m for m in self._read().measurements
                if m.sha256 == sha256 and m.machine_id == machine_id]  # fmt: skip
        return sorted((_figures(m) for m in rows), key=lambda f: f.threads)

    def put(self, model: str, sha256: str, machine_id: str, figures: list[SpeedFigures]) -> None:
        """Replace the figures of (model file, machine) at the thread counts given."""
        data = self._read()
        counts = {f.threads for f in figures}
        kept = [m for m in data.measurements
                if not (m.sha256 == sha256 and m.machine_id == machine_id
                        and m.threads in counts)]  # fmt: skip
        kept += [_Stored(model=model, sha256=sha256, machine_id=machine_id, **asdict(f))
                 for f in figures]  # fmt: skip
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = _SpeedFile(measurements=kept).model_dump_json(indent=2)
        fd, tmp = tempfile.mkstemp(prefix=".model-speed-", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, self.path)


def _figures(m: _Stored) -> SpeedFigures:
    return SpeedFigures(threads=m.threads, prompt_tps=m.prompt_tps, gen_tps=m.gen_tps,
                        load_s=m.load_s, memory_bytes=m.memory_bytes, n_ctx=m.n_ctx,
                        load_1min=m.load_1min, measured_at=m.measured_at)  # fmt: skip


def measure_speed(name: str, path: Path, threads: list[int], *,
                  timeout_s: float = PROBE_TIMEOUT_S) -> list[SpeedFigures]:  # fmt: skip
    """Measure the VERIFIED file ``path`` at each thread count in a child process."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise ModelError("llama-cpp-python is not installed, so no model can be measured",
                         fix="install the llm extra: pip install 'plantagent[llm]'")  # fmt: skip
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    cmd = [sys.executable, "-m", "agent.recommend.probe", str(path),
           "--threads", ",".join(str(t) for t in threads),
           "--prompt-tokens", str(PROBE_PROMPT_TOKENS), "--gen-tokens", str(PROBE_GEN_TOKENS),
           "--n-ctx", str(PROBE_N_CTX)]  # fmt: skip
    fix = (f"check free memory and run `plantagent models verify {name}`; the model can "
           "still be chosen by hand in [model] name")
    try:
        # A child on purpose (a model load's memory is given back when it exits); the
        # egress guard lets only this interpreter start, with no secret in its environment.
        with permitting(sys.executable):
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise ModelError(f"measuring {name} took longer than {timeout_s:.0f} s",
                         fix=fix) from None  # fmt: skip
    if done.returncode != 0:
        tail = " / ".join((done.stderr or "").strip().splitlines()[-3:]) or (
            f"exit code {done.returncode}")
        raise ModelError(f"measuring the speed of {name} failed: {tail}", fix=fix)
    try:
        rows = json.loads(done.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        raise ModelError(f"the speed probe of {name} printed no figures", fix=fix) from None
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return [SpeedFigures(threads=int(r["threads"]), prompt_tps=float(r["prompt_tps"]),
                         gen_tps=float(r["gen_tps"]), load_s=float(r["load_s"]),
                         memory_bytes=int(r["memory_bytes"]), n_ctx=int(r["n_ctx"]),
                         load_1min=round(load, 2), measured_at=now)
            for r in rows]  # fmt: skip
