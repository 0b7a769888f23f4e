"""The table per plant, as Markdown and JSON (plants.md, plants.json)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.evals.plants.check import QuestionResult
from harness.evals.plants.triage import TriageResult


@dataclass
class PlantResult:
    """What one plant scored."""

    plant: str
    title: str
    questions: list[QuestionResult] = field(default_factory=list)
    faults: list[TriageResult] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def right(self) -> int:
        """Questions answered right."""
        return sum(q.right for q in self.questions)

    @property
    def grounded(self) -> int:
        """Answers the product marked grounded."""
        return sum(q.grounded for q in self.questions)

    @property
    def ranked_first(self) -> int:
        """Faults whose cause triage ranked first on the right equipment."""
        return sum(f.ranked_first for f in self.faults)

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """(right, total) per kind of question."""
        kinds: dict[str, tuple[int, int]] = {}
        for q in self.questions:
            right, total = kinds.get(q.kind, (0, 0))
            kinds[q.kind] = (right + q.right, total + 1)
        return dict(sorted(kinds.items()))

    def summary(self) -> dict[str, object]:
        """Counts: questions right and grounded, right by kind, faults ranked first."""
        return {
            "plant": self.plant,
            "questions": len(self.questions),
            "right": self.right,
            "grounded": self.grounded,
            "by_kind": {k: {"right": r, "total": t} for k, (r, t) in self.by_kind().items()},
            "faults": len(self.faults),
            "ranked_first": self.ranked_first,
            "equipment_named": sum(f.equipment_named for f in self.faults),
            "seconds": round(self.seconds, 1),
            "error": self.error,
        }


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole}" + (f" ({100 * part / whole:.0f} %)" if whole else "")


def markdown(results: list[PlantResult], header: str) -> str:
    """Every plant's table, with an overview first."""
    lines = ["# Evaluation on the test plants", "", header, "",
             "| plant | questions right | grounded | faults ranked first | time |",
             "|---|---|---|---|---|"]
    for r in results:
        n = len(r.questions)
        lines.append(f"| {r.plant} | {_pct(r.right, n)} | {_pct(r.grounded, n)} | "
                     f"{_pct(r.ranked_first, len(r.faults))} | {r.seconds:.0f} s |")
    for r in results:
        lines += ["", f"## {r.plant}: {r.title}", ""]
        if r.error:
            lines += [f"Stopped: {r.error}", ""]
        lines += ["| kind | right |", "|---|---|"]
        lines += [f"| {k} | {_pct(right, total)} |" for k, (right, total) in r.by_kind().items()]
        lines += ["", "| question | right | grounded | outcome | problems |",
                  "|---|---|---|---|---|"]
        for q in r.questions:
            problems = "; ".join(q.problems).replace("|", "/") or "-"
            lines.append(f"| {q.id} | {'yes' if q.right else 'no'} | "
                         f"{'yes' if q.grounded else 'no'} | {q.outcome} | {problems} |")
        if r.faults:
            lines += ["", "| fault | on | seed | ranked first | top cause (equipment) | wall s |",
                      "|---|---|---|---|---|---|"]
            for f in r.faults:
                where = f" ({f.top_equipment})" if f.top_equipment else ""
                top = (f"{f.top_cause}{where}" if f.top_cause else
                       f"{f.reports} report(s), no cause ranked" if f.reports else "no report")
                lines.append(f"| {f.fault} | {f.target} | {f.seed} | "
                             f"{'yes' if f.ranked_first else 'no'}"
                             f" | {top} | {f.wall_s_to_report or '-'} |")
    return "\n".join(lines) + "\n"


def write(results: list[PlantResult], out: Path, header: str) -> tuple[Path, Path]:
    """plants.md and plants.json in ``out`` (answers' text only in the JSON)."""
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / "plants.md", out / "plants.json"
    md.write_text(markdown(results, header), encoding="utf-8")
    data = {"header": header, "plants": [
        {**r.summary(), "title": r.title, "details": [asdict(q) for q in r.questions],
         "triage": [asdict(f) for f in r.faults]} for r in results]}
    js.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return md, js
