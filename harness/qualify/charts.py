"""PNG charts of a qualification record (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

from agent.qualification.record import QualificationRecord
from harness.qualify.report import RATES


def write_charts(record: QualificationRecord, out: Path) -> list[Path]:
    """rates.png (each rate against its threshold) and speed.png; the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    written: list[Path] = []
    limits = {c.name: c.limit for c in record.criteria}
    rates = [(k, v) for k, v in record.metrics.items() if k in RATES]
    if rates:
        fig, ax = plt.subplots(figsize=(8, 0.5 * len(rates) + 1.5))
        names = [k for k, _ in rates]
        # Grey: information only (no threshold); green / red: met / missed.
        colours = ["tab:gray" if k not in limits else "tab:green" if v >= limits[k]
                   else "tab:red" for k, v in rates]
        ax.barh(names, [v * 100 for _, v in rates], color=colours)
        for i, name in enumerate(names):
            if name in limits:
                ax.plot([limits[name] * 100] * 2, [i - 0.4, i + 0.4], color="black")
            if name in record.deltas:  # where the last qualified model stood
                before = (record.metrics[name] - record.deltas[name]) * 100
                ax.plot([before], [i], marker="D", color="black", markerfacecolor="white")
        ax.set_xlim(0, 100)
        ax.invert_yaxis()
        ax.set_xlabel("% (line: the policy's threshold; diamond: the last qualified model)"
                      if record.deltas else "% (black line: the policy's threshold)")
        verdict = "qualified" if record.qualified else "NOT qualified"
        ax.set_title(f"{record.model}: {verdict}")
        fig.tight_layout()
        path = out / "rates.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    if record.speed:
        fig, axes = plt.subplots(1, 3, figsize=(9, 3))
        for ax, (key, label) in zip(axes, (("tokens_per_s", "tokens/s"),
                                           ("first_token_s", "first token, s"),
                                           ("question_s", "question, s")), strict=True):
            ax.bar([record.model[:18]], [record.speed.get(key, 0.0)], color="tab:blue")
            ax.set_title(label)
        fig.tight_layout()
        path = out / "speed.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written
