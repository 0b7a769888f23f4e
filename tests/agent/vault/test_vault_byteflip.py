"""Any single byte flipped anywhere in any site database at rest is detected: the next
open refuses it (its digest no longer matches its recorded head), whether the byte sits
in a b-tree page, a free page, the header or the reserved bytes of a page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.errors import IntegrityError
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from agent.vault.layout import SITE_DATABASES, database_path
from harness.sites import populated_site


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One site with data in every database, closed cleanly (copied per example)."""
    return populated_site(tmp_path_factory.mktemp("flip") / "site")


def _open(home: Path, name: str) -> None:
    with SiteRuntime(load_settings(home=home)) as runtime:
        runtime.site.database(name)


@pytest.mark.parametrize("name", SITE_DATABASES)
def test_every_database_is_there_and_opens_untouched(template: Path, name: str,
                                                     tmp_path: Path) -> None:
    home = tmp_path / "copy"
    shutil.copytree(template, home)
    assert database_path(home, name).stat().st_size > 8192
    _open(home, name)


@pytest.mark.parametrize("name", SITE_DATABASES)
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.floats(0, 1, exclude_max=True), bit=st.integers(0, 7))
def test_a_flipped_byte_anywhere_is_refused(template: Path, tmp_path: Path, name: str,
                                            position: float, bit: int) -> None:
    home = tmp_path / f"copy-{name}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home)
    path = database_path(home, name)
    data = bytearray(path.read_bytes())
    offset = int(position * len(data))
    data[offset] ^= 1 << bit
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError) as refused:
        _open(home, name)
    assert path.name in str(refused.value)
