"""What the policy and approval packages may not pull in (their READMEs say why)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("agent.policy", ["terminal_ui", "llama_cpp", "asyncua", "apsw", "agent.approvals"]),
        ("agent.approvals", ["terminal_ui", "llama_cpp"]),
        ("tools.fixes", ["terminal_ui", "llama_cpp", "agent.approvals"]),
    ],
)
def test_imports_stay_inside_their_boundary(package: str, forbidden: list[str]) -> None:
    code = (f"import sys, {package}; "
            f"print(','.join(m for m in {forbidden!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
