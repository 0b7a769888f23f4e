"""The policy refuses a model without a passing qualification when it says so, before
the model is loaded, naming the command that fixes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import ModelError
from agent.llm.scripted import ScriptedModel
from agent.qualification.attest import attest
from agent.qualification.record import QualificationRecord
from agent.qualification.store import QualificationStore
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from plant.server import DemoPlantServer
from tests.support.sites import PASSPHRASE

from .qualify_helpers import qualify_record, write_site_policy

pytestmark = pytest.mark.asyncio(loop_scope="module")
SCRIPTED_SHA = "0" * 64  # ScriptedModel's identity
REQUIRE = "[qualification]\nrequire_qualified = true\n"


async def _open(home: Path, plant: DemoPlantServer, model: ScriptedModel | None) -> None:
    settings = load_settings(home=home, model={"directory": str(home / "no-models")})
    async with SiteRuntime(settings, endpoint=plant.endpoint, model=model,
                           passphrase=PASSPHRASE) as runtime:
        agent = await runtime.agent()
        assert agent.deps.model is model


async def test_default_policy_runs_an_unqualified_model(
    qualify_home: Path, qualify_plant: DemoPlantServer
) -> None:
    await _open(qualify_home, qualify_plant, ScriptedModel())


async def test_required_and_never_qualified_is_refused_with_the_fix(
    qualify_home: Path, qualify_plant: DemoPlantServer
) -> None:
    write_site_policy(qualify_home, REQUIRE)
    with pytest.raises(ModelError) as err:
        await _open(qualify_home, qualify_plant, ScriptedModel())
    assert "never been qualified" in err.value.message
    assert err.value.fix is not None and "plantagent models qualify scripted" in err.value.fix


def _save(home: Path, record: QualificationRecord) -> None:
    """As `plantagent models qualify` keeps a record: the file, and its digest in the
    site's audit log."""
    QualificationStore(home).save(record)
    with SiteRuntime(load_settings(home=home), passphrase=PASSPHRASE,
                     audit_options={"export_dir": None}) as runtime:
        attest(runtime.audit, record, actor="qualifier")


async def test_required_and_not_qualified_names_the_failed_criteria(
    qualify_home: Path, qualify_plant: DemoPlantServer
) -> None:
    write_site_policy(qualify_home, REQUIRE)
    _save(qualify_home,
          qualify_record("scripted", SCRIPTED_SHA, answer_rate=0.25, qualified=False))
    with pytest.raises(ModelError) as err:
        await _open(qualify_home, qualify_plant, ScriptedModel())
    assert "NOT qualified" in err.value.message and "answer_rate 0.25" in err.value.message


async def test_required_and_qualified_runs(
    qualify_home: Path, qualify_plant: DemoPlantServer
) -> None:
    write_site_policy(qualify_home, REQUIRE)
    _save(qualify_home, qualify_record("scripted", SCRIPTED_SHA))
    await _open(qualify_home, qualify_plant, ScriptedModel())


async def test_a_hand_written_or_edited_record_does_not_qualify(
    qualify_home: Path, qualify_plant: DemoPlantServer
) -> None:
    write_site_policy(qualify_home, REQUIRE)
    # A four-line JSON file claiming the model passed: never recorded in the audit log.
    forged = qualify_record("scripted", SCRIPTED_SHA)
    QualificationStore(qualify_home).save(forged)
    with pytest.raises(ModelError, match="not the one the audit log holds") as err:
        await _open(qualify_home, qualify_plant, ScriptedModel())
    assert err.value.fix and "plantagent models qualify" in err.value.fix
    # A failed run, edited afterwards to say it passed.
    failed = qualify_record("scripted", SCRIPTED_SHA, answer_rate=0.25, qualified=False)
    _save(qualify_home, failed)
    edited = QualificationStore(qualify_home)._record_path(SCRIPTED_SHA)
    edited.write_text(forged.model_dump_json(), encoding="utf-8")
    with pytest.raises(ModelError, match="not the one the audit log holds"):
        await _open(qualify_home, qualify_plant, ScriptedModel())


async def test_refused_before_the_model_file_is_even_looked_for(
    qualify_home: Path, qualify_plant: DemoPlantServer
) -> None:
    # The models directory is empty: loading would fail with "missing"; the policy's
    # refusal comes first, naming the default model by its manifest sha256.
    write_site_policy(qualify_home, REQUIRE)
    with pytest.raises(ModelError) as err:
        await _open(qualify_home, qualify_plant, None)
    assert "qwen2.5-coder-0.5b-instruct-q4_k_m (sha256 1d9614638d18)" in err.value.message
