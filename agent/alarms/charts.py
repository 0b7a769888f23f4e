"""PNG charts of the alarm report (``--out DIR``). matplotlib is the optional ``report``
extra: it is imported here, only when charts are asked for, and its absence is a clear
error naming the install command."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from agent.alarms.metrics import INTERVAL, Episode, Rules
from agent.alarms.report_models import AlarmReport
from agent.errors import UsageError


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("the charts need matplotlib, which is not installed",
                         fix="pip install 'plantagent[report]' (or leave out --out for "
                         "the report without charts)") from None
    return plt


def write_charts(report: AlarmReport, activations: list[Episode], rules: Rules,
                 out: Path) -> list[Path]:
    """Alarm rate per 10 minutes over the window, the top bad actors and the priority
    split, as PNG files in ``out``; returns their paths."""
    plt = _pyplot()
    out.mkdir(parents=True, exist_ok=True)
    written = []

    starts = []
    t = report.since
    while t < report.until:
        starts.append(t)
        t += INTERVAL
    counts = [sum(1 for a in activations if s <= a.start < s + INTERVAL) for s in starts]
    fig, ax = plt.subplots(figsize=(10, 3.5))
    ax.bar(starts, counts, width=INTERVAL / timedelta(days=1), align="edge", color="#4c72b0")
    ax.axhline(rules.acceptable_rate, color="green", linestyle="--",
               label=f"~{rules.acceptable_rate:g} very likely acceptable")
    ax.axhline(rules.manageable_rate, color="orange", linestyle="--",
               label=f"{rules.manageable_rate:g} maximum manageable")
    ax.axhline(rules.flood_count, color="red", linestyle=":", label="flood")
    for gap in report.gaps:
        ax.axvspan(gap.start, gap.end, color="grey", alpha=0.3)
    ax.set_ylabel("alarms per 10 min")
    ax.set_title("Alarm rate (grey: no history)")
    ax.legend(loc="upper right", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    written.append(out / "alarm_rate.png")
    fig.savefig(written[-1], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4))
    names = [b.condition for b in report.bad_actors][::-1]
    ax.barh(names, [b.activations for b in report.bad_actors][::-1], color="#c44e52")
    ax.set_xlabel("activations")
    ax.set_title(f"Top bad actors ({(report.top_share or 0) * 100:.0f}% of all alarms)")
    fig.tight_layout()
    written.append(out / "bad_actors.png")
    fig.savefig(written[-1], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.bar(list(report.priority_split), list(report.priority_split.values()), color="#55a868")
    ax.set_ylabel("activations")
    ax.set_title("Activations by priority")
    fig.tight_layout()
    written.append(out / "priority_split.png")
    fig.savefig(written[-1], dpi=100)
    plt.close(fig)
    return written
