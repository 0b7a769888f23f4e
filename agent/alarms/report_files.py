"""The alarm performance report of one window, and its files (report.md, report.json,
the PNG charts).

One computation for both faces: `plantagent alarms report` in its own process, and the
site service, which sends :class:`ReportData` as JSON (:func:`data_to_json`,
:func:`data_from_json`) so the client writes byte-for-byte the files the in-process
command writes for the same journal and window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from agent.alarms.gather import gather_inputs
from agent.alarms.metrics import Episode, Rules
from agent.alarms.report import analyse, build_report
from agent.alarms.report_models import AlarmReport
from agent.alarms.report_text import markdown
from agent.alarms.store import AlarmStore
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection

_EPISODES: TypeAdapter[list[Episode]] = TypeAdapter(list[Episode])
_RULES: TypeAdapter[Rules] = TypeAdapter(Rules)


@dataclass
class ReportData:
    """What the report's files are made of: the report, the activations (the rate
    chart) and the rules (the chart's thresholds)."""

    report: AlarmReport
    activations: list[Episode]
    rules: Rules


async def report_data(conn: OpcUaConnection | None, catalog: Catalog | None,
                      store: AlarmStore | None, rules: Rules, *, since: datetime,
                      until: datetime) -> ReportData:
    """The report of [since, until], read and generated at ``until``."""
    inputs = await gather_inputs(conn, catalog, store, since=since, until=until, now=until)
    report = build_report(inputs, since=since, until=until, rules=rules, generated=until)
    return ReportData(report, analyse(inputs, since, until).activations, rules)


def write_report_files(data: ReportData, out: Path) -> list[Path]:
    """report.md, report.json and the PNG charts in ``out`` (made if missing); returns
    the charts' paths."""
    from agent.alarms.charts import write_charts

    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(markdown(data.report), encoding="utf-8")
    (out / "report.json").write_text(data.report.model_dump_json(indent=2), encoding="utf-8")
    return write_charts(data.report, data.activations, data.rules, out)


def data_to_json(data: ReportData) -> dict[str, Any]:
    """``data`` as JSON (the site service's ``alarms_report`` message)."""
    return {"report": data.report.model_dump(mode="json"),
            "activations": _EPISODES.dump_python(data.activations, mode="json"),
            "rules": _RULES.dump_python(data.rules, mode="json")}


def data_from_json(value: dict[str, Any]) -> ReportData:
    """:func:`data_to_json` read back."""
    return ReportData(AlarmReport.model_validate(value["report"]),
                      _EPISODES.validate_python(value["activations"]),
                      _RULES.validate_python(value["rules"]))
