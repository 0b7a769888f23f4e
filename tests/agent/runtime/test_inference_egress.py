"""An inference server off loopback must be in the site's allowlist: refused up front with
the fix named (the guard refuses each connection anyway)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.runtime.egress import check_inference_egress
from agent.settings import Settings, load_settings
from agent.vault.egress import EgressPolicy


def _settings(tmp_path: Path, url: str, backend: str = "openai") -> Settings:
    return load_settings(home=tmp_path, model={"backend": backend, "openai_base_url": url})


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/v1", "http://localhost:8080/v1",
                                 "http://[::1]:8080/v1", "http://10.20.0.5:8000/v1"])
def test_loopback_and_allowlisted_servers_pass(tmp_path: Path, url: str) -> None:
    check_inference_egress(_settings(tmp_path, url), EgressPolicy.from_allowlist(["10.20.0.0/16"]))


@pytest.mark.parametrize("url", ["http://10.30.0.5:8000/v1", "http://gpu.example.com/v1"])
def test_other_servers_are_refused_with_the_allowlist_named(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="not in the network allowlist") as info:
        check_inference_egress(_settings(tmp_path, url),
                               EgressPolicy.from_allowlist(["10.20.0.0/16"]))
    assert "[network] allowlist" in str(info.value.fix)
    # The in-process backend reaches no server: nothing to check.
    check_inference_egress(_settings(tmp_path, url, "llama_cpp"), EgressPolicy.from_allowlist([]))
