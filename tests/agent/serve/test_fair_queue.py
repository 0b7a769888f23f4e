"""The fair queue in front of the model: triage jumps ahead of waiting questions, people
take turns, a cancelled waiter leaves the line and everyone behind hears their place."""

from __future__ import annotations

import asyncio

import pytest

from agent.serve.queue import TRIAGE, FairQueue

from .serve_helpers import until

pytestmark = pytest.mark.asyncio


async def test_triage_first_then_people_take_turns() -> None:
    queue = FairQueue()
    ran: list[str] = []
    places: dict[str, list[int]] = {}
    release = asyncio.Event()

    async def job(person: str, label: str, *, priority: int = 1, hold: bool = False) -> None:
        async with queue.turn(person, priority=priority, label=label,
                              kind="triage" if priority == TRIAGE else "question",
                              on_position=places.setdefault(label, []).append):
            ran.append(label)
            if hold:
                await release.wait()

    first = asyncio.create_task(job("ana", "ana-1", hold=True))
    await until(lambda: ran == ["ana-1"], "ana's first question runs")
    tasks = [asyncio.create_task(job("ana", "ana-2")),
             asyncio.create_task(job("ana", "ana-3")),
             asyncio.create_task(job("ben", "ben-1"))]
    await until(lambda: len(queue.view().waiting) == 3, "three wait")
    # Ana asked twice before Ben once; Ben still goes before her second question.
    assert [j.label for j in queue.view().waiting] == ["ben-1", "ana-2", "ana-3"]
    alarm = asyncio.create_task(job("triage", "alarm", priority=TRIAGE))
    await until(lambda: len(queue.view().waiting) == 4, "the alarm waits")
    view = queue.view()
    assert [(j.label, j.position) for j in view.waiting] == [
        ("alarm", 1), ("ben-1", 2), ("ana-2", 3), ("ana-3", 4)]
    assert [j.label for j in view.running] == ["ana-1"]
    assert places["ben-1"] == [1, 2] and places["alarm"] == [1]
    tasks[0].cancel()  # ana gives up on her second question: ana-3 moves up
    await until(lambda: len(queue.view().waiting) == 3, "ana-2 leaves the line")
    assert places["ana-3"][-1] == 3
    release.set()
    await asyncio.gather(first, alarm, tasks[1], tasks[2])
    assert ran == ["ana-1", "alarm", "ben-1", "ana-3"]
    assert queue.view().running == [] and queue.view().waiting == []
