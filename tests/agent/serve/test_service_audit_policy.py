"""Who reviews the audit log is the site's policy (`[audit] reviewer_roles`), one rule in
process and through the site service: an operator's review note is refused both ways
(and their read of the log through the service); a site policy, signed by an
administrator, that names another role is honoured both ways. Real service over a real
Unix socket, real encrypted site, the real demo plant."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agent.cli import main
from agent.errors import ServiceError
from agent.people.identity import os_account
from agent.serve.client import ServiceClient
from agent.serve.site_socket import socket_path
from plant.server import DemoPlantServer
from tests.support.people import sign_site_policies
from tests.support.runtimes import scripted_runtime

from .serve_helpers import SITE_PASSPHRASE, HeldModel, passphrase_site, running_service
from .signing_helpers import own_signer

pytestmark = pytest.mark.asyncio(loop_scope="module")

SITE_POLICY = """
[audit]
reviewer_roles = ["auditor", "engineer"]
"""


async def test_reviewer_roles_are_the_sites_policy_in_process_and_through_the_service(
    live_plant: DemoPlantServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    async with passphrase_site(live_plant.endpoint, tmp_path, monkeypatch,
                               {"Eve Eng": (os_account(), ["shift_lead", "engineer"])}
                               ) as site:
        home, runtime, key = site.home, site.runtime, site.key_file
        path = socket_path(home)

        async def review(role: str, *more: str) -> tuple[int, str]:
            code = await asyncio.to_thread(main, [
                "--home", str(home), "audit", "review", *more, "--seq", "2", "--verdict",
                "reviewed", "--note", f"checked as {role}", "--role", role])
            return code, capsys.readouterr().err

        def notes() -> list[tuple[str, str | None]]:
            return [(r.actor, r.role) for r in runtime.audit.search(kind="review_note")]

        async with running_service(runtime):
            # The shipped policy: auditors only. A shift lead is refused through the
            # service (notes and reads) and in process, by the same rule and words.
            code, err = await review("shift_lead")
            assert code == 1 and "may not sign audit review notes" in err, err
            assert "reviewer roles are auditor" in err and "--role auditor" in err
            with pytest.MonkeyPatch.context() as local:  # the site passphrase, here only
                local.setenv("PLANTAGENT_PASSPHRASE", SITE_PASSPHRASE)
                code, err = await review("shift_lead", "--no-service")
                assert code == 1 and "may not sign audit review notes" in err, err
                # Refused before the personal key is unlocked: with the key file away
                # the refusal is still the role's, not a missing key.
                key.rename(away := key.with_suffix(".away"))
                code, err = await review("shift_lead", "--no-service")
                away.rename(key)
                assert code == 1 and "may not sign audit review notes" in err, err
            async with ServiceClient(path, role="engineer") as engineer:
                with pytest.raises(ServiceError, match="may not read the audit log"):
                    await engineer.audit()
            assert notes() == []
        # The site names engineers reviewers too; an administrator signs the file (a
        # change that widens the shipped policy).
        (home / "policies").mkdir(exist_ok=True)
        (home / "policies" / "audit.toml").write_text(SITE_POLICY, encoding="utf-8")
        sign_site_policies(home, site.admin)

    async with scripted_runtime(home, live_plant.endpoint, HeldModel(),
                                passphrase=SITE_PASSPHRASE) as runtime, running_service(runtime):
        async with ServiceClient(path, role="engineer") as engineer:
            page = await engineer.audit(size=2)
            assert len(page.records) == 2
            found = await engineer.review(1, 2, "reviewed", "read through the service",
                                          sign=own_signer(key))
            assert found["actor"] == "Eve Eng" and found["role"] == "engineer"
        with pytest.MonkeyPatch.context() as local:
            local.setenv("PLANTAGENT_PASSPHRASE", SITE_PASSPHRASE)
            code = await asyncio.to_thread(main, [
                "--home", str(home), "audit", "review", "--no-service", "--seq", "2",
                "--verdict", "reviewed", "--note", "checked in process", "--role",
                "engineer", "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert json.loads(out)["role"] == "engineer"
        # Still not a shift lead's.
        code, err = await review("shift_lead")
        assert code == 1 and "reviewer roles are auditor, engineer" in err, err
        records = runtime.audit.search(kind="review_note")
        assert [(r.actor, r.role, r.payload["note"]) for r in records] == [
            ("Eve Eng", "engineer", "read through the service"),
            ("Eve Eng", "engineer", "checked in process")]
        assert runtime.audit.verify().ok
