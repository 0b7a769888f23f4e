"""Where qualification records live: ``$PLANTAGENT_HOME/qualification/``.

``records/<sha256>.json`` is the newest record of each model file (what the policy gate
reads); ``history.jsonl`` lists every run in order (what "the last qualified model" is
taken from); each run's report files go to ``runs/<model>-<start>/`` unless the caller
names another directory.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from agent.errors import ConfigError
from agent.qualification.record import QualificationRecord

STORE_DIR_NAME = "qualification"


class QualificationStore:
    """The records of one site (plain files: they hold no plant data)."""

    def __init__(self, home: Path) -> None:
        self.root = home / STORE_DIR_NAME

    def run_dir(self, record: QualificationRecord) -> Path:
        """The default directory of a run's report files."""
        stamp = re.sub(r"[^0-9A-Za-z]", "", record.started)
        return self.root / "runs" / f"{record.model}-{stamp}"

    def _record_path(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ConfigError(f"{sha256!r} is not a sha256", fix="pass the model file's sha256")
        return self.root / "records" / f"{sha256}.json"

    def save(self, record: QualificationRecord) -> Path:
        """Keep ``record`` as its model's newest and append it to the history."""
        path = self._record_path(record.sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(record.model_dump_json(indent=2), encoding="utf-8")
        with (self.root / "history.jsonl").open("a", encoding="utf-8") as out:
            out.write(record.model_dump_json() + "\n")
        return path

    def for_sha(self, sha256: str) -> QualificationRecord | None:
        """The newest record of the model file ``sha256``, or None."""
        path = self._record_path(sha256)
        if not path.is_file():
            return None
        return self._parse(path.read_text(encoding="utf-8"), path)

    def history(self) -> list[QualificationRecord]:
        """Every run, oldest first."""
        path = self.root / "history.jsonl"
        if not path.is_file():
            return []
        lines = path.read_text(encoding="utf-8").splitlines()
        return [self._parse(line, path) for line in lines if line.strip()]

    def last_qualified(self, *, excluding: str | None = None) -> QualificationRecord | None:
        """The newest qualified run, optionally of another model file than ``excluding``
        (a re-run of the same file compares with the last other model that passed, then
        with its own last pass)."""
        passed = [r for r in self.history() if r.qualified]
        other = [r for r in passed if r.sha256 != excluding]
        chosen = other or passed
        return chosen[-1] if chosen else None

    @staticmethod
    def _parse(text: str, path: Path) -> QualificationRecord:
        try:
            return QualificationRecord.model_validate_json(text)
        except ValidationError as exc:
            raise ConfigError(
                f"the qualification record {path} is unreadable: {exc.errors()[0]['msg']}",
                fix=f"remove {path} and run `plantagent models qualify` again",
            ) from None
