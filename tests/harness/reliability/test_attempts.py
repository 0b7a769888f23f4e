"""Every reliability attempt (harness/reliability: what the red-team pass of issue 17
found) holds: detected or refused, nothing acknowledged lost, never a traceback.
`plantagent reliability` runs the same attempts and tabulates them."""

from __future__ import annotations

import pytest

from harness.reliability.model import Attempt
from harness.reliability.runner import ATTEMPTS, run_one, table


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=lambda a: f"{a.area}: {a.name}")
def test_the_attempt_holds(attempt: Attempt) -> None:
    result = run_one(attempt)
    if result.outcome.skipped:
        pytest.skip(result.outcome.skipped)
    assert result.outcome.held, result.outcome.detail


def test_every_area_of_the_issue_is_tried() -> None:
    areas = {a.area for a in ATTEMPTS}
    assert areas == {"roll-back and loss", "whole files", "egress", "secrets", "bad input"}
    assert len({(a.area, a.name) for a in ATTEMPTS}) == len(ATTEMPTS)
    assert table([])[0].startswith("| area | attempts | hold")
