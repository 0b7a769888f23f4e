"""The GGUF header reader and layout check: whole files pass, cut, padded, shifted or
foreign files are refused with the reason; and `plantagent models inspect`."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from agent.cli import main
from agent.errors import ModelError
from agent.llm.gguf_layout import check_layout, read_header
from agent.llm.registry import build_manifest

from .llm_helpers import TINY_TENSORS, make_gguf

WHOLE = make_gguf(TINY_TENSORS, context_length=4096)


def _file(tmp_path: Path, data: bytes, name: str = "m.gguf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_whole_file_passes_and_its_header_is_read(tmp_path: Path) -> None:
    header = check_layout(_file(tmp_path, WHOLE))
    assert header.architecture == "llama" and header.context_length == 4096
    assert header.file_type == "Q4_K_M" and header.chat_template == "{{ messages }}"
    assert [t.type_name for t in header.tensors] == ["F32", "Q8_0", "Q4_K"]
    assert header.parameters == 64 + 64 * 8 + 256 * 4
    assert header.array_lengths == {"tokenizer.ggml.tokens": 3}
    assert header.data_offset + header.data_size == len(WHOLE)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (WHOLE[:-100], f"tensors end at byte {len(WHOLE):,} (-100 bytes)"),  # last part out
        (WHOLE + b"\0" * 64, "(+"),  # a part too many
        (b"PK\x03\x04" + WHOLE[4:], "not b'GGUF'"),  # a wheel, not its member
        (WHOLE[:200], "the header ends early"),  # only the start of the first part
    ],
    ids=["cut", "padded", "foreign", "header-only"],
)
def test_cut_padded_and_foreign_files_are_refused(tmp_path: Path, data: bytes,
                                                  reason: str) -> None:  # fmt: skip
    with pytest.raises(ModelError, match="is not a whole GGUF model file") as info:
        check_layout(_file(tmp_path, data))
    assert reason in info.value.message
    assert "plantagent models fetch" in str(info.value.fix)


def test_absurd_counts_are_refused_without_allocating(tmp_path: Path) -> None:
    data = b"GGUF" + struct.pack("<IQQ", 3, 1 << 40, 0)
    with pytest.raises(ModelError, match="claims 1,099,511,627,776 tensors"):
        read_header(_file(tmp_path, data))


def test_a_shifted_tensor_is_refused(tmp_path: Path) -> None:
    # Rewrite the offset of the second tensor: the file size still matches, the layout not.
    header = read_header(_file(tmp_path, WHOLE))
    name = b"blk.0.q.weight"
    at = WHOLE.index(name) + len(name) + 4 + 2 * 8 + 4  # n_dims, two dims, type
    shifted = WHOLE[:at] + struct.pack("<Q", header.tensors[1].offset + 32) + WHOLE[at + 8 :]
    with pytest.raises(ModelError, match=r"blk\.0\.q\.weight starts at data offset"):
        check_layout(_file(tmp_path, shifted))


def test_inspect_prints_an_entry_that_the_manifest_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, WHOLE, "Tiny-Model.Q4_K_M.gguf")
    assert main(["--home", str(tmp_path), "models", "inspect", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "tiny-model.q4_k_m" and data["size"] == len(WHOLE)
    assert data["tensor_types"] == {"F32": 1, "Q8_0": 1, "Q4_K": 1}
    manifest = build_manifest([(data["entry"], "inspect")])
    entry = manifest.get("tiny-model.q4_k_m")
    assert entry.context_length == 4096 and entry.chat_format == "gguf"
    assert entry.sha256 == data["sha256"]
    assert main(["models", "inspect", str(_file(tmp_path, WHOLE[:-1], "cut.gguf"))]) == 2
    assert "not a whole GGUF model file" in capsys.readouterr().err
