"""A proposal as the approver reads it: what would change, why, the evidence, the what-if."""

from __future__ import annotations

from agent.approvals.models import ApprovalRequest
from agent.service.review_models import ProposalDetail, WhatIfView
from agent.site_time import SiteTime
from terminal_ui.payload_view import as_record
from terminal_ui.payload_view import table as payload_table


def _unit(request: ApprovalRequest) -> str:
    return f" {request.target.unit}" if request.target.unit else ""


def request_row(request: ApprovalRequest,
                site: SiteTime) -> tuple[str, str, str, str, str]:
    """Id, change, state, expiry (the site's time) and requester of one request."""
    return (request.id, f"{request.target.tag} → {request.value:g}{_unit(request)}",
            request.state, site.show(request.expires_at, seconds=False),
            request.requested_by)


def change_line(request: ApprovalRequest) -> str:
    """'set HX-101.OutletTemperatureSetpoint to 33 °C' for dialogs."""
    return f"set {request.target.tag} to {request.value:g}{_unit(request)}"


def _what_if(view: WhatIfView | None) -> list[str]:
    out = ["## What-if", ""]
    if view is None:
        return [*out, "not evaluated"]
    if view.result is None:
        change = f" ({view.change})" if view.change else ""
        return [*out, f"No prediction{change}: {view.problem}"]
    r = view.result
    out += [f"{r.equipment} ({r.eq_class}), `{r.change}` over {r.hours:g} h:", ""]
    out += ["| tag | now | end with change | end without |", "|---|---|---|---|"]
    for p in r.predictions:
        unit = f" {p.unit}" if p.unit else ""
        out.append(f"| {p.tag} | {p.now:.4g}{unit} | {p.end:.4g}{unit} | "
                   f"{p.baseline_end:.4g}{unit} |")
    out.append("")
    if r.crossings:
        out += [f"- {c.tag} {c.kind} its {c.side} limit {c.limit:g} after "
                f"{c.after_minutes:.0f} min" for c in r.crossings]
    else:
        out.append("- no limit crossed with the change")
    out += [f"- _{a}_" for a in r.assumptions]
    return out


def detail_markdown(detail: ProposalDetail, site: SiteTime) -> str:
    """The whole proposal as Markdown, times in the site's zone."""
    r = detail.request
    target = r.target
    limits = ""
    if target.eu_low is not None and target.eu_high is not None:
        limits = f" (normal range {target.eu_low:g} to {target.eu_high:g}{_unit(r)})"
    out = [
        f"# {r.id}: {change_line(r)}",
        "",
        f"- **state** {r.state}; rule *{r.rule}*{limits}",
        f"- **asked by** {r.requested_by} ({r.requested_role}) at "
        f"{site.stamp(r.created_at)}; expires {site.show(r.expires_at, seconds=False)}",
        f"- **approvers** {' or '.join(r.approver_roles)}"
        + ("; two-person rule" if r.two_person_rule else ""),
        f"- **reason** {r.reason}",
    ]
    if r.decided_by:
        out.append(f"- **decided by** {r.decided_by} ({r.decided_role})"
                   + (f": {r.decision_note}" if r.decision_note else ""))
    out += [f"- **signed** {line}" for line in detail.signatures]
    out += ["", "## Evidence", ""]
    if detail.question:
        out += [f"Question: *{detail.question}*", ""]
    if not detail.evidence:
        out.append("No tool results recorded for this proposal.")
    for item in detail.evidence:
        mark = "cited" if item.cited else "read"
        record = as_record(item.text)
        if record is None:
            out.append(f"- **{item.evidence_id}** {item.tool} ({mark}, audit #{item.seq}): "
                       f"{item.text}")
        else:
            out += [f"- **{item.evidence_id}** {item.tool} ({mark}, audit #{item.seq}):", "",
                    payload_table(record), ""]
    out.append("")
    out += _what_if(detail.what_if)
    return "\n".join(out) + "\n"
