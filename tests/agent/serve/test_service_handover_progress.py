"""A handover written through the site service shows its progress as a question does: its
place in line while another job holds the model, then its steps (gathering the facts,
the model writing, checking the lines); a cancel drops it, waiting or being written, and
the cancellation is audited as a question's is (and is no handover to acknowledge). Real
service over a real Unix socket, real encrypted site, scripted held model, the demo
plant."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agent.cli import main
from agent.errors import UsageError
from agent.handover.ack import CANCELLED_EVENT, find_handover
from agent.llm.base import ChatMessage, JsonSchema, StepResult, TokenCallback
from agent.people.identity import os_account
from agent.pipeline.events import AgentEvent
from agent.serve.client import ServiceClient
from agent.serve.site_socket import socket_path
from plant.server import DemoPlantServer
from tests.support.runtimes import scripted_runtime

from .serve_helpers import ANSWER, QUESTION, HeldModel, enroll, final, running_service, until

pytestmark = pytest.mark.asyncio(loop_scope="module")

#: The handovers cover the last hour, which holds this test's own records whatever the
#: time of day: without it, within the grace hour after a shift change the handover is
#: the shift that just ended, holds none of them, and no model is asked.
WINDOW_S = 3600.0


class CountedModel(HeldModel):
    """A held model that counts the steps that ended (returned or raised)."""

    def __init__(self, steps: Sequence[dict[str, Any]]) -> None:
        super().__init__(steps)
        self.ended = 0

    def step(self, prefix: Sequence[ChatMessage], history: Sequence[ChatMessage],
             schema: JsonSchema, *, on_token: TokenCallback | None = None,
             max_tokens: int = 512) -> StepResult:
        """The held step, counted when it ends."""
        try:
            return super().step(prefix, history, schema, on_token=on_token,
                                max_tokens=max_tokens)
        finally:
            self.ended += 1


async def test_a_handover_through_the_service_shows_its_place_and_steps_and_cancels(
    live_plant: DemoPlantServer, site_home: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str]
) -> None:
    model = CountedModel([final()])
    async with scripted_runtime(site_home, live_plant.endpoint, model) as runtime:
        enroll(runtime, tmp_path, {"Rita Lead": os_account()})
        audit = runtime.audit

        def cancelled() -> list[dict[str, Any]]:
            return [{**r.payload, "actor": r.actor} for r in audit.search(kind="handover")
                    if r.payload.get("event") == CANCELLED_EVENT]

        try:
            async with running_service(runtime) as server, \
                    ServiceClient(socket_path(site_home)) as client:
                # A question holds the model; the handover waits in line behind it.
                model.hold.set()
                asking = asyncio.create_task(client.ask(QUESTION, lambda e: None))
                await until(lambda: model.entered == 1, "the question holds the model")
                heard: list[AgentEvent] = []
                writing = asyncio.create_task(client.handover(
                    "write", use_model=True, since_s=WINDOW_S, on_event=heard.append))
                await until(lambda: any("next in line" in e.text for e in heard),
                            "the handover's place in line")
                assert [j.kind for j in server.queue.view().waiting] == ["handover"]
                writing.cancel()  # Escape / Ctrl-C while it waits
                with pytest.raises(asyncio.CancelledError):
                    await writing
                await until(lambda: len(cancelled()) == 1, "the cancel is audited")
                await until(lambda: not server.queue.view().waiting, "out of line")
                model.hold.clear()
                assert (await asking).answer == ANSWER

                # Being written (the model holds its step): the steps come, a cancel drops it.
                model.hold.set()
                heard.clear()
                writing = asyncio.create_task(client.handover(
                    "write", use_model=True, since_s=WINDOW_S, on_event=heard.append))
                await until(lambda: model.entered == 2 and any(
                    e.text.startswith("the model is writing from") for e in heard),
                    "the handover's model step, and its step heard here")
                assert "reading the audit log" in [e.text for e in heard]
                writing.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await writing
                await until(lambda: len(cancelled()) == 2, "the second cancel is audited")
                # Its model step stops at its next token (the model is still held by
                # the test): the model is free for the next job, as after a question.
                await until(lambda: model.ended == 2, "the cancelled step stopped")
                model.hold.clear()
                assert [(c["actor"], c["note"]) for c in cancelled()] == [
                    ("Rita Lead", "cancelled while waiting for the model"),
                    ("Rita Lead", "cancelled while being written")]
                # A cancelled handover is none to acknowledge.
                with pytest.raises(UsageError, match="holds no handover"):
                    find_handover(audit)

                # The CLI shows the steps on stderr as `ask` does (the scripted model has no
                # step left: the template writes the lines, and the lines are checked).
                code = await asyncio.to_thread(
                    main, ["--home", str(site_home), "handover", "--since", "1h"])
                out, err = capsys.readouterr()
                assert code == 0 and "H1" in out, err  # the handover, cited, on stdout
                assert "  ... reading the audit log" in err
                assert "  ... the model is writing from" in err
                assert "  ... checking the lines against the facts" in err
        finally:  # a held model step would keep its thread (and the test) alive
            model.hold.clear()
        assert find_handover(audit).actor == "Rita Lead"
        assert audit.verify().ok
