"""The installer's one error: a message, the fix, and the exit code."""

from __future__ import annotations


class InstallError(Exception):
    """Why the install stopped, what fixes it, and the exit code (1 refused, 2 usage)."""

    def __init__(self, message: str, *, fix: str | None = None, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.code = code
