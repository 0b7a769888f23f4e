"""What a benchmark returns: its figures, the ratios measured side by side, and how."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Figure:
    """One measured value (e.g. 25.3 tokens/s)."""

    label: str
    value: float
    unit: str


@dataclass(frozen=True)
class Ratio:
    """Two figures of the same run divided: ``label`` says which by which."""

    label: str
    value: float
    note: str = ""


@dataclass
class BenchResult:
    """One benchmark's outcome."""

    name: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: The machine's 1-minute load average when the benchmark started and ended: other
    #: jobs on the cores move absolute figures (ratios measured side by side much less).
    load_start: float = 0.0
    load_end: float = 0.0
    #: Set instead of figures when the benchmark could not run (e.g. no model file).
    error: str | None = None

    def add(self, label: str, value: float, unit: str) -> None:
        """Record a figure."""
        self.figures.append(Figure(label, value, unit))

    def ratio(self, label: str, a: float, b: float, note: str = "") -> None:
        """Record ``a / b`` (0 when ``b`` is 0)."""
        self.ratios.append(Ratio(label, a / b if b else 0.0, note))

    def lines(self) -> list[str]:
        """The result as plain text lines (what the scripts print)."""
        out = [f"{self.title}"]
        if self.load_start or self.load_end:
            out.append(f"  (load {self.load_start:.2f} at start, {self.load_end:.2f} at end)")
        if self.error:
            return [*out, f"  not run: {self.error}"]
        width = max((len(f.label) for f in self.figures), default=0)
        out += [f"  {f.label:<{width}}  {_fmt(f.value)} {f.unit}" for f in self.figures]
        if self.ratios:
            width = max(len(r.label) for r in self.ratios)
            out += [f"  ratio {r.label:<{width}}  {r.value:8.2f}x  {r.note}".rstrip()
                    for r in self.ratios]
        out += [f"  note: {n}" for n in self.notes]
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:12,.0f}"
    return f"{value:12.3f}" if abs(value) < 10 else f"{value:12.1f}"
