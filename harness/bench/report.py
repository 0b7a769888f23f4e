"""`plantagent bench` output: JSON, Markdown and a PNG bar chart of every ratio."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.bench.result import BenchResult


def as_json(results: list[BenchResult], machine: dict[str, str], *, quick: bool,
            seconds: float) -> dict[str, Any]:
    """The whole run as one JSON-ready dict."""
    return {"machine": machine, "quick": quick, "seconds": round(seconds, 1),
            "benchmarks": [r.as_dict() for r in results]}


def markdown(results: list[BenchResult], machine: dict[str, str], *, quick: bool,
             seconds: float) -> str:
    """Ratios first (the figures that travel between machines), then every figure."""
    lines = [f"# plantagent bench ({'quick' if quick else 'full'} run, {seconds:.0f} s)", "",
             "Machine: " + "; ".join(f"{k} {v}" for k, v in machine.items()) + ".", "",
             "| benchmark | ratio (measured side by side) | value | note |", "|---|---|---|---|"]
    for r in results:
        if r.error:
            lines.append(f"| {r.name} | not run | | {r.error} |")
        lines += [f"| {r.name} | {x.label} | {x.value:.2f}x | {x.note} |" for x in r.ratios]
    for r in results:
        lines += ["", f"## {r.title}", "", f"({r.seconds:.0f} s)", ""]
        if r.error:
            lines.append(f"Not run: {r.error}")
            continue
        lines += ["| figure | value | unit |", "|---|---|---|"]
        lines += [f"| {f.label} | {f.value:,.3f} | {f.unit} |" for f in r.figures]
        lines += [f"- {n}" for n in r.notes]
    return "\n".join(lines) + "\n"


def write_chart(results: list[BenchResult], path: Path) -> Path | None:
    """A horizontal bar per ratio, log scale (1x marked); None when there is no ratio."""
    ratios = [(f"{r.name}: {x.label}", x.value) for r in results for x in r.ratios
              if x.value > 0]
    if not ratios:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 0.4 * len(ratios) + 1.2))
    # One colour: whether above 1x is good depends on the ratio (its label says which).
    bars = ax.barh([label for label, _ in ratios], [v for _, v in ratios], color="tab:blue")
    ax.bar_label(bars, labels=[f"{v:.2f}x" for _, v in ratios], fontsize=7, padding=2)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("ratio (log scale; 1x = the same)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_all(results: list[BenchResult], machine: dict[str, str], out: Path, *, quick: bool,
              seconds: float) -> list[Path]:
    """bench.json, bench.md and bench.png in ``out``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    js, md = out / "bench.json", out / "bench.md"
    js.write_text(json.dumps(as_json(results, machine, quick=quick, seconds=seconds), indent=2),
                  encoding="utf-8")
    md.write_text(markdown(results, machine, quick=quick, seconds=seconds), encoding="utf-8")
    chart = write_chart(results, out / "bench.png")
    return [js, md, *([chart] if chart else [])]
