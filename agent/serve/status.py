"""What `plantagent status` shows of a running site service."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.serve.queue import QueueView


class ServiceInfo(BaseModel):
    """The process."""

    pid: int
    uptime_s: float
    socket: str
    site: str
    people: int = Field(description="Enrolled, enabled people.")
    clients: int = Field(description="Connections open now.")


class Guards(BaseModel):
    """What keeps the site safe while it serves."""

    egress: str = Field(description="'on-site only' (+ networks) or 'OFF'.")
    site_unlocked: bool
    model: str
    backend: str
    tokens_per_s: float | None = None


class SiteServiceStatus(BaseModel):
    """The service, its queue, its connections and its guards."""

    service: ServiceInfo
    queue: QueueView
    opcua_endpoint: str
    opcua: str = Field(description="'connected', or not (it reconnects on the next request).")
    triage: str = Field(description="The triage watcher: running (last word) or off.")
    guards: Guards


def render_status(status: SiteServiceStatus) -> str:
    """The status as a person reads it."""
    s, g = status.service, status.guards
    lines = [
        f"service   pid {s.pid}, up {s.uptime_s:.0f} s, {s.people} people enrolled, "
        f"{s.clients} connected",
        f"          site {s.site}; socket {s.socket}",
        f"queue     {len(status.queue.running)} running, {len(status.queue.waiting)} waiting",
    ]
    for job in status.queue.running:
        lines.append(f"          running  {job.kind} of {job.person} ({job.seconds:.0f} s)")
    for job in status.queue.waiting:
        lines.append(f"          #{job.position:<7} {job.kind} of {job.person} "
                     f"(waiting {job.seconds:.0f} s)")
    lines += [
        f"opc ua    {status.opcua} ({status.opcua_endpoint})",
        f"triage    {status.triage}",
        f"guards    egress {g.egress}; site {'unlocked' if g.site_unlocked else 'LOCKED'}; "
        f"model {g.model} ({g.backend})"
        + (f", {g.tokens_per_s:.1f} tok/s" if g.tokens_per_s else ""),
    ]
    return "\n".join(lines)
