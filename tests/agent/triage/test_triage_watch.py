"""`plantagent triage watch`: stops cleanly on SIGTERM/SIGINT, and a restart does not
report the same incident again (the keys are in the site)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

from .triage_testing import WAIT_S, faulted_plant


async def _watch_until(site_home: Path, endpoint: str, line: str, sig: int) -> tuple[int, str]:
    """Run the watcher until stderr shows ``line``, send ``sig``; (exit code, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PLANTAGENT_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from agent.cli import main; sys.exit(main())",
        "--home", str(site_home), "triage", "watch", "--endpoint", endpoint, "--no-model",
        "--interval", "0.5", stderr=asyncio.subprocess.PIPE, env=env,
    )
    assert proc.stderr is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(WAIT_S * 2):
            while True:
                raw = await proc.stderr.readline()
                assert raw, "the watcher ended early: " + "".join(seen)
                seen.append(raw.decode())
                if line in seen[-1]:
                    break
        proc.send_signal(sig)
        rest = await asyncio.wait_for(proc.stderr.read(), WAIT_S)
        code = await asyncio.wait_for(proc.wait(), WAIT_S)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return code, "".join(seen) + rest.decode()


async def test_triage_watch_stops_cleanly_and_restarts_without_duplicates(site_home: Path) -> None:
    async with faulted_plant([("conveyor_jam", "CV-101", 60.0)]) as plant:
        code, first = await _watch_until(site_home, plant.endpoint, "pass: 1 new report(s)",
                                         signal.SIGTERM)
        assert code == 0, first
        made = re.search(r"stopped; (\d+) report\(s\) this run", first)
        assert made is not None and int(made.group(1)) >= 1, first
        code, second = await _watch_until(site_home, plant.endpoint, "known", signal.SIGINT)
    assert code == 0, second
    assert "stopped; 0 report(s) this run" in second
